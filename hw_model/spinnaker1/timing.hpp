#pragma once
// CPU timing model of a sPyNNaker application core, plus the system-level timing parameters
// (timestep, time-scale factor, and the router/link parameters, re-exported for one place to
// configure). Per-tick work = timer overhead + neuron updates + per received spike (master
// population table search + DMA of the synaptic row) + per synapse processed; it must fit the
// timer period of 200·timestep_us·tsf CPU cycles, else the core overruns (reference §6).
// Sources: reference §2 "Cycle costs" (old Python cost hooks "A bit of a guess": 80 cycles per LIF
// neuron, +20 for reset), Rhodes et al. 2018 (within 2× of 10,000 synaptic events/ms/core),
// Stromatias et al. 2013 (≈2.3 M events/s per application core, derived); most per-event figures
// are ASSUMPTIONS, marked per field.
#include <cstdint>

#include "hw_model/spinnaker1/link.hpp"
#include "hw_model/spinnaker1/router.hpp"
#include "hw_model/spinnaker1/units.hpp"

namespace grindstone::hw::s1 {

/// Work done by one core in one tick (counts from the executor).
struct CoreTickWork {
  std::int64_t neurons_updated = 0;     ///< neurons whose state was updated
  std::int64_t neurons_spiked = 0;      ///< of which fired (pay the reset/send cost)
  std::int64_t spikes_received = 0;     ///< multicast packets processed (MPT hits)
  std::int64_t pop_table_misses = 0;    ///< packets with no MPT entry (search cost only)
  std::int64_t rows_fetched = 0;        ///< synaptic rows DMA'd (repeated keys may reuse a row)
  std::int64_t row_bytes_fetched = 0;   ///< bytes DMA'd for those rows ((row_len+3)·4 each)
  std::int64_t synaptic_events = 0;     ///< synapses processed (ring-buffer additions)
};

/// Cycle costs of the sPyNNaker core loop, CPU cycles at 200 MHz.
class CoreTiming {
 public:
  struct Params {
    /// CPU clock. Source: scamp-3.c "CPUs at 200" MHz.
    Clock clock = kCpuClock;
    /// Fixed cost of each timer tick (interrupt, time++, ring-buffer slot transfer set-up,
    /// recording flush). Assumption: 500 cycles (2.5 µs).
    Cycles timer_tick_overhead = Cycles(500);
    /// Per neuron update (LIF state update + ring-buffer transfer + threshold). Source: old
    /// sPyNNaker Python cost hooks, 80 cycles per LIF neuron ("A bit of a guess", reference §2).
    Cycles per_neuron_update = Cycles(80);
    /// Extra per spiking neuron (reset + multicast send). Source: same hooks, +20 for reset;
    /// assumption: the send is included.
    Cycles per_neuron_spike = Cycles(20);
    /// Per received spike: FIQ + input-buffer enqueue + master-population-table binary search +
    /// DMA set-up and completion interrupt. Assumption: 250 cycles (≈1.25 µs).
    Cycles per_spike_received = Cycles(250);
    /// Per packet that misses the population table (FIQ + search only). Assumption: 100 cycles.
    Cycles per_pop_table_miss = Cycles(100);
    /// Per synapse processed (decode word, ring-buffer add with saturation check). Derived:
    /// Rhodes et al. 2018 report throughput within 2× of the 10k events/ms design target, i.e.
    /// ≈5k events/ms = 40 cycles per event at 200 MHz (reference §2, §6).
    Cycles per_synaptic_event = Cycles(40);
    /// DMA throughput from SDRAM into DTCM seen by one core, bytes per CPU cycle. Assumption:
    /// 1 B/cycle = 200 MB/s, i.e. the chip's ≈1 GB/s SDRAM bandwidth (seed 000: SpiNNaker 1
    /// "DRAM 128MB 1GB/s") shared by ≈5 cores fetching at once. With two DMA buffers
    /// (N_DMA_BUFFERS = 2, reference §2) the transfer overlaps processing, so only DMA time beyond
    /// synapse processing is added (see tick_cycles).
    double dma_bytes_per_cycle = 1.0;
    /// Spread each core's spikes over the first half of the tick, as sPyNNaker 4–5 (the seed's
    /// era) does: neuron.c (neuron_do_timestep_update) busy-waits before each send until
    /// `expected_time`, which starts one spacing after the update loop begins and advances by
    /// time_between_spikes per spike; delay_extension.c does the same per re-sent spike. The
    /// host writes time_between_spikes = int(timestep_us·tsf / (2·n)) µs with n = the core's
    /// atoms (abstract_population_vertex.py _write_neuron_parameters) or atoms × delay stages
    /// (delay_extension_vertex.py), and the core multiplies it by sv->cpu_clk (200) into cycles.
    /// Spike sources (SpikeSourceArray = SFEC reverse_iptag_multicast_source) send at once
    /// (assumption: no spacing was found in that source; settle by timing a SpikeSourceArray
    /// core's sends with the router's diagnostic counters). Off = sPyNNaker 7 behaviour (sends at
    /// once; it replaced this with a colour/late-spike scheme).
    bool spread_spikes = true;
  };

