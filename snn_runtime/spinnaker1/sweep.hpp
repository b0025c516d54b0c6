#pragma once
// A settings map for SpiNNaker 1 (`grindstone sweep`): the same network and test images run at
// every (temporal groups, time-scale factor) pair, reporting what sPyNNaker users ask about —
// accuracy, packets lost at input queues and routers, late spikes, overruns, throughput and
// latency — so a user can pick the smallest factor that keeps the single-pass engine's accuracy
// ("packets arrived too late; increase time_scale_factor", reference §10).
#include <string>
#include <vector>

#include "datasets/dataset.hpp"
#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker1/simulation.hpp"

namespace grindstone::snn::spinnaker1 {

struct SweepOptions {
  /// Every other setting (tiles, between-sample time, machine, …); its time-scale factor and
  /// auto search are replaced by each point's.
  SimulationOptions base;
  /// Time-scale factors to try (each > 0).
  std::vector<double> time_scale_factors;
  /// Temporal groups to re-group the network into (snn::set_temporal_groups); empty = the
  /// network's own.
  std::vector<int> temporal_groups;
};

struct SweepPoint {
  int temporal_groups = 1;
  double time_scale_factor = 1.0;
  double accuracy = 0.0;
  std::int64_t packets_sent = 0;
  std::int64_t packets_dropped = 0;
  std::int64_t packets_dropped_input_queue = 0;
  std::int64_t packets_dropped_router = 0;
  std::int64_t late_spikes = 0;
  std::int64_t core_overruns = 0;
  std::int64_t worst_tick_cycles = 0;
  std::int64_t cores = 0;
  double hw_throughput_samples_per_second = 0.0;
  double hw_latency_seconds = 0.0;
  bool clean = false;  ///< nothing dropped, late or overrun
};

/// Runs every point, groups outer and factors inner, in the order given. InputError naming
/// `context` on bad options (an empty or non-positive factor list, groups out of range).
std::vector<SweepPoint> sweep(const Network& network, const datasets::Dataset& data, const SweepOptions& options,
                              const std::string& context);

}  // namespace grindstone::snn::spinnaker1
