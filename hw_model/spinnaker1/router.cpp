#include "hw_model/spinnaker1/router.hpp"

#include <cassert>

#include "common/error.hpp"

namespace grindstone::hw::s1 {

RouterCycles decode_router_wait(std::uint8_t encoded) {
  const std::int64_t m = encoded & 0xF;
  const int e = encoded >> 4;
  if (e <= 4) return RouterCycles(((m + 16) - (std::int64_t{1} << (4 - e))) * (std::int64_t{1} << e));
  return RouterCycles((m + 16) * (std::int64_t{1} << e));
}

Router::Stats& Router::Stats::operator+=(const Stats& o) {
  packets_received += o.packets_received;
  packets_routed += o.packets_routed;
  table_lookups += o.table_lookups;
  table_hits += o.table_hits;
  default_routed += o.default_routed;
  no_route_dropped += o.no_route_dropped;
  multicast_replications += o.multicast_replications;
  link_sends += o.link_sends;
  core_deliveries += o.core_deliveries;
  emergency_routed += o.emergency_routed;
  dropped += o.dropped;
  reinjection_queued += o.reinjection_queued;
  reinjection_lost += o.reinjection_lost;
  dead_link_drops += o.dead_link_drops;
  reinjected += o.reinjected;
  total_blocking += o.total_blocking;
  max_reinjection_queue = std::max(max_reinjection_queue, o.max_reinjection_queue);
  return *this;
}

Router::Router(ChipCoord chip, Params params, std::uint8_t dead_links)
    : chip_(chip),
      params_(params),
      table_(params.table),
      links_{InterChipLink(params.link, dead_links & 1u), InterChipLink(params.link, dead_links & 2u),
             InterChipLink(params.link, dead_links & 4u), InterChipLink(params.link, dead_links & 8u),
             InterChipLink(params.link, dead_links & 16u), InterChipLink(params.link, dead_links & 32u)} {
  require_input(params_.table.capacity >= 1 && params_.table.capacity <= kRouterTableEntries, "router",
                "table capacity must be 1.." + std::to_string(kRouterTableEntries));
  const RouterCycles zero(0);
  require_input(params_.cycles_per_packet >= zero && params_.pipeline_cycles >= zero && params_.wait1_cycles >= zero &&
                    params_.wait2_cycles >= zero && params_.core_delivery_cycles >= zero &&
                    params_.reinjection_queue_packets >= 0,
                "router", "cycle counts and queue sizes must not be negative");
  require_input(params_.reinjection_poll_period.ps > 0, "router", "reinjection_poll_period must be positive");
  accept_interval_ = params_.clock.duration(params_.cycles_per_packet);
  pipeline_delay_ = params_.clock.duration(params_.pipeline_cycles);
  wait1_ = params_.clock.duration(params_.wait1_cycles);
  wait2_ = params_.clock.duration(params_.wait2_cycles);
  core_delivery_delay_ = params_.clock.duration(params_.core_delivery_cycles);
  reinjection_delay_ = kCpuClock.duration(params_.reinjection_cycles_per_packet);
}

namespace {
std::uint8_t dead_links_of(const Machine& machine, ChipCoord chip) {
  require_input(machine.has_chip(chip), "router", "chip " + to_string(chip) + " is not a live chip of the machine");
  std::uint8_t bits = 0;
  for (Link l : kAllLinks)
    if (!machine.neighbour(chip, l)) bits = static_cast<std::uint8_t>(bits | (1u << link_index(l)));
  return bits;
}
}  // namespace

Router::Router(const Machine& machine, ChipCoord chip, Params params) : Router(chip, params, dead_links_of(machine, chip)) {}

void Router::load_table(std::vector<RoutingEntry> entries) {
  RoutingTable table(std::move(entries), params_.table);
  table.require_fits(chip_);
  table_ = std::move(table);
  lookup_cache_.clear();
}

RouteDecision Router::decide(const MulticastPacket& p, Arrival from) {
  int index;
  if (auto it = lookup_cache_.find(p.key); it != lookup_cache_.end()) {
    index = it->second;
  } else {
    index = table_.lookup_index(p.key);
    lookup_cache_.emplace(p.key, index);
  }
  return decide_entry(index, from);
}

RouteDecision Router::decide_entry(int index, Arrival from) {
  ++stats_.table_lookups;
  RouteDecision d;
  d.entry_index = index;
  if (index >= 0) {
    ++stats_.table_hits;
    d.kind = RouteKind::Matched;
    d.route = table_.entries()[static_cast<std::size_t>(index)].route;
  } else if (!from.local) {
    d.kind = RouteKind::DefaultRouted;
    d.route.add_link(opposite(from.link));
  } else {
    d.kind = RouteKind::NoRouteDropped;
  }
  return d;
}

Router::ForwardResult Router::forward(const MulticastPacket& p, Arrival from, SimTime now) {
  return forward_with(p, from, now, kUnknownEntry);
}

Router::ForwardResult Router::forward(const MulticastPacket& p, Arrival from, SimTime now, int entry_index) {
  assert(entry_index == table_.lookup_index(p.key));
  return forward_with(p, from, now, entry_index);
}

Router::ForwardResult Router::forward_with(const MulticastPacket& p, Arrival from, SimTime now, int entry_index) {
  ++stats_.packets_received;
  MulticastPacket out = p;
  RouteDecision d;
  if (!from.local && p.emergency == EmergencyState::FirstLeg) {
    // Middle chip of a detour: pass the packet on around the triangle, no lookup.
    d.kind = RouteKind::EmergencyForward;
    d.route.add_link(link_from_index(link_index(from.link) + 1));
    out.emergency = EmergencyState::SecondLeg;
  } else {
    Arrival effective = from;
    if (!from.local && p.emergency == EmergencyState::SecondLeg) {
      // End of a detour: route as if it had come straight from the blocked neighbour.
      effective.link = link_from_index(link_index(from.link) + 1);
    }
    out.emergency = EmergencyState::Normal;
    d = entry_index == kUnknownEntry ? decide(out, effective) : decide_entry(entry_index, effective);
  }
  if (d.kind == RouteKind::DefaultRouted) ++stats_.default_routed;
  if (d.kind == RouteKind::NoRouteDropped) {
    ++stats_.no_route_dropped;
    ForwardResult r;
    r.decision = d;
    r.packet = out;
    r.departure = max(now, input_free_);
    return r;
  }
  return send(out, d, d.route, now);
}

Router::ForwardResult Router::send(const MulticastPacket& p, const RouteDecision& decision, RouteWord outputs,
                                   SimTime now) {
  ForwardResult r;
  r.decision = decision;
  r.packet = p;
  const SimTime start = max(now, input_free_);
  input_free_ = start + accept_interval_;
  const SimTime ready = start + pipeline_delay_;
  const SimTime wait1 = wait1_;
  const SimTime wait2 = wait2_;

  // The router sends to all outputs at once, so it waits for the slowest output buffer.
  SimTime accept = ready;
  int blocked_links = 0;
  int blocked = -1;
  bool dead_in_route = false;
  for (Link l : kAllLinks) {
    if (!outputs.has_link(l)) continue;
    const InterChipLink& link = links_[static_cast<std::size_t>(link_index(l))];
    if (link.dead()) dead_in_route = true;
    const SimTime a = link.earliest_accept(ready);
    if (a - ready > wait1) {
      ++blocked_links;
      blocked = link_index(l);
    } else {
      accept = max(accept, a);
    }
  }

  RouteWord sent_outputs = outputs;
  if (blocked_links > 0) {
    bool detoured = false;
    // Emergency routing: one blocked link, a normal packet, wait2 > 0 → detour on link+1.
    if (params_.wait2_cycles > RouterCycles(0) && blocked_links == 1 && p.emergency == EmergencyState::Normal) {
      const int detour = (blocked + 1) % kLinksPerChip;
      const InterChipLink& link = links_[static_cast<std::size_t>(detour)];
      const SimTime t_emergency = ready + wait1;
      const SimTime a = link.earliest_accept(t_emergency);
      if (a - t_emergency <= wait2) {
        sent_outputs.bits &= ~(1u << blocked);
        sent_outputs.bits |= 1u << detour;
        r.emergency_link = detour;
        accept = max(accept, a);
        detoured = true;
        ++stats_.emergency_routed;
      }
    }
    if (!detoured) {
      r.dropped = true;
      r.departure = ready + wait1 + (params_.wait2_cycles > RouterCycles(0) ? wait2 : SimTime(0));
      ++stats_.dropped;
      stats_.total_blocking += r.departure - ready;
      if (dead_in_route) {
        ++stats_.dead_link_drops;
      } else if (params_.reinjection_enabled &&
                 reinjection_queue_.size() < static_cast<std::size_t>(params_.reinjection_queue_packets)) {
        const std::int64_t period = params_.reinjection_poll_period.ps;
        const SimTime poll((r.departure.ps + period - 1) / period * period);
        const SimTime due = max(poll, last_reinjection_due_) + reinjection_delay_;
        last_reinjection_due_ = due;
        reinjection_queue_.push_back({p, outputs, due});
        stats_.max_reinjection_queue = std::max(stats_.max_reinjection_queue, reinjection_queue_.size());
        ++stats_.reinjection_queued;
        r.reinjection_queued = true;
        r.reinject_at = due;
      } else {
        ++stats_.reinjection_lost;
      }
      return r;
    }
  }

  r.sent = true;
  r.outputs = sent_outputs;
  r.departure = accept;
  stats_.total_blocking += accept - ready;
  for (Link l : kAllLinks) {
    if (!sent_outputs.has_link(l)) continue;
    MulticastPacket copy = p;
    if (link_index(l) == r.emergency_link) copy.emergency = EmergencyState::FirstLeg;
    r.link_arrival[static_cast<std::size_t>(link_index(l))] =
        links_[static_cast<std::size_t>(link_index(l))].transmit(copy, accept);
  }
  r.core_delivery = accept + core_delivery_delay_;
  const int fanout = sent_outputs.fanout();
  ++stats_.packets_routed;
  stats_.link_sends += sent_outputs.n_links();
  stats_.core_deliveries += sent_outputs.n_cores();
  stats_.multicast_replications += fanout > 0 ? fanout - 1 : 0;
  return r;
}

std::optional<SimTime> Router::next_reinjection_time() const {
  if (reinjection_queue_.empty()) return std::nullopt;
  return reinjection_queue_.front().due;
}

Router::ForwardResult Router::reinject_next(SimTime now) {
  if (reinjection_queue_.empty()) throw InternalError("router " + to_string(chip_) + ": reinjection queue is empty");
  const PendingReinjection pending = reinjection_queue_.front();
  reinjection_queue_.pop_front();
  ++stats_.reinjected;
  ++stats_.packets_received;
  RouteDecision d;
  d.kind = RouteKind::Matched;
  d.route = pending.outputs;
  return send(pending.packet, d, pending.outputs, max(now, pending.due));
}

void Router::reset() {
  stats_ = {};
  for (auto& l : links_) l.reset();
  input_free_ = SimTime(0);
  reinjection_queue_.clear();
  last_reinjection_due_ = SimTime(0);
}

}  // namespace grindstone::hw::s1
