// Keras Rescaling (inference-time preprocessing): y = x·scale + offset, scale and offset a
// number or (Keras 3) a list with one value per channel of the last axis.
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

namespace {

ann::Vector read_factor(const LayerContext& ctx, const std::string& field, double fallback, std::int64_t channels) {
  if (!ctx.config.has(field)) return ann::Vector::Constant(1, static_cast<float>(fallback));
  const auto& v = ctx.config.raw(field);
  if (v.is_number()) return ann::Vector::Constant(1, static_cast<float>(ctx.config.number(field)));
  if (!v.is_array() || (v.size() != 1 && static_cast<std::int64_t>(v.size()) != channels))
    ctx.config.unsupported(field, v.dump() + " (a number or one value per channel of the last axis)");
  if (v.size() > 1 && ctx.in().channels_first && ctx.in().shape.rank() == 3)
    ctx.config.unsupported(field, "per-channel values on a channels_first image tensor");
  ann::Vector out(static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number() || !std::isfinite(v[i].get<double>())) ctx.fail(field, "expected numbers, got " + v.dump());
    out(static_cast<Eigen::Index>(i)) = v[i].get<float>();
  }
  return out;
}

}  // namespace

void register_rescaling(LayerRegistry& registry) {
  registry["Rescaling"] = [](const LayerContext& ctx) {
    const auto& in = ctx.in();
    if (in.shape.rank() == 0) ctx.fail("input_shape", "Rescaling needs at least one axis");
    ctx.take_weights({});
    const auto channels = in.shape.dims.back();
    ann::Rescale r{read_factor(ctx, "scale", 1.0, channels), read_factor(ctx, "offset", 0.0, channels)};
    return BuiltLayer{std::move(r), std::nullopt, std::nullopt, std::nullopt};
  };
}

}  // namespace grindstone::keras