  struct Stats {
    std::int64_t ticks = 0;
    std::int64_t overruns = 0;            ///< ticks whose work exceeded the timer period
    Cycles busy;                          ///< cycles of work over all ticks
    Cycles max_tick;                      ///< worst tick
    double overrun_ratio() const { return ticks ? static_cast<double>(overruns) / static_cast<double>(ticks) : 0.0; }
    /// One tick of `worked` cycles; `overrun` when it ran past the timer period.
    void record(Cycles worked, bool overrun);
    Stats& operator+=(const Stats& o);
  };

  CoreTiming() : CoreTiming(Params{}) {}
  explicit CoreTiming(Params params) : params_(params) {}
  const Params& params() const { return params_; }
  const Stats& stats() const { return stats_; }

  // Per-event costs, the pieces tick_cycles is built from (an event-driven executor charges them
  // one event at a time, so it never recovers one by subtracting another from a tick's total).
  /// The fixed part of a timer event.
  Cycles timer_overhead_cycles() const { return params_.timer_tick_overhead; }
  /// Updating `neurons` neurons.
  Cycles neuron_update_cycles(std::int64_t neurons) const { return params_.per_neuron_update * neurons; }
  /// Resetting and sending for `spiked` spiking neurons.
  Cycles neuron_spike_cycles(std::int64_t spiked) const { return params_.per_neuron_spike * spiked; }
  /// Receiving `packets` packets that hit the population table (without their rows).
  Cycles received_cycles(std::int64_t packets) const { return params_.per_spike_received * packets; }
  /// The timer event: overhead + neurons·per_neuron_update + spiked·per_neuron_spike.
  Cycles timer_cycles(std::int64_t neurons_updated, std::int64_t neurons_spiked) const {
    return timer_overhead_cycles() + neuron_update_cycles(neurons_updated) + neuron_spike_cycles(neurons_spiked);
  }
  /// When, from the start of its timer event, a core sends the spike of its `spikes`-th spiking
  /// neuron (1-based) after updating `neurons_updated` neurons.
  Cycles spike_send_cycles(std::int64_t neurons_updated, std::int64_t spikes) const {
    return timer_cycles(neurons_updated, spikes);
  }
  /// Minimum spacing between a core's successive spikes in a tick of length `period` when it
  /// may send up to `max_spikes` spikes (Params::spread_spikes): int(period_us / (2·max_spikes))
  /// µs in CPU cycles; 0 when spreading is off or max_spikes < 1.
  Cycles spike_spacing_cycles(SimTime period, std::int64_t max_spikes) const;
  /// DMA of `bytes` from SDRAM (rounded up to whole cycles).
  Cycles dma_cycles(std::int64_t bytes) const;
  /// Synapse processing of `synapses` words overlapped with the DMA of `row_bytes`:
  /// max(synapses·per_synaptic_event, DMA cycles).
  Cycles synapse_and_dma_cycles(std::int64_t synapses, std::int64_t row_bytes) const;
  /// One received packet that hits the population table, with its row of `synapses` words
  /// (`row_bytes` DMA'd): per_spike_received + synapse_and_dma_cycles.
  Cycles packet_cycles(std::int64_t synapses, std::int64_t row_bytes) const {
    return received_cycles(1) + synapse_and_dma_cycles(synapses, row_bytes);
  }
  /// `packets` received packets that miss the population table.
  Cycles miss_cycles(std::int64_t packets = 1) const { return params_.per_pop_table_miss * packets; }
  /// One packet received by a delay-extension core (queued for re-sending, no row).
  Cycles relay_cycles() const { return received_cycles(1); }

