#include "snn_runtime/spinnaker1/simulation.hpp"

#include <chrono>
#include <cstdio>
#include <sstream>

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

nlohmann::json report_json(const Network& network, const Simulation& sim, const std::string& dataset) {
  const Mapping& m = sim.mapping;
  const ExecutorResult& r = sim.result;
  const auto per_sample = [&](std::int64_t v) { return r.samples ? static_cast<double>(v) / static_cast<double>(r.samples) : 0.0; };
  nlohmann::json j;
  j["engine"] = "spinnaker1";
  j["dataset"] = dataset;
  j["samples"] = r.samples;
  j["accuracy"] = r.accuracy;
  j["wall_seconds"] = r.wall_seconds;
  j["samples_per_second"] = r.wall_seconds > 0 ? static_cast<double>(r.samples) / r.wall_seconds : 0.0;
  j["spikes_per_sample"] = per_sample(r.spikes);
  j["synaptic_events_per_sample"] = per_sample(r.synaptic_events);
  j["tiles"] = m.options.tiles;
  j["neurons"] = m.neurons_per_tile * m.options.tiles;
  j["cores"] = static_cast<std::int64_t>(m.cores.size());
  j["chips"] = static_cast<std::int64_t>(m.chips_used.size());
  j["boards"] = m.machine.n_boards();
  j["time_scale_factor"] = sim.time_scale_factor;
  j["simulated_seconds"] = r.simulated_seconds;
  j["hw_throughput_samples_per_second"] = r.hw_throughput_samples_per_second;
  j["hw_latency_seconds"] = r.hw_latency_seconds;
  j["packets_sent"] = r.packets_sent;
  j["packets_delivered"] = r.packets_delivered;
  j["packets_dropped"] = r.packets_dropped;
  j["packets_reinjected"] = r.packets_reinjected;
  j["packets_emergency_routed"] = r.router_stats.emergency_routed;
  j["router_entries_max"] = sim.routing.entries_max;
  j["ring_buffer_saturations"] = r.ring_buffer_saturations;
  j["late_spikes"] = r.late_spikes;
  j["energy_joules"] = r.energy.total_joules();
  // Extra detail.
  std::int64_t delay_cores = 0;
  for (const CoreSlice& s : m.slices) delay_cores += s.kind == CoreKind::DelayExtension ? 1 : 0;
  j["cores_per_tile"] = static_cast<std::int64_t>(m.slices.size());
  j["delay_extension_cores"] = delay_cores * m.options.tiles;
  j["synapses"] = m.synapses_per_tile * m.options.tiles;
  j["max_delay_ticks"] = m.max_delay;
  j["router_entries_max_uncompressed"] = sim.routing.entries_max_uncompressed;
  j["router_entries_total"] = sim.routing.entries_total;
  j["key_bits"] = {{"vertex", m.vertex_bits}, {"core", m.core_bits}, {"atom", m.atom_bits}};
  j["ticks"] = r.ticks;
  j["timer_period_seconds"] = r.timer_period_seconds;
  j["packets_dropped_random"] = r.packets_dropped_random;
  j["packets_dropped_router"] = r.packets_dropped_router;
  j["packets_dropped_input_queue"] = r.packets_dropped_input_queue;
  j["router_traversals"] = r.router_traversals;
  j["late_synaptic_events"] = r.late_synaptic_events;
  j["core_overruns"] = r.core_overruns;
  j["worst_tick_cycles"] = r.worst_tick_cycles;
  j["energy"] = {{"idle_joules", r.energy.idle_joules},
                 {"core_joules", r.energy.core_joules},
                 {"packet_joules", r.energy.packet_joules},
                 {"synaptic_joules", r.energy.synaptic_joules}};
  j["mapping_seconds"] = sim.mapping_seconds;
  nlohmann::json enc = nlohmann::json::object();
  for (std::size_t p = 0; p < network.populations.size(); ++p)
    if (!network.populations[p].is_source()) enc[network.populations[p].name] = m.encodings[p].description;
  j["weight_encoding"] = enc;
  if (!sim.auto_trials.empty()) {
    nlohmann::json trials = nlohmann::json::array();
    for (const auto& [tsf, ok] : sim.auto_trials) trials.push_back({{"time_scale_factor", tsf}, {"clean", ok}});
    j["time_scale_factor_trials"] = trials;
  }
  return j;
}

std::string report_human(const Simulation& sim, const std::string& dataset) {
  const Mapping& m = sim.mapping;
  const ExecutorResult& r = sim.result;
  char buf[1024];
  std::ostringstream s;
  std::snprintf(buf, sizeof buf, "SpiNNaker 1 model: %lld %s samples, accuracy %.4f\n", static_cast<long long>(r.samples),
                dataset.c_str(), r.accuracy);
  s << buf;
  std::snprintf(buf, sizeof buf, "  %d tile(s), %zu cores on %zu chips (%d board(s)), %lld neurons, router entries max %d\n",
                m.options.tiles, m.cores.size(), m.chips_used.size(), m.machine.n_boards(),
                static_cast<long long>(m.neurons_per_tile * m.options.tiles), sim.routing.entries_max);
  s << buf;
  std::snprintf(buf, sizeof buf,
                "  time-scale factor %g: %lld ticks = %.4f s of hardware time, %.1f samples/s, latency %.4f s, %.3f J\n",
                sim.time_scale_factor, static_cast<long long>(r.ticks), r.simulated_seconds,
                r.hw_throughput_samples_per_second, r.hw_latency_seconds, r.energy.total_joules());
  s << buf;
  std::snprintf(buf, sizeof buf,
                "  packets sent %lld = delivered %lld + dropped %lld (reinjected %lld, emergency-routed %lld); late spikes "
                "%lld; saturations %lld\n",
                static_cast<long long>(r.packets_sent), static_cast<long long>(r.packets_delivered),
                static_cast<long long>(r.packets_dropped), static_cast<long long>(r.packets_reinjected),
                static_cast<long long>(r.router_stats.emergency_routed),
                static_cast<long long>(r.late_spikes), static_cast<long long>(r.ring_buffer_saturations));
  s << buf;
  std::snprintf(buf, sizeof buf, "  simulated in %.3f s wall (mapping %.3f s)\n", r.wall_seconds, sim.mapping_seconds);
  s << buf;
  return s.str();
}

}  // namespace grindstone::snn::spinnaker1
