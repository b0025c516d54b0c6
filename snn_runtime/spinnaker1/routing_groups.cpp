#include "snn_runtime/spinnaker1/routing_groups.hpp"

#include <algorithm>
#include <numeric>

namespace grindstone::snn::spinnaker1 {

RoutingGroups::RoutingGroups(std::size_t n_chips) : parent_(n_chips), group_of_root_(n_chips, -1) {}

int RoutingGroups::find(int x) {
  // Path halving.
  while (parent_[static_cast<std::size_t>(x)] != x) {
    parent_[static_cast<std::size_t>(x)] = parent_[static_cast<std::size_t>(parent_[static_cast<std::size_t>(x)])];
    x = parent_[static_cast<std::size_t>(x)];
  }
  return x;
}

void RoutingGroups::unite(int a, int b) {
  a = find(a);
  b = find(b);
  if (a != b) parent_[static_cast<std::size_t>(std::max(a, b))] = std::min(a, b);
}

void RoutingGroups::build(const std::vector<int>& active, const std::vector<SourceRoutes>& sources, bool single_group) {
  std::iota(parent_.begin(), parent_.end(), 0);
  for (int c : active) {
    const auto& chips = sources[static_cast<std::size_t>(c)].chips;
    for (std::size_t k = 1; k < chips.size(); ++k) unite(chips[0], chips[k]);
  }
  if (single_group)
    for (int c : active)
      unite(sources[static_cast<std::size_t>(c)].chips[0], sources[static_cast<std::size_t>(active[0])].chips[0]);
  // The inner vectors keep their capacity from tick to tick.
  for (auto& g : groups_) g.clear();
  n_groups_ = 0;
  std::fill(group_of_root_.begin(), group_of_root_.end(), -1);
  for (int c : active) {
    int& group = group_of_root_[static_cast<std::size_t>(find(sources[static_cast<std::size_t>(c)].chips[0]))];
    if (group < 0) {
      group = static_cast<int>(n_groups_++);
      if (groups_.size() < n_groups_) groups_.emplace_back();
    }
    groups_[static_cast<std::size_t>(group)].push_back(c);
  }
}

}  // namespace grindstone::snn::spinnaker1
