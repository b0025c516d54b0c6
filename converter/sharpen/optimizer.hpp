#pragma once
// Keras 2 optimisers (same update formulas and defaults as keras/optimizers.py of Keras 2.1).
#include <cstdint>
#include <string>
#include <vector>

#include "converter/sharpen/layers.hpp"

namespace grindstone::sharpen {

enum class OptimizerKind { Adam, Adadelta, Sgd };

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::Adam;
  /// Learning rate; < 0 means Keras's default (Adam 0.001, Adadelta 1.0, SGD 0.01).
  double learning_rate = -1.0;
  double beta_1 = 0.9, beta_2 = 0.999;  ///< Adam
  double rho = 0.95;                    ///< Adadelta
  double momentum = 0.9;                ///< SGD (Keras's default is 0; we default to 0.9)
  double epsilon = 1e-7;                ///< Keras's K.epsilon()

  /// "adam" | "adadelta" | "sgd"; InputError naming --optimizer otherwise.
  static OptimizerKind parse_kind(const std::string& name);
  double effective_learning_rate() const;
};

class Optimizer {
 public:
  explicit Optimizer(OptimizerConfig config) : config_(config) {}
  /// Applies one update to every parameter that has a gradient. The parameter list must be the
  /// same (same order and sizes) at every call.
  void step(const std::vector<Parameter>& parameters);
  std::int64_t iterations() const { return iterations_; }

 private:
  OptimizerConfig config_;
  std::int64_t iterations_ = 0;
  std::vector<std::vector<float>> slot_a_, slot_b_;  ///< Adam m/v, Adadelta accumulators, SGD velocity
};

}  // namespace grindstone::sharpen
