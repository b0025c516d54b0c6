// Keras Reshape: same element order, new per-sample shape (-1 allowed once).
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

void register_reshape(LayerRegistry& registry) {
  registry["Reshape"] = [](const LayerContext& ctx) {
    const auto& in = ctx.in();
    if (in.channels_first && in.shape.rank() == 3)
      ctx.config.unsupported("target_shape", "reshape of a channels_first image tensor (element order differs)");
    const auto target = ctx.config.int_list("target_shape");
    if (target.empty() || target.size() > 3) ctx.config.unsupported("target_shape", "of rank " + std::to_string(target.size()));
    for (auto d : target)
      if (d == 0 || d < -1 || d > kMaxTensorElements) ctx.fail("target_shape", "dimension " + std::to_string(d) + " out of range");
    ctx.take_weights({});
    // A rank-3 result is an image in Keras's layout; we only support it as channels_last.
    if (target.size() == 3 && ctx.model_channels_first)
      ctx.config.unsupported("target_shape", "reshape to an image in a channels_first model");
    return BuiltLayer{ann::Reshape{Shape(target)}, std::nullopt, std::nullopt, false};
  };
}

}  // namespace grindstone::keras
