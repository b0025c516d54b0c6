#pragma once
// Synaptic data as sPyNNaker lays it out for one SpiNNaker 1 core: the outgoing synapses of every
// pre neuron (one *row* per pre neuron and target core, reference §2), and the fixed-point
// encoding of weights into the 16-bit unsigned ring buffers (reference §1, ARCHITECTURE.md §2).
//
// Weight encoding per post population (one ring-buffer shift per population):
//   * fixed-point networks (Qm.n) map directly: a weight's unit is 2^-n (times 255 when a
//     projection into the population carries a bit-plane weight_scale 2^k/255, so that every
//     effective weight is an integer); the shift s is the smallest for which the worst case —
//     every excitatory (inhibitory) synapse of a neuron active in one tick — fits 16 bits, and a
//     stored weight is round(units / 2^s). s = 0 keeps the sums bit-identical to the single-pass
//     engine.
//   * float networks get sPyNNaker's automatic format: max_w = the same worst case in weight
//     units, shift = ceil(log2 max_w) (+1 when 2^shift ≤ max_w), stored weight =
//     rint(|w| · 2^(15 − shift)) — an s16.15 value after the drain's left shift.
// The sign never enters the ring buffer: it selects the excitatory or inhibitory receptor.
#include <cstdint>
#include <string>
#include <vector>

#include "snn_runtime/network/network.hpp"

namespace grindstone::snn::spinnaker1 {

/// Calls f(post_neuron, weight) for every synapse leaving `pre_neuron` of `projection`, with the
/// weight as stored (the caller applies projection.weight_scale, in double, so that fixed-point
/// units stay exact); zero weights are not synapses.
/// Conv and pool connectors are enumerated from their geometry, never expanded.
template <class F>
void for_each_synapse(const Network& network, const Projection& projection, std::int64_t pre_neuron, F&& f);

/// How a post population's weights and thresholds become ring-buffer integers.
struct PopulationWeightEncoding {
  /// Ring-buffer integer units per unit of effective weight, before the shift (2^n·M for fixed
  /// point; 2^(15−shift) for float networks).
  double units_per_weight = 1.0;
  /// Right shift applied when a weight is stored (fixed point), undone on drain as a left shift.
  int shift = 0;
  /// Largest worst-case sum of one receptor of one neuron, in stored (shifted) units (< 2^16).
  std::int64_t worst_case_stored = 0;
  /// Threshold of each neuron in ring-buffer units (unshifted): fire iff
  /// (exc − inh) << shift ≥ threshold_units.
  std::vector<std::int64_t> threshold_units;
  /// Integrate-and-fire only: bias current per tick, in the same units.
  std::vector<std::int64_t> bias_units;
  /// Human-readable: "Q4.8 (shift 0)" or "s16.15, shift 5 (auto)".
  std::string description;
};

/// Chooses the encoding of every non-source population (sources get an empty encoding).
/// InputError naming `context` and the population when a fixed-point weight is not an exact
/// multiple of its unit.
std::vector<PopulationWeightEncoding> choose_weight_encodings(const Network& network, const std::string& context);

/// Stored 16-bit magnitude of a synapse of stored weight `weight` in a projection of
/// `weight_scale` under `encoding` (0 is possible after rounding).
std::uint32_t stored_weight(const PopulationWeightEncoding& encoding, float weight, float weight_scale);

// ---- implementation of the template -------------------------------------------------------

template <class F>
void for_each_synapse(const Network& network, const Projection& projection, std::int64_t j, F&& f) {
  const Population& pre = network.populations[static_cast<std::size_t>(projection.pre)];
  const Population& post = network.populations[static_cast<std::size_t>(projection.post)];
  if (const auto* d = std::get_if<DenseConnector>(&projection.connector)) {
    const auto n = d->weights.cols();
    for (Eigen::Index i = 0; i < n; ++i) {
      const float w = d->weights(static_cast<Eigen::Index>(j), i);
      if (w != 0.0f) f(static_cast<std::int64_t>(i), w);
    }
  } else if (const auto* c = std::get_if<ConvConnector>(&projection.connector)) {
    const std::int64_t pw = pre.shape[1], cin = pre.shape[2];
    const std::int64_t oh = post.shape[0], ow = post.shape[1], cout = post.shape[2];
    const std::int64_t y = j / (pw * cin), x = (j / cin) % pw, ch = j % cin;
    for (int ki = 0; ki < c->kernel_h; ++ki) {
      const std::int64_t ny = y + c->pad_top - static_cast<std::int64_t>(ki) * c->dilation_h;
      if (ny < 0 || ny % c->stride_h != 0) continue;
      const std::int64_t oy = ny / c->stride_h;
      if (oy >= oh) continue;
      for (int kj = 0; kj < c->kernel_w; ++kj) {
        const std::int64_t nx = x + c->pad_left - static_cast<std::int64_t>(kj) * c->dilation_w;
        if (nx < 0 || nx % c->stride_w != 0) continue;
        const std::int64_t ox = nx / c->stride_w;
        if (ox >= ow) continue;
        const auto row = static_cast<Eigen::Index>((ki * c->kernel_w + kj) * c->in_channels + ch);
        for (std::int64_t o = 0; o < cout; ++o) {
          const float w = c->kernel(row, static_cast<Eigen::Index>(o));
          if (w != 0.0f) f((oy * ow + ox) * cout + o, w);
        }
      }
    }
  } else if (const auto* p = std::get_if<PoolConnector>(&projection.connector)) {
    if (p->weight == 0.0f) return;
    const std::int64_t pw = pre.shape[1], ch_n = pre.shape[2];
    const std::int64_t oh = post.shape[0], ow = post.shape[1];
    const std::int64_t y = j / (pw * ch_n), x = (j / ch_n) % pw, ch = j % ch_n;
    for (int ki = 0; ki < p->pool_h; ++ki) {
      const std::int64_t ny = y + p->pad_top - ki;
      if (ny < 0 || ny % p->stride_h != 0 || ny / p->stride_h >= oh) continue;
      for (int kj = 0; kj < p->pool_w; ++kj) {
        const std::int64_t nx = x + p->pad_left - kj;
        if (nx < 0 || nx % p->stride_w != 0 || nx / p->stride_w >= ow) continue;
        f(((ny / p->stride_h) * ow + nx / p->stride_w) * ch_n + ch, p->weight);
      }
    }
  } else {
    const float w = std::get<OneToOneConnector>(projection.connector).weight;
    if (w != 0.0f) f(j, w);
  }
}

}  // namespace grindstone::snn::spinnaker1
