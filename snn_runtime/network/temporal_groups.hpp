#pragma once
// Temporal groups (time-division multiplexing, seed 001): population p's neurons fire over K
// consecutive ticks, group g = ⌊i·K/n⌋ at tick base·K + g, so the delays between layers are 1..2K−1
// and one layer's spikes are spread over K ticks. One home for the rule, used by the converter's
// temporal_groups pass (on a network with K = 1) and by `grindstone sweep` (re-grouping a
// converted network, whatever its K).
#include <string>

#include "snn_runtime/network/network.hpp"

namespace grindstone::snn {

/// The K every neuron (non-source, non-bias) population of `network` uses (they must agree);
/// InputError naming `context` otherwise.
int temporal_groups_of(const Network& network, const std::string& context);

/// Re-groups `network` into `groups` temporal groups (1..64): every population's base tick
/// tick/K_old becomes base·groups; non-bias populations get `groups` groups, bias neurons 1.
/// InputError naming `context` if groups is out of range or the network's ticks are not
/// multiples of its K; InternalError if a projection's delays then leave [1, 2·groups − 1].
void set_temporal_groups(Network& network, int groups, const std::string& context);

}  // namespace grindstone::snn
