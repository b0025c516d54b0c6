#include "converter/sharpen/network.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace grindstone::sharpen {

void Network::add(std::unique_ptr<TrainableLayer> layer) {
  require_input(layer->input_shape().size() == output_shape().size(), "layer '" + layer->name() + "'",
                "input_shape: " + layer->input_shape().to_string() + " does not match the previous output " +
                    output_shape().to_string());
  layers_.push_back(std::move(layer));
}

const Batch& Network::forward(const Batch& input, const StepContext& ctx) {
  require_input(input.cols() == input_shape_.size(), "network input",
                "expected " + std::to_string(input_shape_.size()) + " features per sample, got " +
                    std::to_string(input.cols()));
  input_ = &input;
  outputs_.resize(layers_.size());
  const Batch* current = &input;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(*current, outputs_[i], ctx);
    current = &outputs_[i];
  }
  return *current;
}

void Network::backward(const Batch& grad_output) {
  if (input_ == nullptr || outputs_.size() != layers_.size()) throw InternalError("Network::backward without forward");
  const Batch* grad = &grad_output;
  for (std::size_t k = layers_.size(); k-- > 0;) {
    const Batch& in = k == 0 ? *input_ : outputs_[k - 1];
    Batch* grad_in = nullptr;
    if (k > 0) grad_in = (grad == &grad_a_) ? &grad_b_ : &grad_a_;
    layers_[k]->backward(in, outputs_[k], *grad, grad_in);
    if (grad_in) grad = grad_in;
  }
}

std::vector<Parameter> Network::parameters() {
  std::vector<Parameter> all;
  for (auto& layer : layers_)
    for (auto& p : layer->parameters()) all.push_back(p);
  return all;
}

std::vector<SpikingBReluLayer*> Network::spiking_layers() {
  std::vector<SpikingBReluLayer*> spiking;
  for (auto& layer : layers_)
    if (auto* s = dynamic_cast<SpikingBReluLayer*>(layer.get())) spiking.push_back(s);
  return spiking;
}

void Network::set_sharpness(const std::vector<double>& values) {
  auto spiking = spiking_layers();
  if (values.size() != spiking.size()) throw InternalError("set_sharpness: wrong number of values");
  for (std::size_t i = 0; i < values.size(); ++i) spiking[i]->sharpness = static_cast<float>(values[i]);
}

std::vector<double> Network::sharpness() const {
  std::vector<double> values;
  for (const auto& layer : layers_)
    if (const auto* s = dynamic_cast<const SpikingBReluLayer*>(layer.get())) values.push_back(s->sharpness);
  return values;
}

std::vector<int> Network::predict(const Batch& inputs, Eigen::Index block) {
  std::vector<int> predicted(static_cast<std::size_t>(inputs.rows()));
  StepContext ctx;
  Batch chunk;
  for (Eigen::Index first = 0; first < inputs.rows(); first += block) {
    const Eigen::Index count = std::min(block, inputs.rows() - first);
    chunk = inputs.middleRows(first, count);
    const Batch& scores = forward(chunk, ctx);
    for (Eigen::Index r = 0; r < count; ++r) {
      Eigen::Index best = 0;
      scores.row(r).maxCoeff(&best);
      predicted[static_cast<std::size_t>(first + r)] = static_cast<int>(best);
    }
  }
  input_ = nullptr;
  return predicted;
}

