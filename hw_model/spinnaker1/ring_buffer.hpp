#pragma once
// The synaptic-input ring buffer of one application core: `slots` delay slots × receptors
// (excitatory, inhibitory) × neurons of 16-bit unsigned accumulators with saturation, and a
// per-population left shift applied when a slot is drained.
// Sources (reference §1): weight_t = uint16_t; add saturates at 0xFFFF and increments
// synapses_saturation_count (synapses.c process_fixed_synapses); slots = 2^delay_bits with
// delay_bits = get_n_bits(max_delay) (7.x), i.e. the smallest power of two ≥ max_delay + 1, indexed
// (t + d) & (slots − 1); the timer drains slot `t` at the start of tick t, converting each value
// to (value << shift) and zeroing it (c_main.c process_ring_buffers, neuron_transfer).
#include <cassert>
#include <cstdint>
#include <span>
#include <vector>

#include "hw_model/spinnaker1/units.hpp"

namespace grindstone::hw::s1 {

/// Receptor (synapse type) indices: the sign of a weight selects the receptor (reference §1).
enum class Receptor : std::uint8_t { Excitatory = 0, Inhibitory = 1 };

class RingBuffer {
 public:
  struct Params {
    /// Neurons on the core (≥ 1).
    int n_neurons = 1;
    /// Synapse types. Source: sPyNNaker current/conductance models have 2 (exc, inh).
    int n_receptors = 2;
    /// Largest synaptic delay in ticks that will be added (≥ 1); slots = bit_ceil(max+1).
    int max_delay_ticks = 1;
    /// Left shift applied on drain: input = accumulated << shift (per population; chosen by the
    /// converter so the worst case cannot saturate). Source: get_ring_buffer_shifts (reference §1).
    int weight_shift = 0;
  };

  struct Stats {
    std::int64_t additions = 0;    ///< add() calls (synaptic events)
    std::int64_t saturations = 0;  ///< additions that clipped at 0xFFFF (exact count)
    std::int64_t drains = 0;       ///< drain() calls
    double saturation_ratio() const { return additions ? static_cast<double>(saturations) / static_cast<double>(additions) : 0.0; }
    Stats& operator+=(const Stats& o);
  };

  /// Throws InputError on n_neurons < 1, n_receptors < 1, max_delay_ticks < 1 or > 2^20, or
  /// weight_shift outside 0..31.
  explicit RingBuffer(Params params);

  const Params& params() const { return params_; }
  const Stats& stats() const { return stats_; }
  int slots() const { return slots_; }
  int n_neurons() const { return params_.n_neurons; }
  int n_receptors() const { return params_.n_receptors; }

  /// Smallest power of two ≥ max_delay_ticks + 1 (sPyNNaker 7.x: 2^get_n_bits(max_delay)).
  static int slots_for_delay(int max_delay_ticks);
  /// Bytes sPyNNaker allocates in DTCM: slots × receptors × 2^ceil(log2 n_neurons) × 2 bytes
  /// (the neuron field is log_n_neurons bits wide, reference §1).
  static std::int64_t dtcm_bytes(int n_neurons, int n_receptors, int max_delay_ticks);
  std::int64_t dtcm_bytes() const { return dtcm_bytes(params_.n_neurons, params_.n_receptors, params_.max_delay_ticks); }

  /// Slot index for absolute tick t: t & (slots − 1).
  int slot_of(Ticks t) const { return static_cast<int>(t.value & slot_mask_); }

  /// Accumulates `weight` for a spike processed at tick `now` with delay `delay_ticks`
  /// (1..slots−1; checked only by a debug assertion on this hot path) into slot
  /// (now + delay) & mask; saturates at 0xFFFF and counts it. Returns true if it saturated.
  bool add(Ticks now, int delay_ticks, int receptor, int neuron, std::uint16_t weight) {
    assert(delay_ticks >= 1 && delay_ticks < slots_ && receptor >= 0 && receptor < params_.n_receptors && neuron >= 0 &&
           neuron < params_.n_neurons);
    const std::size_t i = index(slot_of(Ticks(now.value + delay_ticks)), receptor, neuron);
    const std::uint32_t acc = std::uint32_t{data_[i]} + weight;
    ++stats_.additions;
    if (acc > 0xFFFFu) {
      data_[i] = 0xFFFFu;
      ++stats_.saturations;
      return true;
    }
    data_[i] = static_cast<std::uint16_t>(acc);
    return false;
  }

