#include <doctest/doctest.h>

#include <map>

#include "common/error.hpp"
#include "hw_model/spinnaker1/router.hpp"

namespace s1 = grindstone::hw::s1;
using s1::Arrival;
using s1::Link;
using s1::MulticastPacket;
using s1::RouteWord;
using s1::RoutingEntry;
using s1::SimTime;

namespace {
RoutingEntry entry(std::uint32_t key, std::uint32_t mask, RouteWord route) {
  RoutingEntry e;
  e.key = key;
  e.mask = mask;
  e.route = route;
  return e;
}
RouteWord link_route(Link l) { return RouteWord{}.add_link(l); }
}  // namespace

TEST_CASE("router wait values decode as in SFEC reinjection_status.py") {
  CHECK(s1::decode_router_wait(0x4F).value == 480);
  CHECK(s1::decode_router_wait(0x40).value == 240);
  CHECK(s1::decode_router_wait(0x00).value == 0);
  CHECK(s1::decode_router_wait(0x5F).value == (15 + 16) * 32);
}

TEST_CASE("router: lookup, replication counts and pipeline + link timing") {
  s1::Router r({2, 2});
  RouteWord multi;
  multi.add_link(Link::East).add_link(Link::North).add_core(1).add_core(2).add_core(3);
  r.load_table({entry(0x100, 0xFFFFFF00, multi)});
  const auto res = r.forward(MulticastPacket::with_key(0x142), Arrival::from_core(4), SimTime(0));
  REQUIRE(res.sent);
  CHECK(res.decision.kind == s1::RouteKind::Matched);
  CHECK(res.outputs == multi);
  // 7 router cycles at 133 MHz, then 40 bits at 250 Mbit/s = 160 ns.
  const SimTime pipeline = s1::kRouterClock.duration(s1::RouterCycles(7));
  CHECK(res.departure == pipeline);
  CHECK(res.link_arrival[0] == pipeline + SimTime::from_ns(160));
  CHECK(res.link_arrival[2] == pipeline + SimTime::from_ns(160));
  CHECK(res.core_delivery == pipeline + s1::kRouterClock.duration(s1::RouterCycles(1)));
  CHECK(r.stats().packets_routed == 1);
  CHECK(r.stats().multicast_replications == 4);
  CHECK(r.stats().link_sends == 2);
  CHECK(r.stats().core_deliveries == 3);
  CHECK(r.stats().mean_fanout() == doctest::Approx(5.0));
  // A 72-bit packet takes 288 ns on the link (queued behind the first).
  const auto res2 = r.forward(MulticastPacket::with_payload(0x101, 7), Arrival::from_core(4), SimTime::from_us(10));
  CHECK(res2.link_arrival[0] - res2.departure == SimTime::from_ns(288));
}

TEST_CASE("router: default routing and local no-route drops") {
  s1::Router r({0, 0});
  r.load_table({entry(0x100, 0xFFFFFF00, RouteWord{}.add_core(1))});
  const auto def = r.forward(MulticastPacket::with_key(0x5), Arrival::from_link(Link::SouthWest), SimTime(0));
  CHECK(def.sent);
  CHECK(def.decision.kind == s1::RouteKind::DefaultRouted);
  CHECK(def.outputs == link_route(Link::NorthEast));
  const auto drop = r.forward(MulticastPacket::with_key(0x5), Arrival::from_core(1), SimTime(0));
  CHECK_FALSE(drop.sent);
  CHECK(drop.decision.kind == s1::RouteKind::NoRouteDropped);
  CHECK(r.stats().default_routed == 1);
  CHECK(r.stats().no_route_dropped == 1);
  CHECK(r.stats().dropped == 0);  // no-route drops are not congestion drops
  CHECK(r.stats().table_lookups == 2);
  CHECK(r.stats().table_hits == 0);
}

