#include <doctest/doctest.h>

#include <random>
#include <set>

#include "common/error.hpp"
#include "hw_model/spinnaker1/routing_table.hpp"

namespace s1 = grindstone::hw::s1;
using s1::Arrival;
using s1::Link;
using s1::RouteKind;
using s1::RouteWord;
using s1::RoutingEntry;

namespace {
RouteWord links(std::initializer_list<Link> ls) {
  RouteWord r;
  for (Link l : ls) r.add_link(l);
  return r;
}
RoutingEntry entry(std::uint32_t key, std::uint32_t mask, RouteWord route, std::uint8_t incoming = 0) {
  RoutingEntry e;
  e.key = key;
  e.mask = mask;
  e.route = route;
  e.incoming = incoming;
  return e;
}
}  // namespace

TEST_CASE("route word layout: links in bits 0-5, core p in bit 6+p") {
  RouteWord r;
  r.add_link(Link::North).add_core(0).add_core(17);
  CHECK(r.bits == ((1u << 2) | (1u << 6) | (1u << 23)));
  CHECK(r.n_links() == 1);
  CHECK(r.n_cores() == 2);
  CHECK(r.fanout() == 3);
  CHECK_FALSE(r.single_link().has_value());
  CHECK_THROWS_AS(r.add_core(18), grindstone::InputError);
  CHECK(links({Link::South}).single_link() == Link::South);
}

TEST_CASE("first match wins, default routing, local no-route drop") {
  s1::RoutingTable t;
  t.add(entry(0x1200, 0xFF00, links({Link::East})));
  t.add(entry(0x1234, 0xFFFF, links({Link::North})));  // shadowed by the first entry
  t.add(entry(0x0000, 0x0000, links({Link::West})));   // catch-all... except
  CHECK(t.lookup_index(0x1234) == 0);
  CHECK(t.decide(0x1234, Arrival::from_core(1)).route == links({Link::East}));
  CHECK(t.decide(0x9999, Arrival::from_core(1)).entry_index == 2);

  s1::RoutingTable u;
  u.add(entry(0xAB00, 0xFF00, RouteWord{}.add_core(3)));
  const auto matched = u.decide(0xAB17, Arrival::from_link(Link::West));
  CHECK(matched.kind == RouteKind::Matched);
  CHECK(matched.route.has_core(3));
  const auto def = u.decide(0x1, Arrival::from_link(Link::West));
  CHECK(def.kind == RouteKind::DefaultRouted);
  CHECK(def.route == links({Link::East}));
  CHECK(u.decide(0x1, Arrival::from_link(Link::SouthWest)).route == links({Link::NorthEast}));
  const auto local = u.decide(0x1, Arrival::from_core(2));
  CHECK(local.kind == RouteKind::NoRouteDropped);
  CHECK(local.route.empty());

  CHECK_THROWS_AS(u.add(entry(0x1, 0xFFFFFFF0, links({Link::East}))), grindstone::InputError);  // key outside mask
  CHECK_THROWS_AS(u.add(entry(0x10, 0xFFFFFFF0, RouteWord{})), grindstone::InputError);        // empty route
}

TEST_CASE("entry predicates: intersects, covers, defaultable") {
  const auto a = entry(0x10, 0xF0, links({Link::East}));
  const auto b = entry(0x12, 0xFF, links({Link::East}));
  const auto c = entry(0x20, 0xF0, links({Link::East}));
  CHECK(a.intersects(b));
  CHECK(a.covers(b));
  CHECK_FALSE(b.covers(a));
  CHECK_FALSE(a.intersects(c));
  CHECK(a.n_keys() == (std::uint64_t{1} << 28));
  CHECK(entry(1, ~0u, links({Link::East}), 1u << 3).defaultable());        // in W, out E
  CHECK_FALSE(entry(1, ~0u, links({Link::East}), 1u << 2).defaultable());  // in N, out E
  CHECK_FALSE(entry(1, ~0u, links({Link::East}), 0).defaultable());        // unknown source
  CHECK_FALSE(entry(1, ~0u, links({Link::East, Link::North}), 1u << 3).defaultable());
}

TEST_CASE("compression merges same-route entries") {
  std::vector<RoutingEntry> t;
  for (std::uint32_t k = 0; k < 4; ++k) t.push_back(entry(k, ~0u, links({Link::North})));
  s1::CompressionStats stats;
  const auto out = s1::compress_routing_table(t, {0, 0}, {}, &stats);
  REQUIRE(out.size() == 1u);
  CHECK(out[0].key == 0u);
  CHECK(out[0].mask == 0xFFFFFFFCu);
  CHECK(stats.merges == 3);
  CHECK(stats.compressed_entries == 1);
  CHECK(stats.ratio() == doctest::Approx(0.25));
}

