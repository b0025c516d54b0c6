#include <doctest/doctest.h>

#include <boost/graph/graph_traits.hpp>
#include <set>

#include "common/error.hpp"
#include "hw_model/spinnaker1/topology.hpp"

namespace s1 = grindstone::hw::s1;
using s1::ChipCoord;
using s1::Link;
using s1::Machine;

namespace {
int count_links(const Machine& m) {
  int n = 0;
  for (ChipCoord c : m.chips())
    for (Link l : s1::kAllLinks) n += m.neighbour(c, l).has_value() ? 1 : 0;
  return n;
}
}  // namespace

TEST_CASE("link ids follow SpiNNMachine LINK_ADD_TABLE") {
  CHECK(s1::link_delta(Link::East) == std::pair{1, 0});
  CHECK(s1::link_delta(Link::NorthEast) == std::pair{1, 1});
  CHECK(s1::link_delta(Link::North) == std::pair{0, 1});
  CHECK(s1::link_delta(Link::West) == std::pair{-1, 0});
  CHECK(s1::link_delta(Link::SouthWest) == std::pair{-1, -1});
  CHECK(s1::link_delta(Link::South) == std::pair{0, -1});
  for (Link l : s1::kAllLinks) {
    const auto [dx, dy] = s1::link_delta(l);
    const auto [ox, oy] = s1::link_delta(s1::opposite(l));
    CHECK(dx == -ox);
    CHECK(dy == -oy);
  }
}

TEST_CASE("SpiNN-5 board: 48 chips in an 8x8 box, no wrap-around") {
  Machine m(Machine::Params::spinn5());
  CHECK(m.n_chips() == 48);
  CHECK(m.width() == 8);
  CHECK(m.height() == 8);
  CHECK_FALSE(m.wraps());
  CHECK(m.n_boards() == 1);
  CHECK(m.has_chip({0, 0}));
  CHECK(m.has_chip({4, 0}));
  CHECK(m.has_chip({7, 7}));
  CHECK(m.has_chip({0, 3}));
  CHECK_FALSE(m.has_chip({0, 4}));
  CHECK_FALSE(m.has_chip({7, 2}));
  CHECK_FALSE(m.has_chip({5, 0}));
  CHECK(m.is_ethernet({0, 0}));
  CHECK_FALSE(m.is_ethernet({1, 1}));
  // Per-column counts of version_5.py CHIPS_PER_BOARD: 4,5,6,7,8,7,6,5.
  const int expected[8] = {4, 5, 6, 7, 8, 7, 6, 5};
  for (int x = 0; x < 8; ++x) {
    int n = 0;
    for (int y = 0; y < 8; ++y) n += m.has_chip({x, y}) ? 1 : 0;
    CHECK(n == expected[x]);
  }
  CHECK_FALSE(m.neighbour({0, 0}, Link::West));
  CHECK_FALSE(m.neighbour({0, 0}, Link::South));
  CHECK(*m.neighbour({0, 0}, Link::East) == ChipCoord{1, 0});
  CHECK(*m.neighbour({3, 3}, Link::NorthEast) == ChipCoord{4, 4});
  CHECK_FALSE(m.neighbour({7, 7}, Link::East));
  // Interior chips have 6 links; links are symmetric.
  for (ChipCoord c : m.chips())
    for (Link l : s1::kAllLinks)
      if (auto n = m.neighbour(c, l)) CHECK(*m.neighbour(*n, s1::opposite(l)) == c);
  int six = 0;
  for (ChipCoord c : m.chips()) {
    int k = 0;
    for (Link l : s1::kAllLinks) k += m.link_alive(c, l) ? 1 : 0;
    six += (k == 6);
  }
  CHECK(six == 27);  // sides of 4 and 5 chips alternate: 21 on the rim
  CHECK(m.total_application_cores() == 48 * 16);  // 18 − SCAMP − extra monitor
}

TEST_CASE("SpiNN-3 board: 2x2") {
  Machine m(Machine::Params::spinn3());
  CHECK(m.n_chips() == 4);
  CHECK(*m.neighbour({0, 0}, Link::NorthEast) == ChipCoord{1, 1});
  CHECK_FALSE(m.neighbour({1, 0}, Link::East));
  CHECK(count_links(m) == 10);  // 5 bidirectional links
  CHECK(m.geometric_hops({1, 0}, {0, 1}) == 2);
  CHECK(m.hops({1, 0}, {0, 1}) == 2);
}

