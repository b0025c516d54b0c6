// Keras Dense: y = x·kernel + bias with kernel (inputs, units) as stored; fused activation.
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

void register_dense(LayerRegistry& registry) {
  registry["Dense"] = [](const LayerContext& ctx) {
    const auto& in = ctx.in();
    if (in.shape.rank() == 0) ctx.fail("input_shape", "Dense needs at least one axis");
    if (in.channels_first && in.shape.rank() == 3)
      ctx.config.unsupported("input_shape", "Dense on a channels_first image tensor (Keras would use the width axis)");
    // Keras 1 called it output_dim.
    const auto units = ctx.config.integer(ctx.config.has("units") || !ctx.config.has("output_dim") ? "units" : "output_dim");
    if (units <= 0 || units > kMaxTensorElements) ctx.fail("units", std::to_string(units) + " out of range");
    const bool use_bias = ctx.config.boolean("use_bias", true);
    auto activation = fused_activation(ctx);
    const auto w = ctx.take_weights(use_bias ? std::vector<std::string>{"kernel", "bias"} : std::vector<std::string>{"kernel"});
    const auto& kernel = w[0];
    const auto inputs = in.shape.dims.back();
    if (kernel.dims.size() != 2 || kernel.dims[1] != units)
      ctx.fail("kernel", "shape " + kernel.dims_string() + " but units=" + std::to_string(units));
    if (kernel.dims[0] != inputs)
      ctx.fail("kernel", "shape " + kernel.dims_string() + " but the input has " + std::to_string(inputs) + " features");
    ann::Dense dense;
    dense.use_bias = use_bias;
    // Keras stores (in, units) row-major; copy into our column-major matrix of the same shape.
    dense.kernel.resize(kernel.dims[0], kernel.dims[1]);
    for (Eigen::Index r = 0; r < dense.kernel.rows(); ++r)
      for (Eigen::Index c = 0; c < dense.kernel.cols(); ++c)
        dense.kernel(r, c) = kernel.values[static_cast<std::size_t>(r * dense.kernel.cols() + c)];
    dense.bias = ann::Vector::Zero(units);
    if (use_bias) {
      const auto& bias = w[1];
      if (bias.dims.size() != 1 || bias.dims[0] != units)
        ctx.fail("bias", "shape " + bias.dims_string() + " but units=" + std::to_string(units));
      for (std::int64_t i = 0; i < units; ++i) dense.bias(i) = bias.values[static_cast<std::size_t>(i)];
    }
    return BuiltLayer{std::move(dense), activation, std::nullopt, std::nullopt};
  };
}

}  // namespace grindstone::keras
