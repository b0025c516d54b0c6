#pragma once
// Multicast routing of a mapped network (PACMAN's job): for every source core a tree of shortest
// paths over the live machine graph (Boost.Graph breadth-first search from the source chip,
// which avoids dead chips and links) to the chips of its target cores; one key/mask entry per
// (source core, chip on its tree), omitted where default routing does the same; each chip's
// table compressed by hw_model's pair compressor to fit the router (InputError naming the chip
// otherwise). The compressed tables are then walked hop by hop from every source to check that
// they deliver exactly the intended cores, and to record what the executor needs per source:
// the targets reached and, per chip of the tree, how many targets lie downstream (so a packet
// lost at a router counts as one lost delivery per downstream target).
#include <cstdint>
#include <string>
#include <vector>

#include "hw_model/spinnaker1/routing_table.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"

namespace grindstone::snn::spinnaker1 {

struct SourceRoutes {
  std::vector<int> targets;                       ///< global cores reached, ascending
  std::vector<std::pair<int, int>> downstream;    ///< (chip, targets at or below it), by chip
  std::vector<int> chips;                         ///< chips of the tree, ascending
  int hops_max = 0;                               ///< longest path in links

  /// Targets at or below `chip` on this tree (0 if the chip is not on it).
  int downstream_of(int chip) const {
    for (const auto& [c, n] : downstream)
      if (c == chip) return n;
    return 0;
  }
};

struct Routing {
  std::vector<std::vector<hw::s1::RoutingEntry>> tables;    ///< per machine chip, compressed
  std::vector<hw::s1::CompressionStats> compression;        ///< per machine chip
  std::vector<SourceRoutes> sources;                        ///< per global core
  int entries_max = 0;                                      ///< largest compressed table
  int entries_max_uncompressed = 0;                         ///< largest table before compression
  std::int64_t entries_total = 0;                           ///< Σ compressed entries
  /// Global core at (chip, processor), −1 where none.
  std::vector<std::vector<int>> core_at;
};

/// Builds routes and tables for `mapping`. InputError naming the chip when a table does not fit
/// (`context` prefixes it); InternalError if the compressed tables misroute.
Routing build_routing(const Mapping& mapping, const std::string& context);

}  // namespace grindstone::snn::spinnaker1
