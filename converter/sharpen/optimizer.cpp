#include "converter/sharpen/optimizer.hpp"

#include <cmath>

#include "common/error.hpp"

namespace grindstone::sharpen {

OptimizerKind OptimizerConfig::parse_kind(const std::string& name) {
  if (name == "adam") return OptimizerKind::Adam;
  if (name == "adadelta") return OptimizerKind::Adadelta;
  if (name == "sgd") return OptimizerKind::Sgd;
  throw InputError("--optimizer: '" + name + "' is not one of adam, adadelta, sgd");
}

double OptimizerConfig::effective_learning_rate() const {
  if (learning_rate >= 0.0) return learning_rate;
  switch (kind) {
    case OptimizerKind::Adam: return 0.001;
    case OptimizerKind::Adadelta: return 1.0;
    case OptimizerKind::Sgd: return 0.01;
  }
  return 0.001;
}

void Optimizer::step(const std::vector<Parameter>& parameters) {
  if (slot_a_.empty()) {
    for (const auto& p : parameters) {
      slot_a_.emplace_back(static_cast<std::size_t>(p.size), 0.0f);
      slot_b_.emplace_back(static_cast<std::size_t>(p.size), 0.0f);
    }
  }
  if (slot_a_.size() != parameters.size()) throw InternalError("Optimizer::step: parameter list changed");
  ++iterations_;
  const auto lr = static_cast<float>(config_.effective_learning_rate());
  const auto eps = static_cast<float>(config_.epsilon);
  // Adam's bias correction folded into the step size, as Keras: lr_t = lr·sqrt(1−β2^t)/(1−β1^t).
  const double t = static_cast<double>(iterations_);
  const auto adam_lr = static_cast<float>(config_.effective_learning_rate() * std::sqrt(1.0 - std::pow(config_.beta_2, t)) /
                                          (1.0 - std::pow(config_.beta_1, t)));
  const auto b1 = static_cast<float>(config_.beta_1), b2 = static_cast<float>(config_.beta_2);
  const auto rho = static_cast<float>(config_.rho), mom = static_cast<float>(config_.momentum);
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    const Parameter& p = parameters[k];
    if (!p.gradient) continue;
    if (static_cast<Eigen::Index>(slot_a_[k].size()) != p.size) throw InternalError("Optimizer::step: size changed");
    float* a = slot_a_[k].data();
    float* b = slot_b_[k].data();
    for (Eigen::Index i = 0; i < p.size; ++i) {
      const float g = p.gradient[i];
      switch (config_.kind) {
        case OptimizerKind::Adam:
          a[i] = b1 * a[i] + (1.0f - b1) * g;
          b[i] = b2 * b[i] + (1.0f - b2) * g * g;
          p.value[i] -= adam_lr * a[i] / (std::sqrt(b[i]) + eps);
          break;
        case OptimizerKind::Adadelta: {
          a[i] = rho * a[i] + (1.0f - rho) * g * g;
          const float update = g * std::sqrt(b[i] + eps) / std::sqrt(a[i] + eps);
          p.value[i] -= lr * update;
          b[i] = rho * b[i] + (1.0f - rho) * update * update;
          break;
        }
        case OptimizerKind::Sgd:
          a[i] = mom * a[i] - lr * g;
          p.value[i] += a[i];
          break;
      }
    }
  }
}

}  // namespace grindstone::sharpen