TEST_CASE("router: congestion drops after wait1, reinjection queue, and reinjection") {
  s1::Router::Params p;
  s1::Router r({0, 0}, p);
  r.load_table({entry(0, 0, link_route(Link::East))});
  // A burst of 60 packets at t=0 onto one 160 ns link: the 2-packet buffer fills and packets
  // wait; those that would wait longer than 480 router cycles (3.6 µs) are dropped.
  const SimTime wait1 = p.clock.duration(s1::RouterCycles(480));
  int sent = 0;
  int dropped = 0;
  std::vector<SimTime> reinject_times;
  for (int i = 0; i < 60; ++i) {
    const auto res = r.forward(MulticastPacket::with_key(static_cast<std::uint32_t>(i)), Arrival::from_core(1), SimTime(0));
    if (res.sent) {
      ++sent;
      CHECK(res.departure - (SimTime(0) + p.clock.duration(s1::RouterCycles(7 + i))) <= wait1);
    } else {
      ++dropped;
      CHECK(res.reinjection_queued);
      reinject_times.push_back(res.reinject_at);
    }
  }
  CHECK(sent + dropped == 60);
  CHECK(dropped > 0);
  CHECK(sent >= 20);  // ≈ 2 + 3.6 µs / 160 ns
  CHECK(r.stats().dropped == dropped);
  CHECK(r.stats().reinjection_queued == dropped);
  CHECK(r.reinjection_queue_size() == static_cast<std::size_t>(dropped));
  // Reinjection times are on or after a 10 µs poll and non-decreasing.
  CHECK(reinject_times.front() >= SimTime::from_us(10));
  for (std::size_t i = 1; i < reinject_times.size(); ++i) CHECK(reinject_times[i] >= reinject_times[i - 1]);
  // Reinjecting at their due times (the link has drained by then) sends them all.
  while (auto t = r.next_reinjection_time()) {
    const auto res = r.reinject_next(*t);
    CHECK(res.sent);
    CHECK(res.outputs == link_route(Link::East));
  }
  CHECK(r.stats().reinjected == dropped);
  CHECK(r.stats().packets_routed == 60);
  CHECK_THROWS_AS(r.reinject_next(SimTime(0)), grindstone::InternalError);
}

TEST_CASE("router: reinjection queue overflow loses packets") {
  s1::Router::Params p;
  p.reinjection_queue_packets = 3;
  s1::Router r({0, 0}, p);
  r.load_table({entry(0, 0, link_route(Link::East))});
  for (int i = 0; i < 60; ++i) r.forward(MulticastPacket::with_key(1), Arrival::from_core(1), SimTime(0));
  CHECK(r.stats().reinjection_queued == 3);
  CHECK(r.stats().reinjection_lost == r.stats().dropped - 3);
}

TEST_CASE("router: dead links drop without reinjection; emergency routing detours") {
  s1::Machine::Params mp = s1::Machine::Params::triads(1, 1);
  mp.dead_links = {{{5, 5}, Link::East}};
  const s1::Machine m(mp);
  {
    s1::Router r(m, {5, 5});
    r.load_table({entry(0, 0, link_route(Link::East))});
    const auto res = r.forward(MulticastPacket::with_key(9), Arrival::from_core(1), SimTime(0));
    CHECK(res.dropped);
    CHECK_FALSE(res.reinjection_queued);
    CHECK(r.stats().dead_link_drops == 1);
  }
  // With wait2 > 0 the packet goes NE, the middle chip forwards it S, and the destination
  // treats it as arriving from the West (so default routing continues East).
  s1::Router::Params p;
  p.wait2_cycles = s1::RouterCycles(240);
  s1::Router a(m, {5, 5}, p);
  a.load_table({entry(0, 0, link_route(Link::East))});
  const auto first = a.forward(MulticastPacket::with_key(9), Arrival::from_core(1), SimTime(0));
  REQUIRE(first.sent);
  CHECK(first.emergency_link == s1::link_index(Link::NorthEast));
  CHECK(first.outputs == link_route(Link::NorthEast));
  CHECK(a.stats().emergency_routed == 1);
  MulticastPacket leg = first.packet;
  leg.emergency = s1::EmergencyState::FirstLeg;
  s1::Router c(m, {6, 6}, p);  // no table: emergency legs need none
  const auto second = c.forward(leg, Arrival::from_link(s1::opposite(Link::NorthEast)), first.link_arrival[1]);
  REQUIRE(second.sent);
  CHECK(second.decision.kind == s1::RouteKind::EmergencyForward);
  CHECK(second.outputs == link_route(Link::South));
  CHECK(second.packet.emergency == s1::EmergencyState::SecondLeg);
  CHECK(*m.neighbour({6, 6}, Link::South) == s1::ChipCoord{6, 5});
  s1::Router b(m, {6, 5}, p);
  const auto third = b.forward(second.packet, Arrival::from_link(s1::opposite(Link::South)), second.link_arrival[5]);
  CHECK(third.decision.kind == s1::RouteKind::DefaultRouted);
  CHECK(third.outputs == link_route(Link::East));
  CHECK(third.packet.emergency == s1::EmergencyState::Normal);
}

