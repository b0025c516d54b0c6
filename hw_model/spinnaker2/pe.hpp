#pragma once
// One SpiNNaker 2 processing element (PE): an ARM Cortex-M4F core with 128 KB local SRAM and a
// MAC accelerator. The ARM core runs event-driven spiking layers; its cost model follows
// SpiNNaker 1's software (a fixed cost per received spike packet for the DMA of the synaptic row,
// a cost per synaptic event, and a cost per neuron update), with SpiNNaker 2's clock and memory.
// Sources: datasheet v0.03 [V] (Cortex-M4F, 128 KB SRAM, DMA); seed slides [V] (300 MHz max PE clock).
#include <cstdint>

#include "hw_model/spinnaker2/mac_array.hpp"
#include "hw_model/spinnaker2/units.hpp"

namespace grindstone::hw::s2 {

class ArmCore {
 public:
  struct Params {
    /// Cycles to receive one spike packet (interrupt, master-population lookup, DMA set-up of the
    /// synaptic row). ASSUMPTION: SpiNNaker 1 software figure of ≈100 cycles per packet, same
    /// instruction count on the M4F.
    std::int64_t cycles_per_spike_received = 100;
    /// Cycles per synaptic event (read weight word, add to the input buffer). ASSUMPTION: ≈10
    /// cycles, consistent with 1–2 M events/s per 200 MHz ARM968 (reference B2) after overheads.
    std::int64_t cycles_per_synaptic_event = 10;
    /// Cycles per neuron state update and threshold check per tick. ASSUMPTION (≈20 cycles).
    std::int64_t cycles_per_neuron_update = 20;
    /// Cycles to send one spike packet. ASSUMPTION (≈10 cycles).
    std::int64_t cycles_per_spike_sent = 10;
    /// Cycles to add one int32 partial sum received from another PE (load, add, store) when a
    /// MAC layer's input is split over PEs. ASSUMPTION (≈2 cycles with M4F load/store multiple).
    std::int64_t cycles_per_partial_sum_add = 2;
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
