#include "snn_runtime/spinnaker1/report.hpp"

#include <cstdio>
#include <sstream>

namespace grindstone::snn::spinnaker1 {
namespace {

/// Links the model has: six per live chip (each direction one InterChipLink).
std::int64_t modelled_links(const Mapping& m) { return static_cast<std::int64_t>(m.machine.chips().size()) * hw::s1::kLinksPerChip; }
}  // namespace

nlohmann::json stats_json(const hw::s1::Router::Stats& s) {
  return {{"packets_received", s.packets_received},
          {"packets_routed", s.packets_routed},
          {"table_lookups", s.table_lookups},
          {"table_hits", s.table_hits},
          {"hit_ratio", s.hit_ratio()},
          {"default_routed", s.default_routed},
          {"no_route_dropped", s.no_route_dropped},
          {"multicast_replications", s.multicast_replications},
          {"link_sends", s.link_sends},
          {"core_deliveries", s.core_deliveries},
          {"mean_fanout", s.mean_fanout()},
          {"emergency_routed", s.emergency_routed},
          {"dropped", s.dropped},
          {"drop_ratio", s.drop_ratio()},
          {"reinjection_queued", s.reinjection_queued},
          {"reinjection_lost", s.reinjection_lost},
          {"dead_link_drops", s.dead_link_drops},
          {"reinjected", s.reinjected},
          {"total_blocking_seconds", s.total_blocking.seconds()},
          {"max_reinjection_queue", static_cast<std::int64_t>(s.max_reinjection_queue)}};
}

nlohmann::json stats_json(const hw::s1::InterChipLink::Stats& s, hw::s1::SimTime elapsed, std::int64_t links) {
  return {{"packets", s.packets},
          {"payload_packets", s.payload_packets},
          {"bits", s.bits},
          {"busy_seconds", s.busy.seconds()},
          {"max_wait_seconds", s.max_wait.seconds()},
          {"mean_utilisation", s.utilisation(elapsed * std::max<std::int64_t>(1, links))}};
}

nlohmann::json stats_json(const hw::s1::RingBuffer::Stats& s) {
  return {{"additions", s.additions},
          {"saturations", s.saturations},
          {"saturation_ratio", s.saturation_ratio()},
          {"drains", s.drains}};
}

nlohmann::json stats_json(const hw::s1::CoreTiming::Stats& s) {
  return {{"core_ticks", s.ticks},
          {"overruns", s.overruns},
          {"overrun_ratio", s.overrun_ratio()},
          {"busy_cycles", s.busy.value},
          {"max_tick_cycles", s.max_tick.value}};
}

nlohmann::json compression_json(const std::vector<hw::s1::CompressionStats>& per_chip) {
  hw::s1::CompressionStats sum;
  std::int64_t tables = 0;
  for (const hw::s1::CompressionStats& c : per_chip) {
    if (c.original_entries == 0) continue;
    ++tables;
    sum.original_entries += c.original_entries;
    sum.defaultable_removed += c.defaultable_removed;
    sum.merges += c.merges;
    sum.compressed_entries += c.compressed_entries;
  }
  return {{"tables", tables},
          {"original_entries", sum.original_entries},
          {"defaultable_removed", sum.defaultable_removed},
          {"merges", sum.merges},
          {"compressed_entries", sum.compressed_entries},
          {"ratio", sum.ratio()}};
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
  const hw::s1::SimTime elapsed = hw::s1::SimTime::from_seconds(r.simulated_seconds);
  j["router_stats"] = stats_json(r.router_stats);
  j["link_stats"] = stats_json(r.link_stats, elapsed, modelled_links(m));
  j["ring_buffer_stats"] = stats_json(r.ring_buffer_stats);
  j["core_timing_stats"] = stats_json(r.core_timing_stats);
  j["routing_table_compression"] = compression_json(sim.routing.compression);
  nlohmann::json enc = nlohmann::json::object();
  for (std::size_t p = 0; p < network.populations.size(); ++p)
    if (!network.populations[p].is_source()) enc[network.populations[p].name] = m.encodings[p].description;
  j["weight_encoding"] = enc;
  // Which layer's cores take the load (delay-extension cores count for the population they delay).
  nlohmann::json loads = nlohmann::json::object();
  for (std::size_t p = 0; p < r.per_population.size() && p < network.populations.size(); ++p) {
    const PopulationLoad& l = r.per_population[p];
    loads[network.populations[p].name] = {{"packets_delivered", l.packets_delivered},
                                          {"packets_dropped_input_queue", l.packets_dropped_input_queue},
                                          {"late_spikes", l.late_spikes},
                                          {"core_overruns", l.core_overruns},
                                          {"worst_tick_cycles", l.worst_tick_cycles}};
  }
  j["per_population"] = loads;
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
  char buf[2048];
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
  const hw::s1::Router::Stats& rs = r.router_stats;
  std::snprintf(buf, sizeof buf,
                "  routers: %lld received, %lld routed, lookups %lld (hit ratio %.4f), default-routed %lld, no-route %lld, "
                "mean fan-out %.3f, dropped %lld (drop ratio %.6f; dead link %lld), reinjection queued %lld / lost %lld / "
                "sent %lld (queue max %zu), blocking %.6f s\n",
                static_cast<long long>(rs.packets_received), static_cast<long long>(rs.packets_routed),
                static_cast<long long>(rs.table_lookups), rs.hit_ratio(), static_cast<long long>(rs.default_routed),
                static_cast<long long>(rs.no_route_dropped), rs.mean_fanout(), static_cast<long long>(rs.dropped),
                rs.drop_ratio(), static_cast<long long>(rs.dead_link_drops), static_cast<long long>(rs.reinjection_queued),
                static_cast<long long>(rs.reinjection_lost), static_cast<long long>(rs.reinjected), rs.max_reinjection_queue,
                rs.total_blocking.seconds());
  s << buf;
  const hw::s1::InterChipLink::Stats& ls = r.link_stats;
  std::snprintf(buf, sizeof buf, "  links: %lld packets (%lld with payload), %lld bits, busy %.6f s (mean utilisation %.6f), max wait %.9f s\n",
                static_cast<long long>(ls.packets), static_cast<long long>(ls.payload_packets), static_cast<long long>(ls.bits),
                ls.busy.seconds(), ls.utilisation(hw::s1::SimTime::from_seconds(r.simulated_seconds) * std::max<std::int64_t>(1, modelled_links(m))),
                ls.max_wait.seconds());
  s << buf;
  const hw::s1::CoreTiming::Stats& cs = r.core_timing_stats;
  std::snprintf(buf, sizeof buf,
                "  cores: %lld core-ticks, %lld overruns (ratio %.6f), %lld busy cycles, worst tick %lld cycles; ring buffers: "
                "%lld additions, %lld saturations (ratio %.6f), %lld drains\n",
                static_cast<long long>(cs.ticks), static_cast<long long>(cs.overruns), cs.overrun_ratio(),
                static_cast<long long>(cs.busy.value), static_cast<long long>(cs.max_tick.value),
                static_cast<long long>(r.ring_buffer_stats.additions), static_cast<long long>(r.ring_buffer_stats.saturations),
                r.ring_buffer_stats.saturation_ratio(), static_cast<long long>(r.ring_buffer_stats.drains));
  s << buf;
  const nlohmann::json comp = compression_json(sim.routing.compression);
  std::snprintf(buf, sizeof buf, "  routing tables: %lld entries → %lld after compression (%lld defaultable removed, %lld merges)\n",
                static_cast<long long>(comp["original_entries"].get<std::int64_t>()),
                static_cast<long long>(comp["compressed_entries"].get<std::int64_t>()),
                static_cast<long long>(comp["defaultable_removed"].get<std::int64_t>()),
                static_cast<long long>(comp["merges"].get<std::int64_t>()));
  s << buf;
  std::snprintf(buf, sizeof buf, "  energy: idle %.3f J, cores %.3f J, packets %.6f J, synaptic %.6f J\n", r.energy.idle_joules,
                r.energy.core_joules, r.energy.packet_joules, r.energy.synaptic_joules);
  s << buf;
  std::snprintf(buf, sizeof buf, "  simulated in %.3f s wall (mapping %.3f s)\n", r.wall_seconds, sim.mapping_seconds);
  s << buf;
  return s.str();
}

}  // namespace grindstone::snn::spinnaker1
