// Keras DepthwiseConv2D and SeparableConv2D. A separable convolution is a depthwise step
// ("<layer>/depthwise", no bias) followed by a 1×1 pointwise Conv2D that carries the bias and
// the fused activation — the same arithmetic as Keras's separable_conv2d.
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

namespace {

/// The window settings and weights of a depthwise step.
ann::DepthwiseConv2D depthwise_step(const LayerContext& ctx, const Tensor& kernel) {
  image_data_format(ctx);
  const auto cin = ctx.in().shape[2];
  const auto multiplier = ctx.config.integer("depth_multiplier", 1);
  if (multiplier <= 0 || multiplier > (1 << 16)) ctx.fail("depth_multiplier", std::to_string(multiplier) + " out of range");
  ann::DepthwiseConv2D d;
  std::tie(d.kernel_h, d.kernel_w) = ctx.config.int_pair("kernel_size");
  std::tie(d.stride_h, d.stride_w) = ctx.config.int_pair("strides", std::pair{1, 1});
  std::tie(d.dilation_h, d.dilation_w) = ctx.config.int_pair("dilation_rate", std::pair{1, 1});
  if ((d.dilation_h > 1 || d.dilation_w > 1) && (d.stride_h > 1 || d.stride_w > 1))
    ctx.config.unsupported("dilation_rate", "> 1 together with strides > 1 (Keras forbids it)");
  d.padding = parse_padding(ctx);
  d.channels = static_cast<int>(cin);
  d.depth_multiplier = static_cast<int>(multiplier);
  d.kernel = depthwise_kernel_matrix(ctx, kernel, d.kernel_h, d.kernel_w, cin, multiplier, "depthwise_kernel");
  d.use_bias = false;
  d.bias = ann::Vector::Zero(cin * multiplier);
  return d;
}

ann::Vector read_bias(const LayerContext& ctx, const Tensor& bias, std::int64_t n) {
  if (bias.dims.size() != 1 || bias.dims[0] != n)
    ctx.fail("bias", "shape " + bias.dims_string() + " but the layer has " + std::to_string(n) + " output channels");
  ann::Vector v(n);
  for (std::int64_t i = 0; i < n; ++i) v(i) = bias.values[static_cast<std::size_t>(i)];
  return v;
}

}  // namespace

ann::Matrix depthwise_kernel_matrix(const LayerContext& ctx, const Tensor& kernel, int kh, int kw, std::int64_t cin,
                                    std::int64_t multiplier, const std::string& field) {
  if (kernel.dims.size() != 4 || kernel.dims[0] != kh || kernel.dims[1] != kw || kernel.dims[2] != cin ||
      kernel.dims[3] != multiplier)
    ctx.fail(field, "shape " + kernel.dims_string() + " but kernel_size=" + std::to_string(kh) + "x" +
                        std::to_string(kw) + ", " + std::to_string(cin) + " input channels and depth_multiplier=" +
                        std::to_string(multiplier));
  // (kh, kw, cin, m) row-major: row i·kw + j holds the cin·m values in (c, m) order.
  ann::Matrix m(static_cast<Eigen::Index>(kh) * kw, cin * multiplier);
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = kernel.values[static_cast<std::size_t>(r * m.cols() + c)];
  return m;
}

void register_depthwise_conv(LayerRegistry& registry) {
  registry["DepthwiseConv2D"] = [](const LayerContext& ctx) {
    const bool use_bias = ctx.config.boolean("use_bias", true);
    auto activation = fused_activation(ctx);
    const auto w = ctx.take_weights(use_bias ? std::vector<std::string>{"depthwise_kernel", "bias"}
                                             : std::vector<std::string>{"depthwise_kernel"});
    ann::DepthwiseConv2D d = depthwise_step(ctx, w[0]);
    d.use_bias = use_bias;
    if (use_bias) d.bias = read_bias(ctx, w[1], d.bias.size());
    return BuiltLayer{std::move(d), activation, std::nullopt, std::nullopt};
  };
  registry["SeparableConv2D"] = [](const LayerContext& ctx) {
    const bool use_bias = ctx.config.boolean("use_bias", true);
    auto activation = fused_activation(ctx);
    const auto filters = ctx.config.integer("filters");
    if (filters <= 0 || filters > (1 << 24)) ctx.fail("filters", std::to_string(filters) + " out of range");
    const auto w = ctx.take_weights(use_bias ? std::vector<std::string>{"depthwise_kernel", "pointwise_kernel", "bias"}
                                             : std::vector<std::string>{"depthwise_kernel", "pointwise_kernel"});
    ann::DepthwiseConv2D d = depthwise_step(ctx, w[0]);
    const auto mid = d.bias.size();
    const auto& pw = w[1];
    if (pw.dims.size() != 4 || pw.dims[0] != 1 || pw.dims[1] != 1 || pw.dims[2] != mid || pw.dims[3] != filters)
      ctx.fail("pointwise_kernel", "shape " + pw.dims_string() + " but expected (1, 1, " + std::to_string(mid) + ", " +
                                       std::to_string(filters) + ")");
    ann::Conv2D point;
    point.kernel_h = point.kernel_w = 1;
    point.in_channels = static_cast<int>(mid);
    point.filters = static_cast<int>(filters);
    point.use_bias = use_bias;
    point.kernel.resize(mid, filters);
    for (Eigen::Index r = 0; r < mid; ++r)
      for (Eigen::Index c = 0; c < filters; ++c) point.kernel(r, c) = pw.values[static_cast<std::size_t>(r * filters + c)];
    point.bias = use_bias ? read_bias(ctx, w[2], filters) : ann::Vector::Zero(filters);
    BuiltLayer built{std::move(point), activation, std::nullopt, std::nullopt};
    built.leading.emplace_back("/depthwise", std::move(d));
    return built;
  };
}

}  // namespace grindstone::keras