namespace {

struct Entry {
  std::string name, keras_class;
  ann::LayerParams params;
  Shape output_shape;
};

/// Per-channel affine form of an inference BatchNorm: y = scale·x + shift.
void batch_norm_affine(const ann::BatchNorm& bn, ann::Vector& scale, ann::Vector& shift) {
  scale = (bn.gamma.array() / (bn.moving_variance.array() + bn.epsilon).sqrt()).matrix();
  shift = bn.beta - bn.moving_mean.cwiseProduct(scale);
}

/// Folds BN into the weighted layer before it (its pre-activation output).
bool fold_backward(Entry& weighted, const ann::BatchNorm& bn) {
  ann::Vector scale, shift;
  batch_norm_affine(bn, scale, shift);
  auto apply = [&](ann::Matrix& kernel, ann::Vector& bias, bool& use_bias) {
    if (kernel.cols() != scale.size()) return false;
    kernel = kernel * scale.asDiagonal();
    // Keras: b' = γ(b − μ)/sqrt(var + ε) + β = scale·b + shift.
    bias = scale.cwiseProduct(bias) + shift;
    use_bias = true;
    return true;
  };
  if (auto* d = std::get_if<ann::Dense>(&weighted.params)) return apply(d->kernel, d->bias, d->use_bias);
  if (auto* c = std::get_if<ann::Conv2D>(&weighted.params)) return apply(c->kernel, c->bias, c->use_bias);
  return false;
}

/// Folds BN into the weighted layer after it (BN transforms that layer's input): kernel row r is
/// scaled by the scale of its input channel and the shift moves into the bias. Exact for Dense
/// and for Conv2D without padding.
bool fold_forward(Entry& weighted, const ann::BatchNorm& bn) {
  ann::Vector scale, shift;
  batch_norm_affine(bn, scale, shift);
  const Eigen::Index channels = scale.size();
  auto apply = [&](ann::Matrix& kernel, ann::Vector& bias, bool& use_bias, Eigen::Index channel_period) {
    if (kernel.rows() % channels != 0) return false;
    ann::Vector row_scale(kernel.rows()), row_shift(kernel.rows());
    for (Eigen::Index r = 0; r < kernel.rows(); ++r) {
      row_scale(r) = scale(r % channel_period);
      row_shift(r) = shift(r % channel_period);
    }
    bias += (row_shift.transpose() * kernel).transpose();
    kernel = row_scale.asDiagonal() * kernel;
    use_bias = true;
    return true;
  };
  if (auto* d = std::get_if<ann::Dense>(&weighted.params)) return apply(d->kernel, d->bias, d->use_bias, channels);
  if (auto* c = std::get_if<ann::Conv2D>(&weighted.params)) {
    if (c->padding != ann::Padding::Valid || c->in_channels != channels) return false;
    return apply(c->kernel, c->bias, c->use_bias, channels);
  }
  return false;
}

bool is_weighted(const Entry& e) {
  return std::holds_alternative<ann::Dense>(e.params) || std::holds_alternative<ann::Conv2D>(e.params);
}

}  // namespace

ann::Model Network::to_ann_model(const std::string& name, bool fold_batch_norm) const {
  std::vector<Entry> entries;
  for (const auto& layer : layers_) {
    auto params = layer->to_ann();
    if (std::holds_alternative<ann::Identity>(params)) continue;  // Dropout: identity at inference
    entries.push_back({layer->name(), layer->keras_class(), std::move(params), layer->output_shape()});
  }
  if (fold_batch_norm) {
    for (std::size_t k = 0; k < entries.size();) {
      const auto* bn = std::get_if<ann::BatchNorm>(&entries[k].params);
      if (!bn) {
        ++k;
        continue;
      }
      bool folded = false;
      if (k > 0 && is_weighted(entries[k - 1])) {
        folded = fold_backward(entries[k - 1], *bn);
      } else {
        std::size_t next = k + 1;
        while (next < entries.size() && std::holds_alternative<ann::Flatten>(entries[next].params)) ++next;
        if (next < entries.size() && is_weighted(entries[next])) folded = fold_forward(entries[next], *bn);
      }
      if (folded) {
        entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(k));
      } else {
        ++k;
      }
    }
  }
  ann::Model model;
  model.name = name;
  model.source.format = "grindstone";
  ann::Layer input;
  input.name = "input_1";
  input.keras_class = "InputLayer";
  input.params = ann::InputLayer{};
  input.output_shape = input_shape_;
  model.layers.push_back(std::move(input));
  for (auto& e : entries) {
    ann::Layer layer;
    layer.name = e.name;
    layer.keras_class = e.keras_class;
    layer.params = std::move(e.params);
    layer.inputs = {static_cast<int>(model.layers.size()) - 1};
    layer.output_shape = e.output_shape;
    model.layers.push_back(std::move(layer));
  }
  model.output = static_cast<int>(model.layers.size()) - 1;
  return model;
}

std::string LayerNamer::next(const std::string& base) {
  std::string candidate = base;
  for (int n = 1; std::find(used_.begin(), used_.end(), candidate) != used_.end(); ++n)
    candidate = base + "_" + std::to_string(n);
  used_.push_back(candidate);
  return candidate;
}

void LayerNamer::reserve(const std::string& name) { used_.push_back(name); }

}  // namespace grindstone::sharpen
