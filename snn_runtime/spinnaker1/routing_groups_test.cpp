#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "snn_runtime/spinnaker1/routing_groups.hpp"

namespace s1 = grindstone::snn::spinnaker1;

namespace {

std::vector<s1::SourceRoutes> trees(const std::vector<std::vector<int>>& chips) {
  std::vector<s1::SourceRoutes> out(chips.size());
  for (std::size_t i = 0; i < chips.size(); ++i) out[i].chips = chips[i];
  return out;
}

std::vector<std::vector<int>> groups_of(const s1::RoutingGroups& g) {
  std::vector<std::vector<int>> out;
  for (std::size_t i = 0; i < g.size(); ++i) out.push_back(g.sources(i));
  return out;
}

}  // namespace

TEST_CASE("routing groups: trees that share a chip, directly or through others, are one group") {
  // Sources 0 and 2 share chip 3; 1 stands alone; 4 joins 0's group only through 3 (chips 5 and 8).
  const auto src = trees({{0, 3}, {1}, {3, 5}, {9, 10}, {5, 8}});
  s1::RoutingGroups g(12);
  g.build({0, 1, 2, 3, 4}, src, false);
  CHECK(groups_of(g) == std::vector<std::vector<int>>{{0, 2, 4}, {1}, {3}});
  // Only the active sources count: without source 2, 0 and 4 no longer meet.
  g.build({0, 1, 4}, src, false);
  CHECK(groups_of(g) == std::vector<std::vector<int>>{{0}, {1}, {4}});
  // Groups are listed in the order of their first source.
  g.build({1, 3}, src, false);
  CHECK(groups_of(g) == std::vector<std::vector<int>>{{1}, {3}});
  g.build({}, src, false);
  CHECK(g.size() == 0);
}

TEST_CASE("routing groups: single-group mode (emergency routing) puts every active source together") {
  const auto src = trees({{0}, {4, 5}, {7}});
  s1::RoutingGroups g(8);
  g.build({0, 1, 2}, src, true);
  CHECK(groups_of(g) == std::vector<std::vector<int>>{{0, 1, 2}});
  g.build({}, src, true);
  CHECK(g.size() == 0);
}

TEST_CASE("routing groups: a partition into chip-disjoint, internally connected groups (random trees)") {
  std::uint32_t state = 5;
  auto next = [&state] { state = state * 1664525u + 1013904223u; return state >> 8; };
  const int n_chips = 40;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::vector<int>> chips(30);
    for (auto& c : chips) {
      std::set<int> s;
      const int n = 1 + static_cast<int>(next() % 3);
      for (int k = 0; k < n; ++k) s.insert(static_cast<int>(next() % n_chips));
      c.assign(s.begin(), s.end());
    }
    const auto src = trees(chips);
    std::vector<int> active;
    for (int c = 0; c < 30; ++c)
      if (next() % 3 != 0) active.push_back(c);
    s1::RoutingGroups g(n_chips);
    g.build(active, src, false);
    std::vector<int> seen;
    std::vector<int> group_of_chip(n_chips, -1);
    for (std::size_t i = 0; i < g.size(); ++i) {
      const auto& members = g.sources(i);
      REQUIRE(!members.empty());
      CHECK(std::is_sorted(members.begin(), members.end()));
      seen.insert(seen.end(), members.begin(), members.end());
      for (int m : members)
        for (int chip : chips[static_cast<std::size_t>(m)]) {
          // No chip belongs to two groups.
          CHECK((group_of_chip[static_cast<std::size_t>(chip)] == -1 ||
                 group_of_chip[static_cast<std::size_t>(chip)] == static_cast<int>(i)));
          group_of_chip[static_cast<std::size_t>(chip)] = static_cast<int>(i);
        }
      // Connected: growing from the first member through shared chips reaches every member.
      std::set<int> reached_chips(chips[static_cast<std::size_t>(members[0])].begin(),
                                  chips[static_cast<std::size_t>(members[0])].end());
      std::set<int> reached{members[0]};
      for (bool grew = true; grew;) {
        grew = false;
        for (int m : members) {
          if (reached.count(m)) continue;
          const auto& mc = chips[static_cast<std::size_t>(m)];
          if (std::any_of(mc.begin(), mc.end(), [&](int c) { return reached_chips.count(c) > 0; })) {
            reached.insert(m);
            reached_chips.insert(mc.begin(), mc.end());
            grew = true;
          }
        }
      }
      CHECK(reached.size() == members.size());
      if (i > 0) CHECK(g.sources(i - 1)[0] < members[0]);
    }
    std::sort(seen.begin(), seen.end());
    CHECK(seen == active);
  }
}
