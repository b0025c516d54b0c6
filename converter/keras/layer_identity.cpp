// Layers that are the identity at inference time: dropout and noise variants (active only in
// training) and ActivityRegularization (adds a loss term only).
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

void register_identity_layers(LayerRegistry& registry) {
  const auto identity = [](const LayerContext& ctx) {
    ctx.in();
    ctx.take_weights({});
    return BuiltLayer{ann::Identity{}, std::nullopt, std::nullopt, std::nullopt};
  };
  for (const char* cls : {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                          "GaussianDropout", "AlphaDropout", "ActivityRegularization"})
    registry[cls] = identity;
}

}  // namespace grindstone::keras
