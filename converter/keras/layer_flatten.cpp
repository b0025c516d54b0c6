// Keras Flatten. Keras flattens in its own memory layout, except that Flatten with
// data_format='channels_first' first moves the channel axis to the end (Keras 2.1+ and 3, to
// keep Dense weights portable between data formats). So on a channels_first (C, H, W) tensor:
// data_format channels_first → (H, W, C) order, channels_last → (C, H, W) order.
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

void register_flatten(LayerRegistry& registry) {
  registry["Flatten"] = [](const LayerContext& ctx) {
    const auto& in = ctx.in();
    const auto format = ctx.config.string("data_format", "channels_last");
    if (format != "channels_first" && format != "channels_last") ctx.config.unsupported("data_format", "'" + format + "'");
    const bool image_chw = in.channels_first && in.shape.rank() == 3;
    ann::Flatten flatten;
    if (format == "channels_first" && in.shape.rank() >= 2) {
      // Keras moves axis 1 to the end: only a (C, H, W) tensor ends up in our (H, W, C) order.
      if (!image_chw)
        ctx.config.unsupported("data_format", "'channels_first' on the channels_last tensor " + in.shape.to_string() +
                                                  " (Keras would transpose it)");
      flatten.order = ann::Flatten::Order::HWC;
    } else {
      flatten.order = image_chw ? ann::Flatten::Order::CHW : ann::Flatten::Order::HWC;
    }
    ctx.take_weights({});
    return BuiltLayer{flatten, std::nullopt, std::nullopt, false};
  };
}

}  // namespace grindstone::keras
