// Whetstone's layers: Spiking_BRelu and Spiking_Sigmoid (activations with a sharpness in
// [0, 1]) and Softmax_Decode (a fixed 0/1 key that maps binary outputs to class scores). The
// key is serialised in the layer config: a plain nested list, {"type": "ndarray", "value": …}
// (tf.keras), or Keras 3's {"class_name": "__numpy__", "config": {"value": …}}.
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

namespace {

BuiltLayer make_spiking(const LayerContext& ctx, ann::ActivationKind kind) {
  ctx.in();
  ctx.take_weights({});
  ann::Activation a;
  a.kind = kind;
  const double sharpness = ctx.config.number("sharpness", 0.0);
  if (sharpness < 0.0 || sharpness > 1.0) ctx.fail("sharpness", std::to_string(sharpness) + " outside [0, 1]");
  a.sharpness = static_cast<float>(sharpness);
  return BuiltLayer{a, std::nullopt, std::nullopt, std::nullopt};
}

const nlohmann::json& unwrap_key(const LayerContext& ctx, const nlohmann::json& key) {
  if (key.is_array()) return key;
  if (key.is_object()) {
    if (key.contains("value")) return unwrap_key(ctx, key["value"]);
    if (key.contains("config") && key["config"].is_object() && key["config"].contains("value"))
      return unwrap_key(ctx, key["config"]["value"]);
  }
  ctx.fail("key", "expected a list of lists (or an ndarray object), got " + key.dump().substr(0, 80));
}

}  // namespace

void register_whetstone(LayerRegistry& registry) {
  registry["Spiking_BRelu"] = [](const LayerContext& ctx) { return make_spiking(ctx, ann::ActivationKind::SpikingBRelu); };
  registry["Spiking_Sigmoid"] = [](const LayerContext& ctx) {
    return make_spiking(ctx, ann::ActivationKind::SpikingSigmoid);
  };
  registry["Softmax_Decode"] = [](const LayerContext& ctx) {
    const auto& in = ctx.in();
    ctx.take_weights({});
    const auto& key = unwrap_key(ctx, ctx.config.raw("key"));
    if (key.empty() || !key[0].is_array() || key[0].empty())
      ctx.fail("key", "expected a non-empty (classes, width) matrix");
    const auto classes = static_cast<Eigen::Index>(key.size());
    const auto width = static_cast<Eigen::Index>(key[0].size());
    if (static_cast<std::int64_t>(classes) * width > kMaxTensorElements) ctx.fail("key", "absurd size");
    ann::SoftmaxDecode decode;
    decode.key.resize(classes, width);
    for (Eigen::Index c = 0; c < classes; ++c) {
      const auto& row = key[static_cast<std::size_t>(c)];
      if (!row.is_array() || static_cast<Eigen::Index>(row.size()) != width)
        ctx.fail("key", "row " + std::to_string(c) + " is not a list of " + std::to_string(width) + " values");
      for (Eigen::Index j = 0; j < width; ++j) {
        const auto& v = row[static_cast<std::size_t>(j)];
        if (!v.is_number() || (v.get<double>() != 0.0 && v.get<double>() != 1.0))
          ctx.fail("key", "entry [" + std::to_string(c) + "][" + std::to_string(j) + "] is " + v.dump() +
                              " (entries must be 0 or 1)");
        decode.key(c, j) = v.get<float>();
      }
    }
    if (in.shape.rank() != 1 || in.shape[0] != width)
      ctx.fail("key", "width " + std::to_string(width) + " but the input is " + in.shape.to_string());
    return BuiltLayer{std::move(decode), std::nullopt, std::nullopt, std::nullopt};
  };
}

}  // namespace grindstone::keras
