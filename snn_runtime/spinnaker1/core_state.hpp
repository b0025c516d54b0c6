#pragma once
// The state one modelled core carries from tick to tick and from step to step of the executor
// (executor.hpp): the update step fills its outgoing spikes, the route step its inbox, the
// delivery step drains the inbox into the ring buffer or the delay schedule. Each step touches a
// core's state from one thread only.
#include <cstdint>
#include <memory>
#include <vector>

#include "hw_model/spinnaker1/delays.hpp"
#include "hw_model/spinnaker1/ring_buffer.hpp"
#include "hw_model/spinnaker1/timing.hpp"
#include "hw_model/spinnaker1/units.hpp"
#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker1/executor.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"

namespace grindstone::snn::spinnaker1 {

/// A packet arriving at a core's input queue.
struct Delivery {
  hw::s1::SimTime time;
  std::int32_t source = 0;  ///< global source core
  std::uint32_t atom = 0;
};

/// Per-core counters, summed in core order after the run.
struct CoreCounters {
  std::int64_t spikes = 0;           ///< neuron and source spikes (not delay re-sends)
  std::int64_t packets_sent = 0;     ///< spikes × targets of the core
  std::int64_t synaptic_events = 0;  ///< ring-buffer additions
  std::int64_t delivered = 0;        ///< packets accepted by the input queue
  std::int64_t queue_drops = 0;      ///< packets lost at a full input queue
  std::int64_t late_packets = 0;     ///< packets with at least one late synapse
  std::int64_t late_events = 0;      ///< late synapses (delay cores: late re-sends)
  std::int64_t misses = 0;           ///< population-table misses
  hw::s1::CoreTiming::Stats timing;  ///< work per tick, overruns
};

struct CoreState {
  std::unique_ptr<hw::s1::RingBuffer> ring;   ///< neuron cores
  std::vector<std::int64_t> drained;          ///< 2 × neurons
  std::vector<std::int64_t> potential;        ///< integrate-and-fire neurons
  std::vector<std::vector<std::uint32_t>> scheduled;  ///< delay cores: atoms per future tick (ring)
  hw::s1::SimTime busy_until;                 ///< end of the core's work so far
  hw::s1::SimTime tick_began;                 ///< when this tick's timer event started
  std::vector<std::uint32_t> spike_atoms;     ///< this tick's spikes
  std::vector<hw::s1::SimTime> spike_times;
  std::vector<Delivery> inbox;
  std::vector<hw::s1::SimTime> queue_leaves;  ///< scratch: when accepted packets leave the input buffer
  std::vector<RasterSpike> raster;            ///< the raster sample's spikes from this core
  CoreCounters counters;
};

/// Ticks of a delay core's schedule ring: every delay a delay core can add, plus the current tick.
inline constexpr int kDelayRingTicks = static_cast<int>((hw::s1::kMaxDelay + hw::s1::kDelayStageTicks).value + 1);

/// Fresh state for every core of `mapping`: ring buffers for neuron cores (with membrane
/// potentials for integrate-and-fire populations), schedule rings for delay cores.
std::vector<CoreState> make_core_states(const Network& network, const Mapping& mapping);

}  // namespace grindstone::snn::spinnaker1
