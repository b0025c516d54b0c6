// Standalone activation layers: Activation, ReLU (max_value, negative_slope, threshold),
// LeakyReLU (alpha in Keras 2, negative_slope in Keras 3) and Softmax (last axis only).
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

void register_activation_layers(LayerRegistry& registry) {
  registry["Activation"] = [](const LayerContext& ctx) {
    ctx.in();
    ctx.take_weights({});
    return BuiltLayer{parse_activation(ctx, "activation", ctx.config.raw("activation")), std::nullopt, std::nullopt,
                      std::nullopt};
  };
  registry["ReLU"] = [](const LayerContext& ctx) {
    ctx.in();
    ctx.take_weights({});
    ann::Activation a;
    a.kind = ann::ActivationKind::ReLU;
    if (ctx.config.has("max_value")) {
      const double max_value = ctx.config.number("max_value");
      if (max_value < 0) ctx.fail("max_value", "must not be negative");
      a.relu_max_value = static_cast<float>(max_value);
    }
    a.relu_negative_slope = static_cast<float>(ctx.config.number("negative_slope", 0.0));
    a.relu_threshold = static_cast<float>(ctx.config.number("threshold", 0.0));
    if (a.relu_negative_slope < 0) ctx.fail("negative_slope", "must not be negative");
    return BuiltLayer{a, std::nullopt, std::nullopt, std::nullopt};
  };
  registry["LeakyReLU"] = [](const LayerContext& ctx) {
    ctx.in();
    ctx.take_weights({});
    ann::Activation a;
    a.kind = ann::ActivationKind::ReLU;
    const char* key = ctx.config.has("negative_slope") ? "negative_slope" : "alpha";
    a.relu_negative_slope = static_cast<float>(ctx.config.number(key, 0.3));
    return BuiltLayer{a, std::nullopt, std::nullopt, std::nullopt};
  };
  registry["Softmax"] = [](const LayerContext& ctx) {
    const auto& in = ctx.in();
    ctx.take_weights({});
    const auto& axis_value = ctx.config.has("axis") ? ctx.config.raw("axis") : nlohmann::json(-1);
    std::int64_t axis = 0;
    if (axis_value.is_number_integer()) {
      axis = axis_value.get<std::int64_t>();
    } else if (axis_value.is_array() && axis_value.size() == 1 && axis_value[0].is_number_integer()) {
      axis = axis_value[0].get<std::int64_t>();
    } else {
      ctx.config.unsupported("axis", axis_value.dump());
    }
    const auto rank = static_cast<std::int64_t>(in.shape.rank());
    if (axis != -1 && axis != rank) ctx.config.unsupported("axis", axis_value.dump() + " (only the last axis)");
    check_last_axis_op(ctx, "softmax");
    ann::Activation a;
    a.kind = ann::ActivationKind::Softmax;
    return BuiltLayer{a, std::nullopt, std::nullopt, std::nullopt};
  };
}

}  // namespace grindstone::keras
