#include "snn_runtime/spinnaker1/simulation.hpp"

#include <chrono>

#include "common/error.hpp"

namespace grindstone::snn::spinnaker1 {

bool no_overrun(const ExecutorResult& r) {
  // Overrun = work past the tick budget (and the late synapses it causes). Input-queue and router
  // losses are bursts that a slower timer does not cure (arrival and processing rates do not
  // depend on the factor), so they are reported, not searched away.
  return r.core_overruns == 0 && r.late_spikes == 0 && r.late_synaptic_events == 0;
}

Simulation simulate(const Network& network, const datasets::Dataset& data, const SimulationOptions& options,
                    const std::string& context) {
  const auto t0 = std::chrono::steady_clock::now();
  Mapping mapping = map_network(network, options.mapping, context);
  Routing routing = build_routing(mapping, context);
  const double mapping_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Simulation sim{std::move(mapping), std::move(routing), {}, options.executor.time_scale_factor, {}, mapping_seconds};
  ExecutorOptions eo = options.executor;
  if (!options.auto_time_scale) {
    sim.result = execute(network, sim.mapping, sim.routing, data, eo, context);
    return sim;
  }
  // Doubling, then bisection over integers: the smallest clean factor. Every trial is a full
  // run (the outcome depends on the traffic of every sample).
  auto trial = [&](int tsf) {
    eo.time_scale_factor = tsf;
    ExecutorResult r = execute(network, sim.mapping, sim.routing, data, eo, context);
    const bool clean = no_overrun(r);
    sim.auto_trials.emplace_back(tsf, clean);
    return std::make_pair(clean, std::move(r));
  };
  int lo = 0, hi = 1;
  auto [clean, best] = trial(hi);
  while (!clean) {
    lo = hi;
    hi *= 2;
    require_input(hi <= options.max_time_scale_factor, context,
                  "--time-scale-factor auto: still overrunning at " + std::to_string(lo));
    std::tie(clean, best) = trial(hi);
  }
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    auto [ok, r] = trial(mid);
    if (ok) {
      hi = mid;
      best = std::move(r);
    } else {
      lo = mid;
    }
  }
  sim.time_scale_factor = hi;
  sim.result = std::move(best);
  return sim;
}

}  // namespace grindstone::snn::spinnaker1
