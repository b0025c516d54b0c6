#pragma once
// Connector geometry: the one place that knows which pre neuron reaches which post neuron
// through a projection, and with which stored weight. Every engine and mapper (the functional
// scatter and rate engines, SpiNNaker 1 synaptic matrices, SpiNNaker 2 stages) and the network
// helpers (synapse_count) enumerate synapses through these functions, so a connector kind is
// described once.
//
// Image populations are channels-last: neuron (y, x, c) has index (y·W + x)·C + c.
// Window connectors (conv, pool), along each axis: output position o, tap k reads input position
//   p = o·stride − pad + k·dilation,   a synapse only when 0 ≤ p < in (padding reads nothing).
// Conv: every input channel c feeds every output channel o with kernel((tap·C_in + c), o), where
// tap = ky·kernel_w + kx. Pool: channel c feeds channel c with the connector's one weight.
//
// Callbacks get the *stored* weight (Projection::weight_scale is not applied, so that each
// engine scales in its own number format); zero weights are not synapses and are never passed.
// Everything is a template on the callback, so hot loops inline it (no std::function).
#include <cstdint>

#include "snn_runtime/network/network.hpp"

namespace grindstone::snn {

/// One spatial axis of a window connector.
struct WindowAxis {
  std::int64_t in = 1;   ///< input extent (pre image height or width)
  std::int64_t out = 1;  ///< output extent (post image height or width)
  int taps = 1;          ///< kernel or pool size along this axis
  int stride = 1;
  int dilation = 1;      ///< 1 for pooling
  int pad = 0;           ///< implicit padding before position 0

  /// Input position read by tap k of output o (outside [0, in) when it falls in the padding).
  std::int64_t input_of(std::int64_t o, int k) const { return o * stride - pad + std::int64_t{k} * dilation; }
  bool inside(std::int64_t p) const { return p >= 0 && p < in; }
  /// The output whose tap k reads input position p, or −1 when there is none.
  std::int64_t output_of(std::int64_t p, int k) const {
    const std::int64_t n = p + pad - std::int64_t{k} * dilation;
    if (n < 0 || n % stride != 0) return -1;
    const std::int64_t o = n / stride;
    return o < out ? o : -1;
  }
  /// Number of outputs whose tap k lands inside the input (closed form).
  std::int64_t outputs_inside(int k) const;
  /// Input positions one window spans: (taps − 1)·dilation + 1.
  std::int64_t extent() const { return std::int64_t{taps - 1} * dilation + 1; }
};

/// The spatial layout of a conv or pool projection.
struct WindowGeometry {
  WindowAxis y, x;
  std::int64_t in_channels = 1, out_channels = 1;
  /// true for pooling: channel c feeds only channel c (in_channels == out_channels).
  bool per_channel = false;

  int taps() const { return y.taps * x.taps; }
  std::int64_t pre_pixels() const { return y.in * x.in; }
  std::int64_t post_pixels() const { return y.out * x.out; }

