#pragma once
// Dense memo of routing-table lookups, replacing the routers' hash maps on the executor's hot
// path: one entry per (source core, chip of its tree, atom) — the only (router, key) pairs the
// executor can produce — holding the router's lookup_index of that key, or kUnknown until first
// used. Each chip belongs to one routing group per tick, so concurrent groups write disjoint
// entries.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "hw_model/spinnaker1/router.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"
#include "snn_runtime/spinnaker1/routing.hpp"

namespace grindstone::snn::spinnaker1 {

class RouteMemo {
 public:
  static constexpr std::int16_t kUnknown = -2;
  /// Above this many entries (2 bytes each) the memo is not built and routers memoise themselves.
  static constexpr std::size_t kMaxEntries = std::size_t{1} << 25;

  RouteMemo(const Mapping& m, const Routing& routing) {
    begin_.assign(m.cores.size() + 1, 0);
    atoms_.assign(m.cores.size(), 0);
    for (std::size_t c = 0; c < m.cores.size(); ++c) {
      atoms_[c] = static_cast<std::size_t>(m.slices[static_cast<std::size_t>(m.cores[c].slice)].atoms());
      begin_[c + 1] = begin_[c] + routing.sources[c].chips.size() * atoms_[c];
    }
    enabled_ = begin_.back() <= kMaxEntries;
    if (enabled_) entries_.assign(begin_.back(), kUnknown);
  }
  bool enabled() const { return enabled_; }
  /// The table entry of `key` (= the key of `source`'s atom `atom`) at `router`, the router of
  /// `chip`: looked up on first use; kUnknown if the chip is not on the source's tree.
  int entry(const SourceRoutes& sr, std::size_t source, int chip, std::uint32_t atom, std::uint32_t key,
            const hw::s1::Router& router) {
    const auto it = std::lower_bound(sr.chips.begin(), sr.chips.end(), chip);
    if (it == sr.chips.end() || *it != chip || atom >= atoms_[source]) return kUnknown;
    const auto hop = static_cast<std::size_t>(it - sr.chips.begin());
    std::int16_t& e = entries_[begin_[source] + hop * atoms_[source] + atom];
    if (e == kUnknown) e = static_cast<std::int16_t>(router.table().lookup_index(key));
    return e;
  }

 private:
  std::vector<std::size_t> begin_;  ///< per source core: first entry
  std::vector<std::size_t> atoms_;  ///< per source core
  std::vector<std::int16_t> entries_;  ///< lookup_index (≤ 1023) or kUnknown
  bool enabled_ = false;
};

}  // namespace grindstone::snn::spinnaker1