  /// A run of synapses of one delay and receptor into consecutive neurons: weights[i] goes to
  /// neuron first_neuron + i (a 0 is a gap or a zero-weight synapse; adding it changes nothing
  /// and never saturates). Every neuron gets at most one addition, so the accumulators and the
  /// saturation count are exactly those of add() per synapse in any order; `synapses` (the real
  /// synapses of the run, ≤ weights.size()) is what is counted as additions. A vectorisable loop
  /// for the host; returns the saturations of the run.
  std::int64_t add_dense(Ticks now, int delay_ticks, int receptor, int first_neuron,
                         std::span<const std::uint16_t> weights, std::int64_t synapses) {
    assert(delay_ticks >= 1 && delay_ticks < slots_ && receptor >= 0 && receptor < params_.n_receptors &&
           first_neuron >= 0 && first_neuron + static_cast<std::int64_t>(weights.size()) <= params_.n_neurons &&
           synapses >= 0 && synapses <= static_cast<std::int64_t>(weights.size()));
    std::uint16_t* acc = data_.data() + index(slot_of(Ticks(now.value + delay_ticks)), receptor, first_neuron);
    const std::uint16_t* w = weights.data();
    const std::size_t n = weights.size();
    std::uint32_t saturated = 0;
    for (std::size_t i = 0; i < n; ++i) {
      // 16-bit wrap-around add: the sum wrapped iff it is below the old value (w ≤ 0xFFFF).
      const auto sum = static_cast<std::uint16_t>(acc[i] + w[i]);
      const bool over = sum < acc[i];
      acc[i] = over ? std::uint16_t{0xFFFF} : sum;
      saturated += over ? 1u : 0u;
    }
    stats_.additions += synapses;
    stats_.saturations += saturated;
    return saturated;
  }

  /// Synapses (neurons[i], weights[i]) of one delay and receptor (neuron indices 8-bit, as in the
  /// synaptic word, reference §2), added in order: exactly add() per synapse (a neuron may
  /// repeat), with the stats updated once for the run. Returns the saturations of the run.
  std::int64_t add_sparse(Ticks now, int delay_ticks, int receptor, std::span<const std::uint8_t> neurons,
                          std::span<const std::uint16_t> weights) {
    assert(delay_ticks >= 1 && delay_ticks < slots_ && receptor >= 0 && receptor < params_.n_receptors &&
           neurons.size() == weights.size());
    std::uint16_t* acc = data_.data() + index(slot_of(Ticks(now.value + delay_ticks)), receptor, 0);
    std::int64_t saturated = 0;
    for (std::size_t i = 0; i < neurons.size(); ++i) {
      assert(neurons[i] < params_.n_neurons);
      const std::uint32_t sum = std::uint32_t{acc[neurons[i]]} + weights[i];
      const bool over = sum > 0xFFFFu;
      acc[neurons[i]] = over ? std::uint16_t{0xFFFF} : static_cast<std::uint16_t>(sum);
      saturated += over ? 1 : 0;
    }
    stats_.additions += static_cast<std::int64_t>(neurons.size());
    stats_.saturations += saturated;
    return saturated;
  }

  /// Drains the slot of tick `t`: writes (value << shift) for every receptor and neuron into
  /// `out` (size n_receptors × n_neurons, receptor-major: out[r·n_neurons + n]) and zeroes the
  /// slot. InputError if `out` has the wrong size.
  void drain(Ticks t, std::span<std::int64_t> out);
  /// Same, by slot index (0..slots−1).
  void drain_slot(int slot, std::span<std::int64_t> out);
  /// Raw 16-bit accumulator (for tests and inspection).
  std::uint16_t raw(int slot, int receptor, int neuron) const { return data_[index(slot, receptor, neuron)]; }
  /// True if every accumulator of the slot is zero.
  bool slot_empty(int slot) const;
  /// Zeroes all slots (keeps stats).
  void clear();

 private:
  std::size_t index(int slot, int receptor, int neuron) const {
    return (static_cast<std::size_t>(slot) * static_cast<std::size_t>(params_.n_receptors) + static_cast<std::size_t>(receptor)) *
               static_cast<std::size_t>(params_.n_neurons) +
           static_cast<std::size_t>(neuron);
  }

  Params params_;
  int slots_ = 2;
  std::int64_t slot_mask_ = 1;
  Stats stats_;
  std::vector<std::uint16_t> data_;
};

}  // namespace grindstone::hw::s1
