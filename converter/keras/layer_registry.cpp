#include "converter/keras/layer_registry.hpp"

#include <cmath>

#include "common/error.hpp"

namespace grindstone::keras {

LayerRegistry make_layer_registry() {
  LayerRegistry registry;
  register_input_layer(registry);
  register_dense(registry);
  register_conv2d(registry);
  register_pooling(registry);
  register_zero_padding(registry);
  register_flatten(registry);
  register_reshape(registry);
  register_identity_layers(registry);
  register_batch_norm(registry);
  register_activation_layers(registry);
  register_whetstone(registry);
  register_merge_layers(registry);
  register_depthwise_conv(registry);
  register_rescaling(registry);
  return registry;
}

const TensorInfo& LayerContext::in() const {
  if (!input) fail("inbound_nodes", "the layer has no input");
  return *input;
}

std::vector<Tensor> LayerContext::take_weights(const std::vector<std::string>& names) const {
  std::string expected;
  for (const auto& n : names) expected += (expected.empty() ? "" : ", ") + n;
  if (!weights.found) {
    if (names.empty()) return {};
    fail("weights", "no weight group for the layer in the file (expected " + expected + ")");
  }
  if (weights.tensors.size() != names.size())
    fail("weight_names", std::to_string(weights.tensors.size()) + " weights in '" + weights.location + "' but " +
                             std::to_string(names.size()) + " expected (" + (expected.empty() ? "none" : expected) + ")");
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& t = weights.tensors[i];
    for (std::size_t k = 0; k < t.values.size(); ++k)
      if (!std::isfinite(t.values[k]))
        fail(names[i], "weight '" + t.name + "' has a NaN or Inf value at flat index " + std::to_string(k));
  }
  return weights.tensors;
}

ann::Activation parse_activation(const LayerContext& ctx, const std::string& field, const nlohmann::json& value) {
  std::string name;
  if (value.is_string()) {
    name = value.get<std::string>();
  } else if (value.is_object() && value.contains("config") && value["config"].is_string()) {
    name = value["config"].get<std::string>();  // Keras 3: {"class_name": "function", "config": "relu"}
  } else if (value.is_object() && value.contains("class_name") && value["class_name"].is_string()) {
    name = value["class_name"].get<std::string>();
  } else {
    ctx.config.unsupported(field, value.dump());
  }
  ann::Activation a;
  if (name == "linear" || name == "Linear") {
    a.kind = ann::ActivationKind::Linear;
  } else if (name == "relu" || name == "ReLU") {
    a.kind = ann::ActivationKind::ReLU;
  } else if (name == "sigmoid") {
    a.kind = ann::ActivationKind::Sigmoid;
  } else if (name == "tanh") {
    a.kind = ann::ActivationKind::Tanh;
  } else if (name == "softmax" || name == "Softmax") {
    a.kind = ann::ActivationKind::Softmax;
    check_last_axis_op(ctx, "softmax");
  } else {
    ctx.config.unsupported(field, "'" + name + "' (supported: linear, relu, sigmoid, tanh, softmax)");
  }
  return a;
}

std::optional<ann::Activation> fused_activation(const LayerContext& ctx) {
  if (!ctx.config.has("activation")) return std::nullopt;
  const auto a = parse_activation(ctx, "activation", ctx.config.raw("activation"));
  if (a.kind == ann::ActivationKind::Linear) return std::nullopt;
  return a;
}

ann::Padding parse_padding(const LayerContext& ctx) {
  const auto padding = ctx.config.string("padding", "valid");
  if (padding == "valid") return ann::Padding::Valid;
  if (padding == "same") return ann::Padding::Same;
  ctx.config.unsupported("padding", "'" + padding + "' (supported: valid, same)");
}

void require_image_input(const LayerContext& ctx) {
  const auto& in = ctx.in();
  if (in.shape.rank() != 3)
    ctx.fail("input_shape", "expected an image tensor (height, width, channels), got " + in.shape.to_string());
}

bool image_data_format(const LayerContext& ctx) {
  require_image_input(ctx);
  const auto format = ctx.config.string("data_format", ctx.model_channels_first ? "channels_first" : "channels_last");
  if (format != "channels_first" && format != "channels_last")
    ctx.config.unsupported("data_format", "'" + format + "'");
  const bool channels_first = format == "channels_first";
  if (channels_first != ctx.in().channels_first)
    ctx.config.unsupported("data_format", "'" + format + "' on a " +
                                              (ctx.in().channels_first ? "channels_first" : "channels_last") +
                                              " tensor (mixed data formats)");
  return channels_first;
}

void check_last_axis_op(const LayerContext& ctx, const std::string& what) {
  if (ctx.input && ctx.input->channels_first && ctx.input->shape.rank() == 3)
    ctx.config.unsupported("axis", what + " over the last axis of a channels_first image tensor");
}

}  // namespace grindstone::keras