TEST_CASE("router: a table over 1023 entries is refused with the chip named") {
  s1::Router r({7, 1});
  std::vector<RoutingEntry> t;
  for (std::uint32_t i = 0; i < 1024; ++i) t.push_back(entry(i, ~0u, link_route(Link::East)));
  CHECK_THROWS_WITH_AS(r.load_table(t), "chip (7,1): routing table needs 1024 entries after compression, the router holds 1023",
                       grindstone::InputError);
  t.pop_back();
  r.load_table(t);
  CHECK(r.table().size() == 1023);
}

TEST_CASE("routers + compressed tables deliver a multicast tree exactly once (default routing on straight hops)") {
  const s1::Machine m(s1::Machine::Params::spinn5());
  const s1::ChipCoord source{0, 0};
  const std::vector<std::pair<s1::ChipCoord, int>> targets = {{{3, 0}, 2}, {{3, 3}, 5}, {{0, 3}, 4}, {{6, 6}, 7}};
  // Build the tree from shortest paths (all from one BFS, so consistent parents).
  std::map<s1::ChipCoord, RoutingEntry> tree;
  const std::uint32_t key = 0x00420000u;
  const std::uint32_t mask = 0xFFFF0000u;
  auto node = [&](s1::ChipCoord c) -> RoutingEntry& {
    auto [it, inserted] = tree.try_emplace(c, entry(key, mask, RouteWord{}));
    return it->second;
  };
  node(source).incoming = RoutingEntry::kIncomingLocal;
  for (const auto& [chip, core] : targets) {
    const auto path = m.shortest_path(source, chip);
    REQUIRE(path.has_value());
    s1::ChipCoord c = source;
    for (Link l : *path) {
      node(c).route.add_link(l);
      c = *m.neighbour(c, l);
      node(c).incoming = static_cast<std::uint8_t>(1u << s1::link_index(s1::opposite(l)));
    }
    node(c).route.add_core(core);
  }
  // One table per chip: the tree entry plus unrelated traffic so there is something to merge.
  std::map<s1::ChipCoord, s1::Router> routers;
  int defaultable = 0;
  for (s1::ChipCoord c : m.chips()) {
    std::vector<RoutingEntry> t;
    if (auto it = tree.find(c); it != tree.end()) {
      t.push_back(it->second);
      defaultable += it->second.defaultable() ? 1 : 0;
    }
    for (std::uint32_t i = 0; i < 8; ++i) t.push_back(entry(0x10000000u | (i << 8), 0xFFFFFF00u, link_route(Link::North)));
    const auto compressed = s1::compress_routing_table(t, c);
    REQUIRE_FALSE(s1::find_routing_difference(t, compressed, s1::keys_in_use({t.front()})).has_value());
    routers.emplace(c, s1::Router(m, c));
    routers.at(c).load_table(compressed);
  }
  CHECK(defaultable > 0);  // straight-through hops were removed and rely on default routing
  // Propagate one packet through the routers.
  struct Hop { s1::ChipCoord chip; Arrival from; SimTime t; };
  std::vector<Hop> pending{{source, Arrival::from_core(1), SimTime(0)}};
  std::map<std::pair<s1::ChipCoord, int>, int> delivered;
  SimTime last;
  while (!pending.empty()) {
    const Hop h = pending.back();
    pending.pop_back();
    const auto res = routers.at(h.chip).forward(MulticastPacket::with_key(key | 0x17), h.from, h.t);
    REQUIRE(res.sent);
    for (int core = 0; core < s1::kRouteCores; ++core)
      if (res.outputs.has_core(core)) ++delivered[{h.chip, core}];
    for (Link l : s1::kAllLinks)
      if (res.outputs.has_link(l)) {
        const auto next = m.neighbour(h.chip, l);
        REQUIRE(next.has_value());
        pending.push_back({*next, Arrival::from_link(s1::opposite(l)), res.link_arrival[static_cast<std::size_t>(s1::link_index(l))]});
        last = max(last, res.link_arrival[static_cast<std::size_t>(s1::link_index(l))]);
      }
  }
  REQUIRE(delivered.size() == targets.size());
  for (const auto& [chip, core] : targets) CHECK(delivered[{chip, core}] == 1);
  // The farthest target is 6 hops away: 6 × (pipeline + 160 ns serialisation) plus the last pipeline.
  CHECK(last > SimTime::from_ns(6 * 160));
  CHECK(last < SimTime::from_us(2.0));
}

