// Keras Conv2D. Keras 2 and 3 store the kernel as (kh, kw, cin, cout) whatever the
// data_format; channels_first layers compute the same thing on a (C, H, W) tensor, so in our
// channels-last representation they become ordinary convolutions.
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

void register_conv2d(LayerRegistry& registry) {
  registry["Conv2D"] = [](const LayerContext& ctx) {
    image_data_format(ctx);
    const auto& in = ctx.in();
    const auto filters = ctx.config.integer("filters");
    if (filters <= 0 || filters > (1 << 24)) ctx.fail("filters", std::to_string(filters) + " out of range");
    const auto [kh, kw] = ctx.config.int_pair("kernel_size");
    const auto [sh, sw] = ctx.config.int_pair("strides", std::pair{1, 1});
    const auto [dh, dw] = ctx.config.int_pair("dilation_rate", std::pair{1, 1});
    const auto groups = ctx.config.integer("groups", 1);
    if (groups != 1) ctx.config.unsupported("groups", std::to_string(groups) + " (only 1)");
    if ((dh > 1 || dw > 1) && (sh > 1 || sw > 1))
      ctx.config.unsupported("dilation_rate", "> 1 together with strides > 1 (Keras forbids it)");
    const bool use_bias = ctx.config.boolean("use_bias", true);
    auto activation = fused_activation(ctx);
    const auto w = ctx.take_weights(use_bias ? std::vector<std::string>{"kernel", "bias"} : std::vector<std::string>{"kernel"});
    const auto& kernel = w[0];
    const auto cin = in.shape[2];
    if (kernel.dims.size() != 4 || kernel.dims[0] != kh || kernel.dims[1] != kw)
      ctx.fail("kernel", "shape " + kernel.dims_string() + " but kernel_size=" + std::to_string(kh) + "x" + std::to_string(kw));
    if (kernel.dims[3] != filters)
      ctx.fail("kernel", "shape " + kernel.dims_string() + " but filters=" + std::to_string(filters));
    if (kernel.dims[2] != cin)
      ctx.fail("kernel", "shape " + kernel.dims_string() + " but the input has " + std::to_string(cin) + " channels");

    ann::Conv2D conv;
    conv.kernel_h = kh;
    conv.kernel_w = kw;
    conv.in_channels = static_cast<int>(cin);
    conv.filters = static_cast<int>(filters);
    conv.stride_h = sh;
    conv.stride_w = sw;
    conv.dilation_h = dh;
    conv.dilation_w = dw;
    conv.padding = parse_padding(ctx);
    conv.use_bias = use_bias;
    // Theano-backend Keras 2 files hold flipped kernels (true convolution); Keras converts them
    // on load into cross-correlation kernels, and so do we.
    const bool flip = ctx.backend == "theano";
    const auto rows = static_cast<Eigen::Index>(kh) * kw * cin;
    conv.kernel.resize(rows, filters);
    for (int i = 0; i < kh; ++i)
      for (int j = 0; j < kw; ++j)
        for (std::int64_t c = 0; c < cin; ++c) {
          const int si = flip ? kh - 1 - i : i, sj = flip ? kw - 1 - j : j;
          const auto src = ((static_cast<std::int64_t>(si) * kw + sj) * cin + c) * filters;
          const auto row = (static_cast<Eigen::Index>(i) * kw + j) * cin + c;
          for (std::int64_t f = 0; f < filters; ++f) conv.kernel(row, f) = kernel.values[static_cast<std::size_t>(src + f)];
        }
    conv.bias = ann::Vector::Zero(filters);
    if (use_bias) {
      const auto& bias = w[1];
      if (bias.dims.size() != 1 || bias.dims[0] != filters)
        ctx.fail("bias", "shape " + bias.dims_string() + " but filters=" + std::to_string(filters));
      for (std::int64_t f = 0; f < filters; ++f) conv.bias(f) = bias.values[static_cast<std::size_t>(f)];
    }
    return BuiltLayer{std::move(conv), activation, std::nullopt, std::nullopt};
  };
}

}  // namespace grindstone::keras
