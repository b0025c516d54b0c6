#pragma once
// The routing groups of one tick: the sources that sent spikes this tick, partitioned so that no
// two groups' multicast trees share a chip. Each group's packets meet only that group's routers,
// so the groups are routed as independent discrete-event simulations (in parallel), and the
// result does not depend on how they are scheduled.
//
// Groups are the connected components of "trees share a chip" (union-find over chips), listed in
// the order of their first source, each holding its sources in ascending order — a partition that
// is unique for a given set of active sources, so the event order within a group is canonical.
#include <cstddef>
#include <vector>

#include "snn_runtime/spinnaker1/routing.hpp"

namespace grindstone::snn::spinnaker1 {

class RoutingGroups {
 public:
  explicit RoutingGroups(std::size_t n_chips);

  /// Regroups for one tick. `active`: the global cores that sent spikes, ascending, each with a
  /// non-empty tree in `sources`. `single_group`: put every active source in one group (an
  /// emergency detour passes through a neighbour off the packet's tree, so with emergency routing
  /// on, two groups could share a router).
  void build(const std::vector<int>& active, const std::vector<SourceRoutes>& sources, bool single_group);

  std::size_t size() const { return n_groups_; }
  /// The sources of group `g` (< size()), ascending.
  const std::vector<int>& sources(std::size_t g) const { return groups_[g]; }

 private:
  int find(int chip);
  void unite(int a, int b);

  std::vector<int> parent_;                ///< per chip: union-find parent
  std::vector<int> group_of_root_;         ///< per chip: group index of a root, −1 if none yet
  std::vector<std::vector<int>> groups_;   ///< per group: its sources (the first n_groups_ valid)
  std::size_t n_groups_ = 0;
};

}  // namespace grindstone::snn::spinnaker1
