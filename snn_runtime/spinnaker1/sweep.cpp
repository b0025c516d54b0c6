#include "snn_runtime/spinnaker1/sweep.hpp"

#include "common/error.hpp"
#include "snn_runtime/network/temporal_groups.hpp"

namespace grindstone::snn::spinnaker1 {

std::vector<SweepPoint> sweep(const Network& network, const datasets::Dataset& data, const SweepOptions& options,
                              const std::string& context) {
  require_input(!options.time_scale_factors.empty(), "--time-scale-factor", "needs at least one factor");
  for (double f : options.time_scale_factors)
    require_input(f > 0, "--time-scale-factor", "factors must be positive, got " + std::to_string(f));
  std::vector<int> groups = options.temporal_groups;
  if (groups.empty()) groups.push_back(temporal_groups_of(network, context));
  std::vector<SweepPoint> points;
  for (int k : groups) {
    Network net = network;
    set_temporal_groups(net, k, context + ": --temporal-groups");
    for (double f : options.time_scale_factors) {
      SimulationOptions o = options.base;
      o.auto_time_scale = false;
      o.executor.time_scale_factor = f;
      const Simulation sim = simulate(net, data, o, context);
      const ExecutorResult& r = sim.result;
      SweepPoint p;
      p.temporal_groups = k;
      p.time_scale_factor = f;
      p.accuracy = r.accuracy;
      p.packets_sent = r.packets_sent;
      p.packets_dropped = r.packets_dropped;
      p.packets_dropped_input_queue = r.packets_dropped_input_queue;
      p.packets_dropped_router = r.packets_dropped_router;
      p.late_spikes = r.late_spikes;
      p.core_overruns = r.core_overruns;
      p.worst_tick_cycles = r.worst_tick_cycles;
      p.cores = static_cast<std::int64_t>(sim.mapping.cores.size());
      p.hw_throughput_samples_per_second = r.hw_throughput_samples_per_second;
      p.hw_latency_seconds = r.hw_latency_seconds;
      p.clean = r.clean();
      points.push_back(p);
    }
  }
  return points;
}

}  // namespace grindstone::snn::spinnaker1
