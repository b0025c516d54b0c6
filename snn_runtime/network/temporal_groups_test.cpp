// Re-grouping a network's temporal groups (network/temporal_groups.hpp): from K = 1 as the
// converter does, from one K to another as `grindstone sweep` does, and the errors.
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "snn_runtime/network/temporal_groups.hpp"
#include "testing/engine_networks.hpp"

using namespace grindstone;
using namespace grindstone::snn;

TEST_CASE("temporal groups: re-grouping scales base ticks and keeps delays within 1..2K-1") {
  Network net = engines_testing::random_dense_network({16, 8, 6, 4}, 5, InputEncoding::Threshold);
  CHECK(temporal_groups_of(net, "t") == 1);
  Network four = net;
  set_temporal_groups(four, 4, "t");
  CHECK(temporal_groups_of(four, "t") == 4);
  for (std::size_t p = 0; p < net.populations.size(); ++p) CHECK(four.populations[p].tick == 4 * net.populations[p].tick);
  for (const Projection& pr : four.projections) {
    CHECK(min_delay(four, pr) >= 1);
    CHECK(max_delay(four, pr) <= 7);
  }
  // 4 → 2 is the same network as 1 → 2.
  Network two_from_four = four, two = net;
  set_temporal_groups(two_from_four, 2, "t");
  set_temporal_groups(two, 2, "t");
  for (std::size_t p = 0; p < net.populations.size(); ++p) {
    CHECK(two_from_four.populations[p].tick == two.populations[p].tick);
    CHECK(two_from_four.populations[p].temporal_groups == two.populations[p].temporal_groups);
  }
  CHECK_THROWS_AS(set_temporal_groups(two, 0, "t"), InputError);
  CHECK_THROWS_AS(set_temporal_groups(two, 65, "t"), InputError);
  Network mixed = four;
  mixed.populations[1].temporal_groups = 3;
  CHECK_THROWS_WITH_AS(temporal_groups_of(mixed, "net.snn.h5"), doctest::Contains("net.snn.h5"), InputError);
}