TEST_CASE("triad: 12x12 torus of 3 boards with wrap-around") {
  Machine m(Machine::Params::triads(1, 1));
  CHECK(m.n_chips() == 144);
  CHECK(m.wraps());
  CHECK(m.n_boards() == 3);
  std::set<ChipCoord> eth;
  for (ChipCoord c : m.chips())
    if (m.is_ethernet(c)) eth.insert(c);
  CHECK(eth == std::set<ChipCoord>{{0, 0}, {4, 8}, {8, 4}});
  CHECK(m.ethernet_chip_of({5, 9}) == ChipCoord{4, 8});
  for (ChipCoord c : m.chips())
    for (Link l : s1::kAllLinks) REQUIRE(m.neighbour(c, l).has_value());
  CHECK(*m.neighbour({11, 5}, Link::East) == ChipCoord{0, 5});
  CHECK(*m.neighbour({0, 0}, Link::SouthWest) == ChipCoord{11, 11});
  CHECK(*m.neighbour({3, 11}, Link::North) == ChipCoord{3, 0});
  CHECK(*m.neighbour({11, 11}, Link::NorthEast) == ChipCoord{0, 0});
  CHECK(m.geometric_hops({0, 0}, {11, 11}) == 1);
  CHECK(m.geometric_hops({0, 0}, {6, 6}) == 6);
  CHECK(m.geometric_hops({0, 0}, {6, 0}) == 6);
  CHECK(m.geometric_hops({0, 0}, {3, 9}) == 6);  // (3,-3): |3|+|3|
  CHECK(m.geometric_hops({1, 2}, {1, 2}) == 0);
  // Breadth-first hops equal the lattice formula on a fault-free torus.
  for (ChipCoord a : {ChipCoord{0, 0}, ChipCoord{5, 7}, ChipCoord{11, 3}}) {
    const auto dist = m.hops_from(a);
    for (std::size_t i = 0; i < m.chips().size(); ++i) CHECK(dist[i] == m.geometric_hops(a, m.chips()[i]));
  }
  Machine big(Machine::Params::triads(2, 1));
  CHECK(big.n_chips() == 288);
  CHECK(big.width() == 24);
  CHECK(*big.neighbour({23, 0}, Link::East) == ChipCoord{0, 0});
}

TEST_CASE("hop distances on SpiNN-5 match breadth-first search") {
  Machine m;
  for (ChipCoord a : m.chips()) {
    const auto dist = m.hops_from(a);
    for (std::size_t i = 0; i < m.chips().size(); ++i) REQUIRE(dist[i] == m.geometric_hops(a, m.chips()[i]));
  }
  CHECK(m.geometric_hops({0, 0}, {7, 7}) == 7);
  CHECK(m.geometric_hops({0, 3}, {4, 0}) == 7);
  CHECK(m.geometric_hops({0, 3}, {7, 3}) == 7);
}

TEST_CASE("dead chips and links reroute shortest paths") {
  Machine::Params p = Machine::Params::spinn5();
  p.dead_chips = {{1, 0}, {1, 1}};
  p.dead_links = {{{0, 0}, Link::North}};
  Machine m(p);
  CHECK(m.n_chips() == 46);
  CHECK_FALSE(m.has_chip({1, 0}));
  CHECK(m.in_layout({1, 0}));
  CHECK_FALSE(m.neighbour({0, 0}, Link::East));
  CHECK_FALSE(m.neighbour({0, 0}, Link::North));
  CHECK_FALSE(m.neighbour({0, 1}, Link::South));  // both directions of the dead link
  CHECK(m.hops({0, 0}, {2, 0}) == -1);             // (0,0) is cut off
  CHECK(m.hops({0, 1}, {2, 0}) == 4);              // around the dead pair (3 without faults)
  CHECK(m.geometric_hops({0, 1}, {2, 0}) == 3);
  const auto path = m.shortest_path({0, 1}, {2, 0});
  REQUIRE(path.has_value());
  CHECK(path->size() == 4u);
  ChipCoord c{0, 1};
  for (Link l : *path) c = *m.neighbour(c, l);
  CHECK(c == ChipCoord{2, 0});
  CHECK_FALSE(m.shortest_path({0, 0}, {2, 0}).has_value());

  Machine::Params bad = Machine::Params::spinn5();
  bad.dead_chips = {{0, 7}};
  CHECK_THROWS_AS(Machine{bad}, grindstone::InputError);
}

TEST_CASE("Boost.Graph view has one directed edge per live link") {
  Machine::Params p = Machine::Params::spinn5();
  p.dead_chips = {{3, 3}};
  Machine m(p);
  const s1::MachineGraph g = m.graph();
  CHECK(boost::num_vertices(g) == 47u);
  CHECK(static_cast<int>(boost::num_edges(g)) == count_links(m));
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const ChipCoord a = g[boost::source(*e, g)].chip;
    const ChipCoord b = g[boost::target(*e, g)].chip;
    CHECK(*m.neighbour(a, g[*e].link) == b);
  }
}

TEST_CASE("machine size from a board count") {
  CHECK(Machine(Machine::Params::for_boards(1)).n_chips() == 48);
  CHECK(Machine(Machine::Params::for_boards(3)).n_chips() == 144);
  const Machine six(Machine::Params::for_boards(6));
  CHECK(six.n_boards() == 6);
  CHECK(six.n_chips() == 288);
  CHECK(Machine(Machine::Params::for_boards(10)).n_boards() == 12);
  CHECK_THROWS_AS(Machine::Params::for_boards(0), grindstone::InputError);
}
