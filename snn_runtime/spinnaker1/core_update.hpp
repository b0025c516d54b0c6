#pragma once
// The executor's update step (NEST's update, separate from delivery): one core's timer event at
// tick T. The event starts at max(T·P, end of the core's previous work). Neuron cores drain
// ring-buffer slot T and evaluate the neurons whose fire tick falls at T for one of their tile's
// samples (instant decay) or all neurons (integrate-and-fire); spike-source cores emit the
// sample's input spikes; delay-extension cores re-emit the spikes scheduled for T. Each spike
// leaves at the time the core's cycle count (hw CoreTiming) reaches it, but (sPyNNaker 4–5) not
// before its send slot: neuron and delay cores space their k-th spike k·time_between_spikes after
// the update loop starts (CoreTiming::spike_spacing_cycles). Output spikes set the
// sample's output bits; the raster sample's spikes are recorded.
#include <cstdint>
#include <vector>

#include "hw_model/spinnaker1/timing.hpp"
#include "snn_runtime/network/input_spikes.hpp"
#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker1/core_state.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"
#include "snn_runtime/spinnaker1/routing.hpp"
#include "snn_runtime/spinnaker1/sample_schedule.hpp"

namespace grindstone::snn::spinnaker1 {

class CoreUpdate {
 public:
  /// `inputs`: per global sample, the encoded spikes per source driver (in `drivers` order);
  /// `raster_sample`: global sample to record (−1: none). All are referenced, not copied.
  /// `period`: the timer period (sets the sPyNNaker 4–5 spike spacing, CoreTiming).
  CoreUpdate(const Network& network, const Mapping& mapping, const Routing& routing, const hw::s1::CoreTiming& timing,
             hw::s1::SimTime period, const SampleSchedule& schedule, const std::vector<SourceDriver>& drivers,
             const std::vector<std::vector<PopulationSpikes>>& inputs, std::int64_t raster_sample);

  /// Runs core `c`'s timer event of tick `T` (starting no earlier than `tick_start`): clears its
  /// spikes and inbox, fills spike_atoms/spike_times, busy_until, counters, and the output bits
  /// of the samples it fires for (`out_bits`: per global sample, per output neuron; cores write
  /// disjoint entries).
  void update(std::size_t c, std::int64_t T, hw::s1::SimTime tick_start, CoreState& st,
              std::vector<std::vector<std::uint8_t>>& out_bits) const;

 private:
  /// Spike emission at the cycle count of the timer event so far.
  struct Emitter;
  void update_neurons(const PlacedCore& pc, const CoreSlice& s, std::int64_t T, CoreState& st, Emitter& emit) const;
  void emit_sources(const PlacedCore& pc, const CoreSlice& s, std::int64_t T, Emitter& emit) const;
  /// Output bits and raster for this tick's neuron/source spikes.
  void record(std::size_t c, std::int64_t T, CoreState& st, std::vector<std::vector<std::uint8_t>>& out_bits) const;

  const Network& network_;
  const Mapping& m_;
  const Routing& routing_;
  const hw::s1::CoreTiming& timing_;
  hw::s1::SimTime period_;
  const SampleSchedule& schedule_;
  const std::vector<std::vector<PopulationSpikes>>& inputs_;
  std::vector<int> driver_of_;                           ///< per population: its driver, −1 if none
  std::vector<std::vector<std::int64_t>> group_bounds_;  ///< per population: temporal group g = [b[g], b[g+1])
  int raster_tile_ = -1;
  std::int64_t raster_k_ = -1;
};

}  // namespace grindstone::snn::spinnaker1
