#include "snn_runtime/network/connector_geometry.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace grindstone::snn {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && (a < 0)); }
std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return -floor_div(-a, b); }

void require_images(const Population& pre, const Population& post) {
  if (pre.shape.rank() != 3 || post.shape.rank() != 3)
    throw InputError("window connector between '" + pre.name + "' " + pre.shape.to_string() + " and '" + post.name +
                        "' " + post.shape.to_string() + ": populations are not (height, width, channels) images");
}

}  // namespace

std::int64_t WindowAxis::outputs_inside(int k) const {
  // 0 ≤ o·stride − pad + k·dilation ≤ in − 1 and 0 ≤ o ≤ out − 1.
  const std::int64_t offset = std::int64_t{pad} - std::int64_t{k} * dilation;
  const std::int64_t lo = std::max<std::int64_t>(0, ceil_div(offset, stride));
  const std::int64_t hi = std::min<std::int64_t>(out - 1, floor_div(in - 1 + offset, stride));
  return std::max<std::int64_t>(0, hi - lo + 1);
}

WindowGeometry window_geometry(const Population& pre, const Population& post, const ConvConnector& c) {
  require_images(pre, post);
  WindowGeometry g;
  g.y = {pre.shape[0], post.shape[0], c.kernel_h, c.stride_h, c.dilation_h, c.pad_top};
  g.x = {pre.shape[1], post.shape[1], c.kernel_w, c.stride_w, c.dilation_w, c.pad_left};
  g.in_channels = pre.shape[2];
  g.out_channels = post.shape[2];
  return g;
}

WindowGeometry window_geometry(const Population& pre, const Population& post, const PoolConnector& p) {
  require_images(pre, post);
  WindowGeometry g;
  g.y = {pre.shape[0], post.shape[0], p.pool_h, p.stride_h, 1, p.pad_top};
  g.x = {pre.shape[1], post.shape[1], p.pool_w, p.stride_w, 1, p.pad_left};
  g.in_channels = pre.shape[2];
  g.out_channels = post.shape[2];
  g.per_channel = true;
  return g;
}

std::int64_t synapse_count(const Network& network, const Projection& projection) {
  const Population& pre = detail::pre_of(network, projection);
  const Population& post = detail::post_of(network, projection);
  if (const auto* d = std::get_if<DenseConnector>(&projection.connector))
    return static_cast<std::int64_t>((d->weights.array() != 0.0f).count());
  if (const auto* c = std::get_if<ConvConnector>(&projection.connector)) {
    // Per tap: the output positions it lands inside the image for, times its non-zero entries.
    const WindowGeometry g = window_geometry(pre, post, *c);
    std::int64_t total = 0;
    for (int ky = 0; ky < g.y.taps; ++ky)
      for (int kx = 0; kx < g.x.taps; ++kx) {
        const auto row0 = static_cast<Eigen::Index>((ky * g.x.taps + kx) * c->in_channels);
        const auto nnz = (c->kernel.middleRows(row0, c->in_channels).array() != 0.0f).count();
        total += g.y.outputs_inside(ky) * g.x.outputs_inside(kx) * static_cast<std::int64_t>(nnz);
      }
    return total;
  }
  if (const auto* p = std::get_if<PoolConnector>(&projection.connector)) {
    if (p->weight == 0.0f) return 0;
    const WindowGeometry g = window_geometry(pre, post, *p);
    std::int64_t total = 0;
    for (int ky = 0; ky < g.y.taps; ++ky)
      for (int kx = 0; kx < g.x.taps; ++kx) total += g.y.outputs_inside(ky) * g.x.outputs_inside(kx);
    return total * g.out_channels;
  }
  return std::get<OneToOneConnector>(projection.connector).weight == 0.0f ? 0 : post.size();
}

bool same_connector(const Connector& a, const Connector& b) {
  if (a.index() != b.index()) return false;
  if (const auto* da = std::get_if<DenseConnector>(&a)) {
    const auto& db = std::get<DenseConnector>(b);
    return da->weights.rows() == db.weights.rows() && da->weights.cols() == db.weights.cols() && da->weights == db.weights;
  }
  if (const auto* ca = std::get_if<ConvConnector>(&a)) {
    const auto& cb = std::get<ConvConnector>(b);
    return ca->kernel_h == cb.kernel_h && ca->kernel_w == cb.kernel_w && ca->in_channels == cb.in_channels &&
           ca->out_channels == cb.out_channels && ca->stride_h == cb.stride_h && ca->stride_w == cb.stride_w &&
           ca->dilation_h == cb.dilation_h && ca->dilation_w == cb.dilation_w && ca->pad_top == cb.pad_top &&
           ca->pad_left == cb.pad_left && ca->kernel.rows() == cb.kernel.rows() && ca->kernel.cols() == cb.kernel.cols() &&
           ca->kernel == cb.kernel;
  }
  if (const auto* pa = std::get_if<PoolConnector>(&a)) {
    const auto& pb = std::get<PoolConnector>(b);
    return pa->pool_h == pb.pool_h && pa->pool_w == pb.pool_w && pa->stride_h == pb.stride_h &&
           pa->stride_w == pb.stride_w && pa->pad_top == pb.pad_top && pa->pad_left == pb.pad_left && pa->weight == pb.weight;
  }
  return std::get<OneToOneConnector>(a).weight == std::get<OneToOneConnector>(b).weight;
}

int max_delay(const Network& network, const Projection& projection) {
  return detail::post_of(network, projection).last_fire_tick() - detail::pre_of(network, projection).tick;
}

int min_delay(const Network& network, const Projection& projection) {
  return detail::post_of(network, projection).tick - detail::pre_of(network, projection).last_fire_tick();
}

}  // namespace grindstone::snn
