#include "snn_runtime/network/temporal_groups.hpp"

#include "common/error.hpp"

namespace grindstone::snn {

int temporal_groups_of(const Network& network, const std::string& context) {
  int k = 0;
  for (const Population& p : network.populations) {
    if (p.role == PopulationRole::Bias || p.is_source()) continue;  // sources' groups follow the rule below
    if (k == 0) k = p.temporal_groups;
    require_input(p.temporal_groups == k, context,
                  "population '" + p.name + "' has " + std::to_string(p.temporal_groups) + " temporal groups, others " +
                      std::to_string(k) + ": cannot re-group");
  }
  return k == 0 ? 1 : k;
}

void set_temporal_groups(Network& network, int groups, const std::string& context) {
  require_input(groups >= 1 && groups <= 64, context, "temporal groups " + std::to_string(groups) + " is outside 1..64");
  const int old = temporal_groups_of(network, context);
  for (Population& p : network.populations) {
    require_input(p.tick % old == 0, context,
                  "population '" + p.name + "' fires at tick " + std::to_string(p.tick) + ", not a multiple of its " +
                      std::to_string(old) + " temporal groups");
    p.tick = p.tick / old * groups;
    p.temporal_groups = p.role == PopulationRole::Bias ? 1 : groups;
  }
  // Adjacent layers have delays 1..2K−1; a residual shortcut spans more layers, so only the lower
  // bound is a rule: every spike must arrive after its source fired.
  for (const Projection& pr : network.projections) {
    const int lo = min_delay(network, pr);
    if (lo < 1)
      throw InternalError("temporal groups: projection '" + pr.name + "' has a minimum delay " + std::to_string(lo) +
                          " (< 1) at " + std::to_string(groups) + " groups");
  }
}

}  // namespace grindstone::snn
