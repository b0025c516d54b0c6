#pragma once
// The event-driven SpiNNaker 1 executor: runs a mapped network tick by tick on the hardware
// model (hw_model/spinnaker1), streaming samples through the tiles.
//
// One tick T (timer period P = timestep × time-scale factor) has four steps, NEST style (update
// separate from delivery), separated by barriers; each is a small collaborator of the Executor
// class in executor.cpp:
//   1. update (core_update.hpp, parallel over cores): each core's timer event starts at
//      max(T·P, end of its previous work); neuron cores drain ring-buffer slot T and evaluate the
//      neurons whose fire tick falls at T for one of their tile's samples (instant decay) or all
//      neurons (integrate-and-fire); spike-source cores emit the sample's input spikes;
//      delay-extension cores re-emit the spikes scheduled for T. Each spike leaves as a keyed
//      multicast packet at the time the core's cycle count (hw CoreTiming) reaches it.
//   2. route (tick_routing.hpp, parallel over routing groups — routing_groups.hpp — the groups of
//      chips that this tick's packet trees connect): a discrete-event simulation per group, in
//      (time, canonical order), through hw Routers — table lookup, multicast replication, link
//      serialisation, blocking, drops and reinjection — and the `--drop-probability` fault
//      (counter-based RNG keyed by seed, tick, key and chip).
//   3. deliver (packet_delivery.hpp, parallel over target cores): arrivals in (time, source
//      core, atom) order enter the bounded input queue (full → dropped), are processed one by one
//      (population-table binary search, row DMA, synapses, cycle costs) and add into the ring
//      buffer slot T + d. A synapse whose processing ends after the start of tick T + d is late:
//      its contribution is lost (counted in late_spikes per packet).
//   4. decode: the samples whose last output tick was T get their prediction.
// After the last tick, summarise: totals in core order, then routers and groups.
// Every parallel region collects exceptions per index and rethrows the lowest after the region
// (common/parallel.hpp).
// Every thread count gives the same result: per-core and per-group work is sequential and
// ordered, and totals are summed in core order.
// Host-side shortcuts that leave every result bit-identical: synaptic rows regrouped at load time
// into runs of one delay and receptor, added with vectorisable loops (row_plan.hpp); row
// processing times converted from cycles once per row; a dense memo of routing-table lookups per
// (source core, chip, atom) instead of the routers' hash maps (route_memo.hpp); and a small
// per-group event heap fed by each core's time-ordered spikes.
//
// Packets are counted per destination core: packets_sent = Σ spikes × targets of the source;
// each is delivered (reaches the core's input queue) or dropped (lost at a router — random
// fault, no reinjection room — or at a full input queue), exactly.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"
#include "hw_model/spinnaker1/energy.hpp"
#include "hw_model/spinnaker1/ring_buffer.hpp"
#include "hw_model/spinnaker1/router.hpp"
#include "hw_model/spinnaker1/timing.hpp"
#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"
#include "snn_runtime/spinnaker1/routing.hpp"

namespace grindstone::snn::spinnaker1 {

struct ExecutorOptions {
  /// Simulated time per tick, ms (sPyNNaker default 1 ms).
  double timestep_ms = 1.0;
  /// Hardware slow-down: the timer period is timestep × time_scale_factor.
  double time_scale_factor = 1.0;
  /// Simulated time between the starts of successive samples on one tile, ms (multiple of the
  /// timestep).
  double between_sample_ms = 2.0;
  /// Probability that a router loses a packet it receives (fault experiments).
  double drop_probability = 0.0;
  std::uint64_t seed = 1;
  /// Incoming spike buffer per core, packets. Source: reference §2 (incoming_spike_buffer_size
  /// default 256).
  int input_queue_packets = 256;
  /// CPU cycle costs and router/link parameters (hw_model).
  hw::s1::CoreTiming::Params core;
  hw::s1::Router::Params router;
  hw::s1::EnergyModel::Params energy;
  /// Global sample index whose spikes are recorded for a raster (−1: none).
  std::int64_t raster_sample = -1;
};

struct RasterSpike {
  std::int32_t tick;        ///< relative to the sample's start
  std::int32_t population;
  std::int64_t neuron;
};

/// Where the load falls: one population's cores (neuron and its delay-extension cores), summed.
struct PopulationLoad {
  std::int64_t packets_delivered = 0;    ///< packets accepted by its cores' input queues
  std::int64_t packets_dropped_input_queue = 0;
  std::int64_t late_spikes = 0;
  std::int64_t core_overruns = 0;
  std::int64_t worst_tick_cycles = 0;
};

struct ExecutorResult {
  std::int64_t samples = 0;
  std::int64_t correct = 0;
  double accuracy = 0.0;
  std::vector<int> predictions;           ///< per sample
  std::int64_t spikes = 0;                ///< neuron and source spikes (not delay re-sends)
  std::int64_t synaptic_events = 0;       ///< ring-buffer additions
  std::int64_t ticks = 0;
  double timer_period_seconds = 0.0;
  double simulated_seconds = 0.0;         ///< ticks × timer period
  double hw_latency_seconds = 0.0;        ///< sample start → its last output tick ends
  double hw_throughput_samples_per_second = 0.0;
  std::int64_t packets_sent = 0;
  std::int64_t packets_delivered = 0;
  std::int64_t packets_dropped = 0;
  std::int64_t packets_dropped_random = 0;       ///< of which by --drop-probability
  std::int64_t packets_dropped_router = 0;       ///< of which lost after blocking (no reinjection)
  std::int64_t packets_dropped_input_queue = 0;  ///< of which at a full input queue
  std::int64_t packets_reinjected = 0;
  std::int64_t router_traversals = 0;     ///< packets received by routers (Σ over chips)
  std::int64_t ring_buffer_saturations = 0;
  std::int64_t late_spikes = 0;           ///< packets with at least one late synapse
  std::int64_t late_synaptic_events = 0;
  std::int64_t pop_table_misses = 0;
  std::int64_t core_overruns = 0;         ///< (core, tick) whose work ran past the next tick
  std::int64_t worst_tick_cycles = 0;     ///< longest work of one core in one tick
  std::vector<std::int64_t> router_packets;  ///< per machine chip
  std::vector<PopulationLoad> per_population;  ///< per network population (delay cores count for their source)
  /// Hardware-model statistics summed over every router, inter-chip link and ring buffer (chip
  /// and core order), for profiles and for checking that optimisations leave the model unchanged.
  hw::s1::Router::Stats router_stats;
  hw::s1::InterChipLink::Stats link_stats;
  hw::s1::RingBuffer::Stats ring_buffer_stats;
  /// Core work per (core, tick) in CPU cycles, as CoreTiming::Stats (busy = Σ worked cycles).
  hw::s1::CoreTiming::Stats core_timing_stats;
  std::vector<RasterSpike> raster;
  hw::s1::EnergyModel::Breakdown energy;
  double wall_seconds = 0.0;
  /// Host wall time of the three tick phases (update, routing, delivery), for profiles.
  std::array<double, 3> phase_seconds{};

  /// True when nothing overran, was late or was lost.
  bool clean() const { return core_overruns == 0 && late_spikes == 0 && packets_dropped == 0; }
};

/// Runs `data` (all of it) through the mapped network. InputError naming `context` on options
/// that do not fit (between-sample time not a multiple of the timestep, images of the wrong size).
ExecutorResult execute(const Network& network, const Mapping& mapping, const Routing& routing,
                       const datasets::Dataset& data, const ExecutorOptions& options, const std::string& context);

}  // namespace grindstone::snn::spinnaker1
