#include "converter/passes/ann_to_mac.hpp"

#include <algorithm>
#include <limits>

#include "common/error.hpp"
#include "converter/ann/inference.hpp"
#include "converter/ann/layer_ops.hpp"
#include "converter/passes/ann_passes.hpp"
#include "datasets/encoding.hpp"
#include "snn_runtime/spinnaker2/quantise.hpp"

namespace grindstone::passes {

namespace {

using snn::s2::AnnProgram;
using snn::s2::AnnStep;

std::string context_of(const ann::Layer& l) { return "spinnaker2 --s2-mode ann: layer '" + l.name + "'"; }

hw::s2::Conv2dGeometry geometry_of(const ann::Conv2D& c, const Shape& in, const Shape& out) {
  hw::s2::Conv2dGeometry g;
  g.in_h = in[0], g.in_w = in[1], g.in_channels = in[2], g.out_channels = c.filters;
  g.kernel_h = c.kernel_h, g.kernel_w = c.kernel_w, g.stride_h = c.stride_h, g.stride_w = c.stride_w;
  g.dilation_h = c.dilation_h, g.dilation_w = c.dilation_w, g.out_h = out[0], g.out_w = out[1];
  if (c.padding == ann::Padding::Same) {
    g.pad_top = ann::same_padding(g.in_h, g.out_h, c.kernel_h, c.stride_h, c.dilation_h).before;
    g.pad_left = ann::same_padding(g.in_w, g.out_w, c.kernel_w, c.stride_w, c.dilation_w).before;
  }
  return g;
}

// An activation folds into the MAC step before it: ReLU into its write-out (and its output range
// becomes the step's); linear and the final softmax change no argmax.
void fold_activation(AnnLowering& lowering, const ann::Layer& l, int index) {
  const auto& a = l.as<ann::Activation>();
  auto& steps = lowering.program.steps;
  require_input(!steps.empty() && steps.back().kind == AnnStep::Kind::Mac, context_of(l),
                "an activation must follow a dense or conv layer");
  if (a.kind == ann::ActivationKind::ReLU) {
    require_input(!a.relu_max_value && a.relu_negative_slope == 0 && a.relu_threshold == 0, context_of(l),
                  "only plain ReLU is supported");
    steps.back().write_out.relu = true;
    lowering.range_layer_of_step.back() = index;
    return;
  }
  require_input(a.kind == ann::ActivationKind::Softmax || a.kind == ann::ActivationKind::Linear, context_of(l),
                "activation is not ReLU, linear or a final softmax");
}

// The step of one non-activation layer; false when the layer lowers to nothing (an HWC flatten
// leaves the memory order as it is).
bool lower_layer(const ann::Layer& l, const Shape& in, AnnStep& s) {
  const std::string ctx = context_of(l);
  s.name = l.name;
  s.in_shape = in;
  s.out_shape = l.output_shape;
  if (l.is<ann::Dense>()) {
    require_input(in.rank() == 1, ctx, "dense layers must follow a flatten");
    s.k = l.as<ann::Dense>().kernel.rows();
    s.n = l.as<ann::Dense>().kernel.cols();
  } else if (l.is<ann::Conv2D>()) {
    const auto& c = l.as<ann::Conv2D>();
    require_input(in.rank() == 3, ctx, "conv input must be (height, width, channels)");
    s.conv = true;
    s.geometry = geometry_of(c, in, l.output_shape);
    s.k = c.kernel.rows();
    s.n = c.kernel.cols();
  } else if (l.is<ann::Pool2D>()) {
    const auto& p = l.as<ann::Pool2D>();
    require_input(p.kind == ann::PoolKind::Max, ctx, "only max pooling runs on the ARM cores");
    require_input(in.rank() == 3, ctx, "pooling input must be (height, width, channels)");
    s.kind = AnnStep::Kind::MaxPool;
    s.pool_h = p.pool_h, s.pool_w = p.pool_w, s.stride_h = p.stride_h, s.stride_w = p.stride_w;
    if (p.padding == ann::Padding::Same) {
      s.pad_top = ann::same_padding(in[0], l.output_shape[0], p.pool_h, p.stride_h, 1).before;
      s.pad_left = ann::same_padding(in[1], l.output_shape[1], p.pool_w, p.stride_w, 1).before;
    }
  } else if (l.is<ann::Flatten>()) {
    if (l.as<ann::Flatten>().order == ann::Flatten::Order::HWC || in.rank() != 3) return false;
    s.kind = AnnStep::Kind::FlattenChw;
  } else {
    throw InputError(ctx + ": class '" + l.keras_class + "' is not supported on the MAC arrays");
  }
  return true;
}

const ann::Matrix& kernel_of(const ann::Layer& l) {
  return l.is<ann::Dense>() ? l.as<ann::Dense>().kernel : l.as<ann::Conv2D>().kernel;
}
const ann::Vector& bias_of(const ann::Layer& l) { return l.is<ann::Dense>() ? l.as<ann::Dense>().bias : l.as<ann::Conv2D>().bias; }

// The write-out of the last MAC step: raw accumulators + bias are the int32 scores.
void scores_write_out(hw::s2::WriteOut& w) {
  w.multiplier = 1;
  w.shift = 0;
  w.clamp_min = std::numeric_limits<std::int32_t>::min();
  w.clamp_max = std::numeric_limits<std::int32_t>::max();
  w.bytes_per_value = 4;
}

}  // namespace

AnnLowering lower_ann_to_mac(const ann::Model& model) {
  AnnLowering lowering;
  for (std::size_t li = 0; li < model.layers.size(); ++li) {
    const ann::Layer& l = model.layers[li];
    if (l.is<ann::InputLayer>() || l.is<ann::Identity>()) continue;
    require_input(l.inputs.size() == 1, context_of(l), "only chains of layers are supported");
    if (l.is<ann::Activation>()) {
      fold_activation(lowering, l, static_cast<int>(li));
      continue;
    }
    AnnStep s;
    if (!lower_layer(l, model.layers[static_cast<std::size_t>(l.inputs[0])].output_shape, s)) continue;
    lowering.program.steps.push_back(std::move(s));
    lowering.layer_of_step.push_back(static_cast<int>(li));
    lowering.range_layer_of_step.push_back(static_cast<int>(li));
  }
  auto& steps = lowering.program.steps;
  const auto last = std::find_if(steps.rbegin(), steps.rend(), [](const AnnStep& s) { return s.kind == AnnStep::Kind::Mac; });
  require_input(last != steps.rend(), "spinnaker2 --s2-mode ann", "the model has no dense or conv layer");
  last->last = true;
  return lowering;
}

std::vector<float> activation_maxima(const ann::Model& model, const datasets::Dataset& calibration) {
  require_input(calibration.size() > 0, "spinnaker2 --s2-mode ann", "no calibration images");
  const ann::ReferenceInference reference(model);
  const auto outputs = reference.layer_outputs(datasets::encode_all(calibration, datasets::InputEncoding::Real));
  std::vector<float> layer_max;
  for (const auto& o : outputs) layer_max.push_back(o.size() ? o.maxCoeff() : 0.0f);
  return layer_max;
}

void quantise_ann_program(AnnLowering& lowering, const ann::Model& model, const std::vector<float>& layer_max,
                          const std::string& calibration) {
  require_input(layer_max.size() == model.layers.size(), "spinnaker2 --s2-mode ann", "one activation maximum per layer is needed");
  auto& steps = lowering.program.steps;
  double in_scale = 255.0;  // first layer: raw pixels = 255 · (pixel / 255)
  for (std::size_t i = 0; i < steps.size(); ++i) {
    AnnStep& s = steps[i];
    if (s.kind != AnnStep::Kind::Mac) continue;
    const ann::Layer& l = model.layers[static_cast<std::size_t>(lowering.layer_of_step[i])];
    const ann::Matrix& kernel = kernel_of(l);
    std::vector<double> w(static_cast<std::size_t>(s.k * s.n));
    for (std::int64_t r = 0; r < s.k; ++r)
      for (std::int64_t c = 0; c < s.n; ++c) w[static_cast<std::size_t>(r * s.n + c)] = kernel(r, c);
    const snn::s2::Int8Weights q = snn::s2::quantise_int8(w, s.k, s.n, snn::s2::ScaleGroup::Tensor);
    s.weights = q.values;
    const double acc_scale = in_scale * q.scales[0];
    const ann::Vector& bias = bias_of(l);
    s.write_out.bias.resize(static_cast<std::size_t>(s.n));
    for (std::int64_t c = 0; c < s.n; ++c)
      s.write_out.bias[static_cast<std::size_t>(c)] = snn::s2::round_to_int32(bias(c) * acc_scale, context_of(l) + ": bias");
    if (s.last) {
      scores_write_out(s.write_out);
      continue;
    }
    require_input(s.write_out.relu, context_of(l), "hidden layers need a ReLU activation");
    const float range = layer_max[static_cast<std::size_t>(lowering.range_layer_of_step[i])];
    const double out_scale = 127.0 / std::max(1e-6f, range);
    const snn::s2::Requantisation rq = snn::s2::requantisation(out_scale / acc_scale);
    s.write_out.multiplier = rq.multiplier;
    s.write_out.shift = rq.shift;
    s.write_out.clamp_min = 0;
    s.write_out.clamp_max = 127;
    s.write_out.bytes_per_value = 1;
    in_scale = out_scale;
  }
  lowering.program.quantisation = "int8 weights per layer, uint7 activations calibrated on " + calibration;
}

snn::s2::AnnProgram ann_to_mac(const ann::Model& keras_model, const datasets::Dataset& calibration) {
  // Inference-time identities go and batch norm folds into the weights before lowering, as
  // `grindstone estimate` fuses them (mac_graph): the MAC write-out applies a folded BN for free.
  ann::Model model = keras_model;
  drop_identities(model);
  fold_batch_norm(model);
  AnnLowering lowering = lower_ann_to_mac(model);
  quantise_ann_program(lowering, model, activation_maxima(model, calibration),
                       std::to_string(calibration.size()) + (calibration.split == datasets::Split::Train ? " training" : " test") + " images");
  lowering.program.name = model.name;
  return std::move(lowering.program);
}

}  // namespace grindstone::passes
