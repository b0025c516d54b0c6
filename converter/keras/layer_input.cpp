// Keras InputLayer: the model input. Its shape comes from batch_input_shape (Keras 2) or
// batch_shape (Keras 3); a channels_first image (C, H, W) becomes our (H, W, C).
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

void register_input_layer(LayerRegistry& registry) {
  registry["InputLayer"] = [](const LayerContext& ctx) {
    if (ctx.input) ctx.fail("inbound_nodes", "an InputLayer takes no inputs");
    const auto dims = input_shape_from_config(ctx.config);
    if (!dims) ctx.fail("batch_input_shape", "missing (neither batch_input_shape nor batch_shape is given)");
    if (dims->size() > 3) ctx.config.unsupported("batch_input_shape", "of rank " + std::to_string(dims->size()) + " (at most 3 per-sample axes)");
    BuiltLayer built{ann::InputLayer{}, std::nullopt, Shape(*dims), false};
    if (dims->size() == 3 && ctx.model_channels_first) {
      built.output_shape = Shape{(*dims)[1], (*dims)[2], (*dims)[0]};
      built.channels_first = true;
    }
    return built;
  };
}

}  // namespace grindstone::keras