TEST_CASE("router: forward with a caller-supplied table entry equals forward with the router's lookup") {
  // Matches, default routing, local no-route drops and congestion drops with reinjection: two
  // routers fed the same stream must agree on every result and every counter.
  auto make = [] {
    s1::Router r({1, 1});
    RouteWord multi;
    multi.add_link(Link::East).add_core(2);
    r.load_table({entry(0x100, 0xFFFFFF00, multi), entry(0x200, 0xFFFFFF00, link_route(Link::East)),
                  entry(0x300, 0xFFFFFF00, RouteWord{}.add_core(5))});
    return r;
  };
  s1::Router memo = make(), direct = make();
  std::uint32_t state = 3;
  auto next = [&state] { state = state * 1664525u + 1013904223u; return state >> 8; };
  for (int i = 0; i < 400; ++i) {
    const std::uint32_t key = (1 + next() % 4) * 0x100 + next() % 8;  // 0x400..: no entry
    const Arrival from = next() % 3 == 0 ? Arrival::from_link(Link::North) : Arrival::from_core(3);
    const SimTime now = SimTime::from_ns(static_cast<double>(i) * 20.0);
    const auto a = memo.forward(MulticastPacket::with_key(key), from, now);
    const auto b = direct.forward(MulticastPacket::with_key(key), from, now, direct.table().lookup_index(key));
    REQUIRE(a.sent == b.sent);
    CHECK(a.decision.kind == b.decision.kind);
    CHECK(a.decision.entry_index == b.decision.entry_index);
    CHECK(a.outputs == b.outputs);
    CHECK(a.departure == b.departure);
    CHECK(a.core_delivery == b.core_delivery);
    CHECK(a.link_arrival == b.link_arrival);
    CHECK(a.reinjection_queued == b.reinjection_queued);
    CHECK(a.reinject_at == b.reinject_at);
  }
  const auto& x = memo.stats();
  const auto& y = direct.stats();
  CHECK(x.dropped > 0);
  CHECK(x.no_route_dropped > 0);
  CHECK(x.default_routed > 0);
  CHECK(x.packets_received == y.packets_received);
  CHECK(x.packets_routed == y.packets_routed);
  CHECK(x.table_lookups == y.table_lookups);
  CHECK(x.table_hits == y.table_hits);
  CHECK(x.default_routed == y.default_routed);
  CHECK(x.no_route_dropped == y.no_route_dropped);
  CHECK(x.link_sends == y.link_sends);
  CHECK(x.core_deliveries == y.core_deliveries);
  CHECK(x.dropped == y.dropped);
  CHECK(x.reinjection_queued == y.reinjection_queued);
  CHECK(x.total_blocking == y.total_blocking);
}
