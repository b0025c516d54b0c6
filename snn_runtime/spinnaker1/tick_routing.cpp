#include "snn_runtime/spinnaker1/tick_routing.hpp"

#include <algorithm>
#include <functional>

#include "common/parallel.hpp"
#include "common/random.hpp"

namespace grindstone::snn::spinnaker1 {

using hw::s1::EmergencyState;

TickRouting::TickRouting(const Mapping& mapping, const Routing& routing, const ExecutorOptions& options)
    : m_(mapping),
      routing_(routing),
      drop_probability_(options.drop_probability),
      seed_(options.seed),
      // An emergency detour passes through a neighbour that need not be on the packet's tree, so
      // with emergency routing on, groups could share a router: route the tick as one group.
      single_group_(options.router.wait2_cycles > hw::s1::RouterCycles(0)),
      memo_(mapping, routing),
      groups_(mapping.machine.chips().size()) {
  const auto n_chips = mapping.machine.chips().size();
  routers_.reserve(n_chips);
  hw::s1::Router::Params router_params = options.router;
  router_params.table = mapping.options.router_table;  // the tables were compressed to fit this
  for (std::size_t c = 0; c < n_chips; ++c) {
    routers_.emplace_back(mapping.machine, mapping.machine.chips()[c], router_params);
    routers_.back().load_table(routing.tables[c]);
  }
}

void TickRouting::Group::push(const Event& e) {
  heap.push_back(e);
  std::push_heap(heap.begin(), heap.end(), std::greater<>{});
}

int TickRouting::detour_target(int chip, hw::s1::Link arrived_on) const {
  const auto next = m_.machine.neighbour(m_.machine.chips()[static_cast<std::size_t>(chip)],
                                         hw::s1::link_from_index(hw::s1::link_index(arrived_on) + 1));
  return next ? m_.machine.chip_index(*next) : chip;
}

void TickRouting::route(std::int64_t T, std::vector<CoreState>& cores) {
  active_.clear();
  for (std::size_t c = 0; c < cores.size(); ++c)
    if (!cores[c].spike_atoms.empty() && !routing_.sources[c].targets.empty()) active_.push_back(static_cast<int>(c));
  groups_.build(active_, routing_.sources, single_group_);
  if (group_state_.size() < groups_.size()) group_state_.resize(groups_.size());
  parallel_for_collected(std::size_t{0}, groups_.size(), [&](std::size_t g) { route_group(g, T, cores); });
}

void TickRouting::inject(Group& group, const std::vector<int>& sources, const std::vector<CoreState>& cores) const {
  std::vector<Event>& injected = group.injected;
  for (int src : sources) {
    const CoreState& st = cores[static_cast<std::size_t>(src)];
    const PlacedCore& pc = m_.cores[static_cast<std::size_t>(src)];
    const std::size_t run = injected.size();
    for (std::size_t k = 0; k < st.spike_atoms.size(); ++k)
      injected.push_back({st.spike_times[k], group.seq++, pc.chip, src, st.spike_atoms[k],
                          hw::s1::Arrival::from_core(pc.processor), false});
    const auto first = injected.begin() + static_cast<std::ptrdiff_t>(run);
    auto earlier = [](const Event& a, const Event& b) { return b > a; };
    // Spike times rise with the spike count (see CoreUpdate), so this sort never runs; it keeps
    // the merge exact should that change.
    if (!std::is_sorted(first, injected.end(), earlier)) std::sort(first, injected.end(), earlier);
    for (std::size_t k = run; k + 1 < injected.size(); ++k) injected[k].next_of_core = static_cast<std::uint32_t>(k + 1);
    if (run < injected.size()) group.push(injected[run]);
  }
}

void TickRouting::route_group(std::size_t g, std::int64_t T, std::vector<CoreState>& cores) {
  Group& group = group_state_[g];
  group.injected.clear();
  group.heap.clear();
  group.seq = 0;
  inject(group, groups_.sources(g), cores);
  while (!group.heap.empty()) {
    std::pop_heap(group.heap.begin(), group.heap.end(), std::greater<>{});
    const Event ev = group.heap.back();
    group.heap.pop_back();
    if (ev.next_of_core != Event::kNoNext) group.push(group.injected[ev.next_of_core]);
    step(group, ev, T, cores);
  }
}

void TickRouting::step(Group& group, const Event& ev, std::int64_t T, std::vector<CoreState>& cores) {
  const SourceRoutes& sr = routing_.sources[static_cast<std::size_t>(ev.source)];
  const std::uint32_t key = m_.cores[static_cast<std::size_t>(ev.source)].key | ev.atom;
  // The chip whose tree position a loss is charged to: a detour's middle chip is off the tree,
  // so its losses are those of the blocked neighbour it is heading for.
  const int tree_chip =
      ev.emergency == EmergencyState::FirstLeg && !ev.from.local ? detour_target(ev.chip, ev.from.link) : ev.chip;
  hw::s1::Router& router = routers_[static_cast<std::size_t>(ev.chip)];
  hw::s1::Router::ForwardResult r;
  if (ev.reinjection) {
    r = router.reinject_next(ev.time);
  } else {
    if (drop_probability_ > 0.0 &&
        random_uniform(seed_, static_cast<std::uint64_t>(T), (std::uint64_t{key} << 20) ^ static_cast<std::uint64_t>(ev.chip)) <
            drop_probability_) {
      group.dropped_random += sr.downstream_of(tree_chip);
      return;
    }
    hw::s1::MulticastPacket packet = hw::s1::MulticastPacket::with_key(key);
    packet.emergency = ev.emergency;
    const int entry = memo_.enabled() && ev.emergency == EmergencyState::Normal
                          ? memo_.entry(sr, static_cast<std::size_t>(ev.source), ev.chip, ev.atom, key, router)
                          : RouteMemo::kUnknown;
    r = entry == RouteMemo::kUnknown ? router.forward(packet, ev.from, ev.time) : router.forward(packet, ev.from, ev.time, entry);
  }
  if (!r.sent) {
    if (r.reinjection_queued) {
      group.push({r.reinject_at, group.seq++, ev.chip, ev.source, ev.atom, ev.from, true, Event::kNoNext, r.packet.emergency});
    } else {
      group.dropped_router += sr.downstream_of(tree_chip);
    }
    return;
  }
  for (hw::s1::Link l : hw::s1::kAllLinks) {
    if (!r.outputs.has_link(l)) continue;
    const auto next = m_.machine.neighbour(m_.machine.chips()[static_cast<std::size_t>(ev.chip)], l);
    if (!next) continue;  // unreachable: routes only use live links
    const auto state = hw::s1::link_index(l) == r.emergency_link ? EmergencyState::FirstLeg : r.packet.emergency;
    group.push({r.link_arrival[static_cast<std::size_t>(hw::s1::link_index(l))], group.seq++, m_.machine.chip_index(*next),
                ev.source, ev.atom, hw::s1::Arrival::from_link(hw::s1::opposite(l)), false, Event::kNoNext, state});
  }
  const std::uint32_t core_bits = r.outputs.core_bits();
  for (int p = 0; core_bits >> p; ++p) {
    if (!((core_bits >> p) & 1u)) continue;
    const int target = routing_.core_at[static_cast<std::size_t>(ev.chip)][static_cast<std::size_t>(p)];
    if (target >= 0) cores[static_cast<std::size_t>(target)].inbox.push_back({r.core_delivery, ev.source, ev.atom});
  }
}

std::int64_t TickRouting::summarise(ExecutorResult& res) const {
  for (const Group& g : group_state_) {
    res.packets_dropped_random += g.dropped_random;
    res.packets_dropped_router += g.dropped_router;
  }
  res.router_packets.assign(routers_.size(), 0);
  std::int64_t traversals = 0;
  for (std::size_t c = 0; c < routers_.size(); ++c) {
    const auto& stats = routers_[c].stats();
    res.router_packets[c] = stats.packets_received;
    res.packets_reinjected += stats.reinjected;
    traversals += stats.packets_received;
    res.router_stats += stats;
    for (hw::s1::Link l : hw::s1::kAllLinks) res.link_stats += routers_[c].link(l).stats();
  }
  res.router_traversals = traversals;
  return traversals;
}

}  // namespace grindstone::snn::spinnaker1
