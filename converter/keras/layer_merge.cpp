// Keras merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum (element-wise, equal
// shapes; Keras's broadcasting of size-1 axes is refused) and Concatenate (any non-batch axis).
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

namespace {

/// Every inbound tensor must share one layout, or a channels_first axis would mean two things.
bool common_layout(const LayerContext& ctx) {
  if (ctx.inputs.size() < 2) ctx.fail("inbound_nodes", "a merge layer needs at least two inputs, got " +
                                                           std::to_string(ctx.inputs.size()));
  const bool channels_first = ctx.inputs.front().channels_first;
  for (const auto& t : ctx.inputs)
    if (t.channels_first != channels_first)
      ctx.config.unsupported("inbound_nodes", "inputs with mixed channels_first / channels_last layouts");
  return channels_first;
}

BuiltLayer make_merge(const LayerContext& ctx, ann::MergeKind kind) {
  const bool channels_first = common_layout(ctx);
  for (std::size_t k = 1; k < ctx.inputs.size(); ++k)
    if (ctx.inputs[k].shape != ctx.inputs[0].shape)
      ctx.config.unsupported("inbound_nodes", "input shapes " + ctx.inputs[0].shape.to_string() + " and " +
                                                  ctx.inputs[k].shape.to_string() +
                                                  " (broadcasting merge inputs is not supported)");
  ctx.take_weights({});
  return BuiltLayer{ann::Merge{kind}, std::nullopt, std::nullopt, channels_first};
}

/// Keras's axis counts the batch axis; ours is a per-sample index into the channels-last shape.
int per_sample_axis(const LayerContext& ctx, bool channels_first) {
  const auto rank = static_cast<std::int64_t>(ctx.inputs.front().shape.rank());
  std::int64_t axis = ctx.config.integer("axis", -1);
  if (axis < 0) axis += rank + 1;
  if (axis < 1 || axis > rank)
    ctx.config.unsupported("axis", std::to_string(ctx.config.integer("axis", -1)) + " for inputs of rank " +
                                       std::to_string(rank) + " (the batch axis cannot be concatenated)");
  auto k = static_cast<int>(axis - 1);
  // Keras sees (C, H, W) where we store (H, W, C).
  if (channels_first && rank == 3) k = k == 0 ? 2 : k - 1;
  return k;
}

}  // namespace

void register_merge_layers(LayerRegistry& registry) {
  const std::pair<const char*, ann::MergeKind> kinds[] = {
      {"Add", ann::MergeKind::Add},         {"Subtract", ann::MergeKind::Subtract},
      {"Multiply", ann::MergeKind::Multiply}, {"Average", ann::MergeKind::Average},
      {"Maximum", ann::MergeKind::Maximum}, {"Minimum", ann::MergeKind::Minimum}};
  for (const auto& [cls, kind] : kinds) {
    const auto k = kind;
    registry[cls] = [k](const LayerContext& ctx) { return make_merge(ctx, k); };
  }
  registry["Concatenate"] = [](const LayerContext& ctx) {
    const bool channels_first = common_layout(ctx);
    const int axis = per_sample_axis(ctx, channels_first);
    const auto& first = ctx.inputs.front().shape;
    for (std::size_t k = 1; k < ctx.inputs.size(); ++k) {
      const auto& shape = ctx.inputs[k].shape;
      bool fits = shape.rank() == first.rank();
      for (std::size_t a = 0; fits && a < first.rank(); ++a)
        fits = static_cast<int>(a) == axis || shape[a] == first[a];
      if (!fits)
        ctx.fail("inbound_nodes", "input shapes " + first.to_string() + " and " + shape.to_string() +
                                      " differ outside the concatenation axis");
    }
    ctx.take_weights({});
    return BuiltLayer{ann::Concatenate{axis}, std::nullopt, std::nullopt, channels_first};
  };
}

}  // namespace grindstone::keras