  /// Cycles one tick of `work` takes: timer overhead + neurons·per_neuron_update +
  /// spiked·per_neuron_spike + spikes·per_spike_received + misses·per_pop_table_miss +
  /// events·per_synaptic_event + max(0, DMA cycles − events·per_synaptic_event) (the DMA of the
  /// next row overlaps processing of the current one).
  Cycles tick_cycles(const CoreTickWork& work) const;
  /// Records one tick against `budget` (timer period in CPU cycles); returns its cycles.
  Cycles record_tick(const CoreTickWork& work, Cycles budget);
  void reset_stats() { stats_ = {}; }

 private:
  Params params_;
  Stats stats_;
};

/// System-level timing configuration: one place for everything that sets the pace.
struct TimingParams {
  /// Simulation timestep, µs. Source: sPyNNaker default simulation_time_step = 1000 µs (§6).
  std::int64_t timestep_us = 1000;
  /// Time-scale factor: the timer period is timestep_us × tsf of hardware time (must give an
  /// integer number of µs; SFEC _set_hardware_timestep). Source: reference §6.
  double time_scale_factor = 1.0;
  CoreTiming::Params core;
  Router::Params router;

  /// Timer period in hardware time: timestep_us × tsf µs.
  SimTime timer_period() const { return SimTime::from_us(static_cast<double>(timestep_us) * time_scale_factor); }
  /// CPU cycles available per tick: 200 × timestep_us × tsf.
  Cycles cycles_per_tick() const { return core.clock.cycles_in(timer_period()); }
  /// Hardware time of `n` ticks.
  SimTime duration(Ticks n) const { return timer_period() * n.value; }
  /// Smallest time-scale factor (an integer ≥ 1, as sPyNNaker users set it) whose timer period
  /// covers `worst_tick` CPU cycles.
  std::int64_t min_time_scale_factor(Cycles worst_tick) const;
  /// Throws InputError if timestep_us < 1, tsf ≤ 0, or timestep_us × tsf is not an integer number
  /// of µs ("time_scale_factor: timestep 1000 us × tsf 1.5 is not a whole number of us" style).
  void validate() const;
};

/// Router time per packet (cycles_per_packet at the router clock).
SimTime router_time_per_packet(const Router::Params& p);
/// Link time per packet: serialisation of a 40-bit (or 72-bit) packet plus propagation.
SimTime link_time_per_packet(const InterChipLink::Params& p, bool with_payload = false);

/// Packets a core's incoming spike buffer holds when sPyNNaker asks for `requested` entries
/// (incoming_spike_buffer_size, default 256). spinn_common circular_buffer.c
/// (circular_buffer_initialize) rounds a size that is not a power of two up to the next one, and
/// circular_buffer_add refuses an item when input+1 would meet output, so one slot stays empty:
/// 256 → 255, 300 → 511. A full buffer drops the packet (the overflow count is sPyNNaker's
/// "Times_the_input_buffer_lost_packets").
int incoming_spike_buffer_capacity(int requested);

}  // namespace grindstone::hw::s1
