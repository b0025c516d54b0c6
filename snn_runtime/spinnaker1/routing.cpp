#include "snn_runtime/spinnaker1/routing.hpp"

#include <algorithm>
#include <boost/graph/breadth_first_search.hpp>
#include <map>

#include "common/error.hpp"

namespace grindstone::snn::spinnaker1 {
namespace {

using hw::s1::Link;

/// Breadth-first tree of the live machine from one chip: parent chip and the link (numbered on
/// the parent) that reaches each chip. Out-edges are in link order, so ties are deterministic.
struct BfsTree {
  std::vector<int> parent;
  std::vector<Link> via;
};

struct TreeRecorder : boost::default_bfs_visitor {
  BfsTree* tree;
  explicit TreeRecorder(BfsTree* t) : tree(t) {}
  template <class Edge, class Graph>
  void tree_edge(Edge e, const Graph& g) const {
    const auto v = boost::target(e, g);
    tree->parent[v] = static_cast<int>(boost::source(e, g));
    tree->via[v] = g[e].link;
  }
};

BfsTree bfs_tree(const hw::s1::MachineGraph& graph, int source) {
  BfsTree t;
  const auto n = boost::num_vertices(graph);
  t.parent.assign(n, -1);
  t.via.assign(n, Link::East);
  boost::breadth_first_search(graph, static_cast<hw::s1::MachineGraph::vertex_descriptor>(source),
                              boost::visitor(TreeRecorder(&t)));
  return t;
}

/// Compresses every chip's table (hw_model's pair compressor) into r.tables, with statistics;
/// InputError naming `context` and the chip when one does not fit.
void compress_tables(const Mapping& m, std::vector<std::vector<hw::s1::RoutingEntry>>& raw, Routing& r,
                     const std::string& context) {
  const auto& chips = m.machine.chips();
  const auto n_chips = chips.size();
  r.tables.resize(n_chips);
  r.compression.resize(n_chips);
  hw::s1::CompressionParams cp;
  cp.table = m.options.router_table;
  for (std::size_t c = 0; c < n_chips; ++c) {
    if (raw[c].empty()) continue;
    std::sort(raw[c].begin(), raw[c].end(),
              [](const hw::s1::RoutingEntry& a, const hw::s1::RoutingEntry& b) { return a.key < b.key; });
    r.entries_max_uncompressed = std::max(r.entries_max_uncompressed, static_cast<int>(raw[c].size()));
    try {
      r.tables[c] = hw::s1::compress_routing_table(raw[c], chips[c], cp, &r.compression[c]);
    } catch (const InputError&) {
      rethrow_with_context(context);
    }
    r.entries_max = std::max(r.entries_max, static_cast<int>(r.tables[c].size()));
    r.entries_total += static_cast<std::int64_t>(r.tables[c].size());
  }
}

/// Walks the compressed `tables` hop by hop from `src` (whose template targets are `tslices`),
/// recording the cores reached and the targets downstream of each chip in `out`. InternalError if
/// the walk visits a chip twice, leaves on a dead link, or reaches other cores than intended.
void walk_compressed(const Mapping& m, const std::vector<hw::s1::RoutingTable>& tables,
                     const std::vector<std::vector<int>>& core_at, const PlacedCore& src, const std::vector<int>& tslices,
                     SourceRoutes& out) {
  const auto& chips = m.machine.chips();
  // Depth-first walk; returns targets at or below the chip.
  struct Frame { int chip; hw::s1::Arrival from; int depth; };
  std::map<int, int> below;
  std::vector<std::pair<int, int>> parent_of;  // (chip, parent chip)
  std::vector<Frame> stack{{src.chip, hw::s1::Arrival::from_core(src.processor), 0}};
  std::vector<int> visit_order;
  while (!stack.empty()) {
    const Frame f = stack.back();
    stack.pop_back();
    if (below.count(f.chip))
      throw InternalError("spinnaker1 routing: key " + std::to_string(src.key) + " visits chip " +
                          hw::s1::to_string(chips[static_cast<std::size_t>(f.chip)]) + " twice");
    below[f.chip] = 0;
    visit_order.push_back(f.chip);
    out.hops_max = std::max(out.hops_max, f.depth);
    const hw::s1::RouteDecision d = tables[static_cast<std::size_t>(f.chip)].decide(src.key, f.from);
    for (int p = 0; p < hw::s1::kRouteCores; ++p) {
      if (!d.route.has_core(p)) continue;
      const int core = core_at[static_cast<std::size_t>(f.chip)][static_cast<std::size_t>(p)];
      if (core >= 0) {
        out.targets.push_back(core);
        ++below[f.chip];
      }
    }
    for (Link l : hw::s1::kAllLinks) {
      if (!d.route.has_link(l)) continue;
      const auto next = m.machine.neighbour(chips[static_cast<std::size_t>(f.chip)], l);
      if (!next)
        throw InternalError("spinnaker1 routing: a route leaves chip " +
                            hw::s1::to_string(chips[static_cast<std::size_t>(f.chip)]) + " on a dead link");
      const int nc = m.machine.chip_index(*next);
      parent_of.emplace_back(nc, f.chip);
      stack.push_back({nc, hw::s1::Arrival::from_link(hw::s1::opposite(l)), f.depth + 1});
    }
  }
  // Downstream counts: children after parents in visit order, so accumulate in reverse.
  std::map<int, int> parent(parent_of.begin(), parent_of.end());
  for (auto it = visit_order.rbegin(); it != visit_order.rend(); ++it) {
    auto p = parent.find(*it);
    if (p != parent.end()) below[p->second] += below[*it];
  }
  for (const auto& [chip, n] : below) {
    out.downstream.emplace_back(chip, n);
    out.chips.push_back(chip);
  }
  std::sort(out.targets.begin(), out.targets.end());
  std::vector<int> intended;
  for (int ts : tslices) intended.push_back(m.core_of(src.tile, ts));
  std::sort(intended.begin(), intended.end());
  if (out.targets != intended)
    throw InternalError("spinnaker1 routing: compressed tables deliver key " + std::to_string(src.key) + " to " +
                        std::to_string(out.targets.size()) + " cores instead of " + std::to_string(intended.size()));
}

}  // namespace

Routing build_routing(const Mapping& m, const std::string& context) {
  Routing r;
  const auto& chips = m.machine.chips();
  const auto n_chips = chips.size();
  const hw::s1::MachineGraph graph = m.machine.graph();
  r.core_at.assign(n_chips, std::vector<int>(static_cast<std::size_t>(m.machine.chip_params().n_cores), -1));
  for (std::size_t c = 0; c < m.cores.size(); ++c)
    r.core_at[static_cast<std::size_t>(m.cores[c].chip)][static_cast<std::size_t>(m.cores[c].processor)] = static_cast<int>(c);

  // Target slices of each slice (template): cores whose population table holds it, its delay core.
  std::vector<std::vector<int>> slice_targets(m.slices.size());
  for (std::size_t t = 0; t < m.slices.size(); ++t)
    for (const PopulationTableEntry& e : m.population_table[t])
      slice_targets[static_cast<std::size_t>(e.source_slice)].push_back(static_cast<int>(t));
  for (std::size_t s = 0; s < m.slices.size(); ++s)
    if (m.delay_slice_of[s] >= 0) slice_targets[s].push_back(m.delay_slice_of[s]);
  for (auto& v : slice_targets) std::sort(v.begin(), v.end());

  // ---- trees and uncompressed tables --------------------------------------------------------------
  std::vector<std::vector<hw::s1::RoutingEntry>> raw(n_chips);
  std::map<int, BfsTree> trees;  // per source chip
  r.sources.resize(m.cores.size());
  const std::uint32_t mask = m.core_mask();
  for (std::size_t s = 0; s < m.cores.size(); ++s) {
    const PlacedCore& src = m.cores[s];
    const auto& tslices = slice_targets[static_cast<std::size_t>(src.slice)];
    if (tslices.empty()) continue;
    auto it = trees.find(src.chip);
    if (it == trees.end()) it = trees.emplace(src.chip, bfs_tree(graph, src.chip)).first;
    const BfsTree& tree = it->second;
    // Route words per chip of the tree.
    std::map<int, hw::s1::RouteWord> words;
    std::map<int, std::uint8_t> incoming;
    for (int ts : tslices) {
      const int target = m.core_of(src.tile, ts);
      const PlacedCore& dst = m.cores[static_cast<std::size_t>(target)];
      words[dst.chip].add_core(dst.processor);
      // Walk up to the source chip, adding the tree links.
      for (int c = dst.chip; c != src.chip;) {
        const int p = tree.parent[static_cast<std::size_t>(c)];
        if (p < 0)
          throw InputError(context + ": routing: chip " + hw::s1::to_string(chips[static_cast<std::size_t>(dst.chip)]) +
                           " cannot be reached from chip " + hw::s1::to_string(chips[static_cast<std::size_t>(src.chip)]) +
                           " (dead chips or links cut it off)");
        const Link l = tree.via[static_cast<std::size_t>(c)];
        words[p].add_link(l);
        incoming[c] = static_cast<std::uint8_t>(1u << hw::s1::link_index(hw::s1::opposite(l)));
        c = p;
      }
    }
    incoming[src.chip] = hw::s1::RoutingEntry::kIncomingLocal;
    for (const auto& [chip, word] : words) {
      hw::s1::RoutingEntry e;
      e.key = src.key;
      e.mask = mask;
      e.route = word;
      e.incoming = incoming[chip];
      raw[static_cast<std::size_t>(chip)].push_back(e);
    }
  }

  compress_tables(m, raw, r, context);

  // ---- hop-by-hop check of the compressed tables ----------------------------------------------------
  std::vector<hw::s1::RoutingTable> tables;
  tables.reserve(n_chips);
  for (std::size_t c = 0; c < n_chips; ++c) {
    tables.emplace_back(r.tables[c], m.options.router_table);
  }
  for (std::size_t s = 0; s < m.cores.size(); ++s) {
    const PlacedCore& src = m.cores[s];
    const auto& tslices = slice_targets[static_cast<std::size_t>(src.slice)];
    if (tslices.empty()) continue;
    walk_compressed(m, tables, r.core_at, src, tslices, r.sources[s]);
  }
  return r;
}

}  // namespace grindstone::snn::spinnaker1