  /// f(tap, oy, ox) for every output window that contains input pixel (py, px), taps ascending.
  template <class F>
  void for_each_output(std::int64_t py, std::int64_t px, F&& f) const {
    for (int ky = 0; ky < y.taps; ++ky) {
      const std::int64_t oy = y.output_of(py, ky);
      if (oy < 0) continue;
      for (int kx = 0; kx < x.taps; ++kx) {
        const std::int64_t ox = x.output_of(px, kx);
        if (ox >= 0) f(ky * x.taps + kx, oy, ox);
      }
    }
  }
  /// f(tap, py, px) for every tap of output pixel (oy, ox) that lands inside the input, taps
  /// ascending (row-major over the window).
  template <class F>
  void for_each_input(std::int64_t oy, std::int64_t ox, F&& f) const {
    for (int ky = 0; ky < y.taps; ++ky) {
      const std::int64_t py = y.input_of(oy, ky);
      if (!y.inside(py)) continue;
      for (int kx = 0; kx < x.taps; ++kx) {
        const std::int64_t px = x.input_of(ox, kx);
        if (x.inside(px)) f(ky * x.taps + kx, py, px);
      }
    }
  }
};

/// Geometry of a conv or pool projection from its populations, which must be rank-3 images
/// (InputError naming both otherwise; validate() checks this for every loaded network).
WindowGeometry window_geometry(const Population& pre, const Population& post, const ConvConnector& c);
WindowGeometry window_geometry(const Population& pre, const Population& post, const PoolConnector& p);

/// f(post, weight) for every synapse leaving pre neuron j. Order: dense ascending post; conv by
/// tap, then output channel; pool by tap.
template <class F>
void for_each_target(const Network& network, const Projection& projection, std::int64_t j, F&& f);
/// f(pre, weight) for every synapse reaching post neuron i. Order: dense ascending pre; conv by
/// tap, then input channel; pool by tap (row-major over the window).
template <class F>
void for_each_source(const Network& network, const Projection& projection, std::int64_t i, F&& f);
/// f(pre, post, weight) for every synapse of the projection, pre ascending.
template <class F>
void for_each_synapse(const Network& network, const Projection& projection, F&& f);

/// True when both connectors are of the same kind with the same geometry and stored weights.
bool same_connector(const Connector& a, const Connector& b);

// synapse_count, max_delay and min_delay (declared in network.hpp) are implemented in
// connector_geometry.cpp on top of these.

// ---- implementation of the templates ----------------------------------------------------------

namespace detail {
inline const Population& pre_of(const Network& network, const Projection& projection) {
  return network.populations[static_cast<std::size_t>(projection.pre)];
}
inline const Population& post_of(const Network& network, const Projection& projection) {
  return network.populations[static_cast<std::size_t>(projection.post)];
}
}  // namespace detail

template <class F>
void for_each_target(const Network& network, const Projection& projection, std::int64_t j, F&& f) {
  if (const auto* d = std::get_if<DenseConnector>(&projection.connector)) {
    const auto n = d->weights.cols();
    const auto row = static_cast<Eigen::Index>(j);
    for (Eigen::Index i = 0; i < n; ++i) {
      const float w = d->weights(row, i);
      if (w != 0.0f) f(static_cast<std::int64_t>(i), w);
    }
  } else if (const auto* c = std::get_if<ConvConnector>(&projection.connector)) {
    const WindowGeometry g = window_geometry(detail::pre_of(network, projection), detail::post_of(network, projection), *c);
    const std::int64_t cin = g.in_channels, cout = g.out_channels;
    const std::int64_t pixel = j / cin, ch = j % cin;
    g.for_each_output(pixel / g.x.in, pixel % g.x.in, [&](int tap, std::int64_t oy, std::int64_t ox) {
      const auto row = static_cast<Eigen::Index>(tap * cin + ch);
      const std::int64_t first = (oy * g.x.out + ox) * cout;
      for (std::int64_t o = 0; o < cout; ++o) {
        const float w = c->kernel(row, static_cast<Eigen::Index>(o));
        if (w != 0.0f) f(first + o, w);
      }
    });
  } else if (const auto* p = std::get_if<PoolConnector>(&projection.connector)) {
    if (p->weight == 0.0f) return;
    const WindowGeometry g = window_geometry(detail::pre_of(network, projection), detail::post_of(network, projection), *p);
    const std::int64_t channels = g.in_channels;
    const std::int64_t pixel = j / channels, ch = j % channels;
    g.for_each_output(pixel / g.x.in, pixel % g.x.in, [&](int, std::int64_t oy, std::int64_t ox) {
      f((oy * g.x.out + ox) * channels + ch, p->weight);
    });
  } else {
    const float w = std::get<OneToOneConnector>(projection.connector).weight;
    if (w != 0.0f) f(j, w);
  }
}

template <class F>
void for_each_source(const Network& network, const Projection& projection, std::int64_t i, F&& f) {
  if (const auto* d = std::get_if<DenseConnector>(&projection.connector)) {
    const auto n = d->weights.rows();
    const auto col = static_cast<Eigen::Index>(i);
    for (Eigen::Index j = 0; j < n; ++j) {
      const float w = d->weights(j, col);
      if (w != 0.0f) f(static_cast<std::int64_t>(j), w);
    }
  } else if (const auto* c = std::get_if<ConvConnector>(&projection.connector)) {
    const WindowGeometry g = window_geometry(detail::pre_of(network, projection), detail::post_of(network, projection), *c);
    const std::int64_t cin = g.in_channels, cout = g.out_channels;
    const std::int64_t pixel = i / cout, o = i % cout;
    g.for_each_input(pixel / g.x.out, pixel % g.x.out, [&](int tap, std::int64_t py, std::int64_t px) {
      const std::int64_t first = (py * g.x.in + px) * cin;
      for (std::int64_t ch = 0; ch < cin; ++ch) {
        const float w = c->kernel(static_cast<Eigen::Index>(tap * cin + ch), static_cast<Eigen::Index>(o));
        if (w != 0.0f) f(first + ch, w);
      }
    });
  } else if (const auto* p = std::get_if<PoolConnector>(&projection.connector)) {
    if (p->weight == 0.0f) return;
    const WindowGeometry g = window_geometry(detail::pre_of(network, projection), detail::post_of(network, projection), *p);
    const std::int64_t channels = g.out_channels;
    const std::int64_t pixel = i / channels, ch = i % channels;
    g.for_each_input(pixel / g.x.out, pixel % g.x.out, [&](int, std::int64_t py, std::int64_t px) {
      f((py * g.x.in + px) * channels + ch, p->weight);
    });
  } else {
    const float w = std::get<OneToOneConnector>(projection.connector).weight;
    if (w != 0.0f) f(i, w);
  }
}

template <class F>
void for_each_synapse(const Network& network, const Projection& projection, F&& f) {
  const std::int64_t pre_size = detail::pre_of(network, projection).size();
  for (std::int64_t j = 0; j < pre_size; ++j)
    for_each_target(network, projection, j, [&](std::int64_t i, float w) { f(j, i, w); });
}

}  // namespace grindstone::snn
