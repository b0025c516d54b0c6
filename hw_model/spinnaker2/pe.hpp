#pragma once
// One SpiNNaker 2 processing element (PE): an ARM Cortex-M4F core with 128 KB local SRAM and a
// MAC accelerator. The ARM core runs event-driven spiking layers with a SpiNNaker-style cost
// model (a fixed cost per received spike packet, a cost per synaptic event, a cost per neuron
// update) and the ARM-side work of ANN layers (max pooling, partial-sum reduction), at the PE
// clock. SpiNNaker 2's software costs are not documented in our sources (reference
// spinnaker2-and-performance.md A1: "not documented"), so every cycle cost below is an
// ASSUMPTION. The measurement that settles the spiking ones: on one PE running py-spinnaker2's
// spiking application, the cycle counter over runs with a fixed packet count and varied fan-out
// (synaptic events per packet) — the intercept per packet is cycles_per_spike_received, the slope
// cycles_per_synaptic_event; the same with varied neuron count gives cycles_per_neuron_update.
// The ANN ones: the cycle counter around a max-pool and a partial-sum loop on one PE.
//
// For scale (SpiNNaker 1, ARM968 at 200 MHz; reference spinnaker1.md §2 and B2): sPyNNaker's
// design target of 10,000 synaptic events/ms per core is 200e6 / 1e7 = 20 cycles per event all-in
// (derived); Rhodes et al. 2018 report within 2× of it, i.e. ≤ 40 cycles all-in; Stromatias et al.
// 2013's 2.3 M events/s per core is 200e6 / 2.3e6 ≈ 87 cycles all-in. (An earlier comment here
// called 10 cycles "consistent with 1–2 M events/s per 200 MHz ARM968"; 1–2 M events/s is
// 100–200 cycles per event, not 10.) This model's 10 + 100/fan-out cycles per event is therefore
// a few times cheaper than SpiNNaker 1's measured all-in cost: the M4F's DMA sits in the PE
// beside its SRAM (no SDRAM row fetch) and a binary neuron has no LIF state to decay.
// Sources: datasheet v0.03 [V] (Cortex-M4F, 128 KB SRAM, DMA); seed slides [V] (300 MHz max PE clock).
#include <cstdint>

#include "hw_model/spinnaker2/mac_array.hpp"
#include "hw_model/spinnaker2/units.hpp"

namespace grindstone::hw::s2 {

class ArmCore {
 public:
  /// PE-clock cycle costs (every one an ASSUMPTION, see the file comment for the measurement).
  struct Params {
    /// Per received spike packet: interrupt, population-table lookup, DMA set-up of the synaptic
    /// row from local SRAM. ASSUMPTION: 100 cycles (the SpiNNaker 1 model charges 250 for the
    /// same work plus an SDRAM row fetch, hw::s1::CoreTiming — also an assumption).
    Cycles cycles_per_spike_received{100};
    /// Per synaptic event, the synapse-loop body only (load the weight word, add to the neuron's
    /// input); the per-row cost is in cycles_per_spike_received. ASSUMPTION: 10 cycles (≈5 M4F
    /// instructions of 1–2 cycles). The SpiNNaker 1 model's 40 is an all-in figure (see above).
    Cycles cycles_per_synaptic_event{10};
    /// Per neuron per sample: threshold compare and clear of a binary neuron. ASSUMPTION: 20
    /// cycles (the SpiNNaker 1 model's 80 are for a LIF neuron, old sPyNNaker cost hook).
    Cycles cycles_per_neuron_update{20};
    /// Per spike sent: write the key to the NoC interface. ASSUMPTION: 10 cycles.
    Cycles cycles_per_spike_sent{10};
    /// Per int32 partial sum received from another PE and added (load, add, store) when a MAC
    /// layer's input is split over PEs. ASSUMPTION: 2 cycles with M4F load/store multiple.
    Cycles cycles_per_partial_sum_add{2};
    /// Neurons one core may hold. Source: py-spinnaker2 notebooks use set_max_atoms_per_core
    /// with 256/128/16 [V]; we take 256.
    std::int64_t max_neurons_per_core = 256;
  };

  struct Stats {
    std::int64_t spikes_received = 0;
    std::int64_t synaptic_events = 0;
    std::int64_t neuron_updates = 0;
    std::int64_t spikes_sent = 0;
    std::int64_t cycles = 0;
    Stats& operator+=(const Stats& o);
  };

  ArmCore();  // default Params
  explicit ArmCore(Params params) : params_(params) {}
  const Params& params() const { return params_; }
  const Stats& stats() const { return stats_; }

  /// Cycles of adding `values` int32 partial sums (not recorded: the mapper counts it per layer).
  Cycles partial_sum_cycles(std::int64_t values) const { return params_.cycles_per_partial_sum_add * values; }

  /// Cycles for a piece of event-driven work, recorded in stats.
  Cycles process(std::int64_t spikes_received, std::int64_t synaptic_events, std::int64_t neuron_updates,
                 std::int64_t spikes_sent);

 private:
  Params params_;
  Stats stats_;
};

/// Static description of a PE (SRAM budget). The MAC array and ARM core have their own Params.
struct PeParams {
  /// Local SRAM per PE in bytes. Source: datasheet v0.03 [V] 128 KB.
  std::int64_t sram_bytes = 128 * 1024;
  /// SRAM kept for code, stack, DMA descriptors and runtime tables. ASSUMPTION: 32 KB.
  std::int64_t reserved_sram_bytes = 32 * 1024;
  ArmCore::Params arm;
  MacArray::Params mac;
  std::int64_t usable_sram_bytes() const { return sram_bytes - reserved_sram_bytes; }
};

}  // namespace grindstone::hw::s2