TEST_CASE("compression removes defaultable entries and never covers their keys") {
  std::vector<RoutingEntry> t = {
      entry(0, ~0u, links({Link::North})),
      entry(3, ~0u, links({Link::North})),
      entry(1, ~0u, links({Link::East}), 1u << 3),  // defaultable: in W, out E
  };
  s1::CompressionStats stats;
  const auto out = s1::compress_routing_table(t, {0, 0}, {}, &stats);
  CHECK(stats.defaultable_removed == 1);
  CHECK(out.size() == 2u);  // merging 0 and 3 would cover key 1
  CHECK_FALSE(s1::find_routing_difference(t, out, {0, 1, 2, 3}).has_value());
  // Key 1 from the West is default-routed East in the compressed table.
  CHECK(s1::RoutingTable(out).decide(1, Arrival::from_link(Link::West)).kind == RouteKind::DefaultRouted);
}

TEST_CASE("compression is exact over every key in use (random tables, exhaustive check)") {
  std::mt19937 rng(12345);
  int total_merges = 0;
  int total_removed = 0;
  for (int trial = 0; trial < 40; ++trial) {
    // Population-style keys: 8-bit neuron field, blocks of 2^k keys per core, a few routes.
    const int n_routes = 1 + static_cast<int>(rng() % 5);
    std::vector<RouteWord> routes;
    for (int r = 0; r < n_routes; ++r) {
      RouteWord w;
      w.bits = 1u + (rng() % 0xFFFFu);
      w.bits &= RouteWord::kLinkMask | RouteWord::kCoreMask;
      if (w.empty()) w.add_core(1);
      routes.push_back(w);
    }
    std::vector<RoutingEntry> t;
    std::set<std::uint32_t> used_blocks;
    const int n = 20 + static_cast<int>(rng() % 80);
    for (int i = 0; i < n; ++i) {
      const std::uint32_t block = rng() % 512;
      if (!used_blocks.insert(block).second) continue;
      const int free_bits = static_cast<int>(rng() % 5);
      // Bit 31 is don't-care in every entry, as are the low `free_bits` bits.
      const std::uint32_t mask = ~((1u << free_bits) - 1u) & 0x7FFFFFFFu;
      RoutingEntry e = entry((block << 8) & mask, mask, routes[rng() % routes.size()]);
      // Keep the table orthogonal: blocks are 256-key aligned, so distinct blocks never overlap.
      if (rng() % 6 == 0) {
        const Link out = s1::link_from_index(static_cast<int>(rng() % 6));
        e.route = links({out});
        e.incoming = static_cast<std::uint8_t>(1u << s1::link_index(s1::opposite(out)));
      }
      t.push_back(e);
    }
    // Each entry covers 2·2^free_bits keys; keys_in_use enumerates all of them.
    const auto keys = s1::keys_in_use(t);
    s1::CompressionStats stats;
    const auto out = s1::compress_routing_table(t, {1, 2}, {}, &stats);
    CHECK(out.size() <= t.size());
    const auto diff = s1::find_routing_difference(t, out, keys);
    CHECK_MESSAGE(!diff.has_value(), (diff ? *diff : std::string()));
    total_merges += stats.merges;
    total_removed += stats.defaultable_removed;
  }
  CHECK(total_merges > 100);  // the check above is not vacuous
  CHECK(total_removed > 10);
}

TEST_CASE("a table that cannot fit gives the chip and the count") {
  std::vector<RoutingEntry> t;
  for (std::uint32_t i = 0; i < 1100; ++i) {
    RouteWord r;
    r.bits = i + 1;  // distinct routes (links and cores 0..4): nothing can merge
    t.push_back(entry(i << 4, 0xFFFFFFF0u, r));
  }
  try {
    (void)s1::compress_routing_table(t, {3, 4});
    FAIL("expected an InputError");
  } catch (const grindstone::InputError& e) {
    CHECK(std::string(e.what()) == "chip (3,4): routing table needs 1100 entries after compression, the router holds 1023");
  }
  s1::RoutingTable big(t);
  CHECK_FALSE(big.fits());
  CHECK_THROWS_WITH_AS(big.require_fits({3, 4}),
                       "chip (3,4): routing table needs 1100 entries after compression, the router holds 1023",
                       grindstone::InputError);
  // The same number of entries with only 2 routes compresses well below the limit.
  for (std::size_t i = 0; i < t.size(); ++i) t[i].route = links({i % 2 ? Link::East : Link::North});
  const auto out = s1::compress_routing_table(t, {3, 4});
  CHECK(out.size() < 100u);
  CHECK_FALSE(s1::find_routing_difference(t, out, s1::keys_in_use(t)).has_value());
}

TEST_CASE("overlapping entries with different routes are rejected") {
  std::vector<RoutingEntry> t = {entry(0x10, 0xF0, links({Link::East})), entry(0x11, 0xFF, links({Link::North}))};
  CHECK_THROWS_AS(s1::compress_routing_table(t, {0, 0}), grindstone::InputError);
}

TEST_CASE("find_routing_difference detects a wrong compression") {
  std::vector<RoutingEntry> t = {entry(0, ~0u, links({Link::East})), entry(2, ~0u, links({Link::North}))};
  std::vector<RoutingEntry> wrong = {entry(0, ~2u, links({Link::East}))};
  CHECK(s1::find_routing_difference(t, wrong, {0, 2}).has_value());
  CHECK_FALSE(s1::find_routing_difference(t, t, {0, 2}).has_value());
}
