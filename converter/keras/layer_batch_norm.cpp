// Keras BatchNormalization at inference: y = gamma·(x − mean)/sqrt(var + epsilon) + beta over
// the channel axis. Weights are [gamma if scale] [beta if center] moving_mean moving_variance.
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

void register_batch_norm(LayerRegistry& registry) {
  registry["BatchNormalization"] = [](const LayerContext& ctx) {
    const auto& in = ctx.in();
    const auto rank = static_cast<std::int64_t>(in.shape.rank());
    if (rank == 0) ctx.fail("input_shape", "BatchNormalization needs at least one axis");
    // Keras's axis counts the batch axis; tf.keras may store it as a one-element list.
    const auto& axis_value = ctx.config.raw("axis");
    std::int64_t axis = 0;
    if (axis_value.is_number_integer()) {
      axis = axis_value.get<std::int64_t>();
    } else if (axis_value.is_array() && axis_value.size() == 1 && axis_value[0].is_number_integer()) {
      axis = axis_value[0].get<std::int64_t>();
    } else {
      ctx.config.unsupported("axis", axis_value.dump() + " (one channel axis expected)");
    }
    if (axis < 0) axis += rank + 1;
    const std::int64_t channel_axis = (in.channels_first && rank == 3) ? 1 : rank;
    if (axis != channel_axis)
      ctx.config.unsupported("axis", axis_value.dump() + " (only the channel axis " + std::to_string(channel_axis) +
                                         " is supported)");
    const bool scale = ctx.config.boolean("scale", true);
    const bool center = ctx.config.boolean("center", true);
    const double epsilon = ctx.config.number("epsilon", 1e-3);
    if (epsilon < 0) ctx.fail("epsilon", "must not be negative");
    std::vector<std::string> names;
    if (scale) names.push_back("gamma");
    if (center) names.push_back("beta");
    names.push_back("moving_mean");
    names.push_back("moving_variance");
    const auto w = ctx.take_weights(names);
    const auto channels = in.shape.dims.back();
    ann::BatchNorm bn;
    bn.epsilon = static_cast<float>(epsilon);
    bn.gamma = ann::Vector::Ones(channels);
    bn.beta = ann::Vector::Zero(channels);
    std::size_t next = 0;
    auto read = [&](ann::Vector& target, const std::string& name) {
      const auto& t = w[next++];
      if (t.dims.size() != 1 || t.dims[0] != channels)
        ctx.fail(name, "shape " + t.dims_string() + " but the input has " + std::to_string(channels) + " channels");
      target.resize(channels);
      for (std::int64_t i = 0; i < channels; ++i) target(i) = t.values[static_cast<std::size_t>(i)];
    };
    if (scale) read(bn.gamma, "gamma");
    if (center) read(bn.beta, "beta");
    read(bn.moving_mean, "moving_mean");
    read(bn.moving_variance, "moving_variance");
    for (std::int64_t i = 0; i < channels; ++i)
      if (bn.moving_variance(i) + bn.epsilon <= 0.0f)
        ctx.fail("moving_variance", "variance + epsilon is not positive at channel " + std::to_string(i));
    return BuiltLayer{std::move(bn), std::nullopt, std::nullopt, std::nullopt};
  };
}

}  // namespace grindstone::keras
