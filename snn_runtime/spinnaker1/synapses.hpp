#pragma once
// Synaptic data as sPyNNaker lays it out for one SpiNNaker 1 core: the outgoing synapses of every
// pre neuron (one *row* per pre neuron and target core, reference §2), and the fixed-point
// encoding of weights into the 16-bit unsigned ring buffers (reference §1, ARCHITECTURE.md §2).
//
// Weight encoding per post population (one ring-buffer shift per population):
//   * fixed-point networks (Qm.n) map directly: a weight's unit is the network's integer weight
//     unit (snn::WeightUnits: 2^-n, or 2^-n/255 in populations fed by bit planes 2^k/255, so
//     that every effective weight is an integer); the shift s is the smallest for which the worst case —
//     every excitatory (inhibitory) synapse of a neuron active in one tick — fits 16 bits, and a
//     stored weight is round(units / 2^s). s = 0 keeps the sums bit-identical to the single-pass
//     engine.
//   * float networks get sPyNNaker's automatic format: max_w = the same worst case in weight
//     units, shift = ceil(log2 max_w) (+1 when 2^shift ≤ max_w), stored weight =
//     rint(|w| · 2^(15 − shift)) — an s16.15 value after the drain's left shift.
// The sign never enters the ring buffer: it selects the excitatory or inhibitory receptor.
// Synapses are enumerated with the shared connector geometry (snn::for_each_target).
#include <cstdint>
#include <string>
#include <vector>

#include "snn_runtime/network/connector_geometry.hpp"

namespace grindstone::snn::spinnaker1 {

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
/// InputError (from snn::integer_weight_units) naming `context` and the projection or population
/// when a fixed-point network cannot be represented exactly in integer weight units.
std::vector<PopulationWeightEncoding> choose_weight_encodings(const Network& network, const std::string& context);

/// Stored 16-bit magnitude of a synapse of stored weight `weight` in a projection of
/// `weight_scale` under `encoding` (0 is possible after rounding).
std::uint32_t stored_weight(const PopulationWeightEncoding& encoding, float weight, float weight_scale);

}  // namespace grindstone::snn::spinnaker1
