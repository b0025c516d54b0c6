#include "snn_runtime/spinnaker1/mapping.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "common/error.hpp"

namespace grindstone::snn::spinnaker1 {
namespace {

/// Bits needed to number 0..n−1 (0 for n ≤ 1).
int bits_for(std::int64_t n) {
  int b = 0;
  while ((std::int64_t{1} << b) < n) ++b;
  return b;
}


struct PendingSynapse {
  std::uint32_t atom;
  std::uint32_t word;
};

/// Per population: the delay-extension stages its outgoing projections need (0: none); sets
/// m.max_delay. InputError for a delay beyond what a delay extension supports.
std::vector<int> delay_stages(const Network& network, Mapping& m, const std::string& context) {
  std::vector<int> stages_of(network.populations.size(), 0);
  for (const Projection& pr : network.projections) {
    const int d = max_delay(network, pr);
    m.max_delay = std::max(m.max_delay, d);
    require_input(hw::s1::Ticks(d) <= hw::s1::kMaxDelay, context,
                  "projection '" + pr.name + "': delay " + std::to_string(d) + " ticks exceeds the " +
                      std::to_string(hw::s1::kMaxDelay.value) + " a delay extension supports");
    if (hw::s1::Ticks(d) > hw::s1::kMaxNativeDelay)
      stages_of[static_cast<std::size_t>(pr.pre)] =
          std::max(stages_of[static_cast<std::size_t>(pr.pre)], hw::s1::delay_stage(hw::s1::Ticks(d)));
  }
  return stages_of;
}

/// Splits every population into cores of the per-tile layout (m.slices, population_slices), then
/// adds a delay-extension core per slice of a population that needs one (delay_slice_of).
void split_populations(const Network& network, const MappingOptions& options, const hw::s1::CoreBudget& budget,
                       const std::vector<int>& stages_of, Mapping& m, const std::string& context) {
  const auto n_pops = static_cast<int>(network.populations.size());
  // Neurons per core: the option, capped so that the ring buffers of a 16-tick native delay fit.
  const std::int64_t dtcm_limit = budget.max_neurons_for_delay(static_cast<int>(hw::s1::kMaxNativeDelay.value));
  require_input(dtcm_limit >= 1, context, "core budget: not even one neuron fits a core's ring buffers");
  m.population_slices.assign(static_cast<std::size_t>(n_pops), {});
  for (int p = 0; p < n_pops; ++p) {
    const Population& pop = network.populations[static_cast<std::size_t>(p)];
    const bool source = pop.is_source();
    const std::int64_t per_core =
        source ? options.max_source_atoms_per_core : std::min<std::int64_t>(options.max_neurons_per_core, dtcm_limit);
    if (!source && pop.role != PopulationRole::Bias) m.neurons_per_tile += pop.size();
    for (std::int64_t first = 0, k = 0; first < pop.size(); first += per_core, ++k) {
      CoreSlice s;
      s.kind = source ? CoreKind::Source : CoreKind::Neurons;
      s.population = p;
      s.first = first;
      s.count = static_cast<std::int32_t>(std::min(per_core, pop.size() - first));
      s.vertex = p;
      s.index_in_vertex = static_cast<int>(k);
      m.population_slices[static_cast<std::size_t>(p)].push_back(static_cast<int>(m.slices.size()));
      m.slices.push_back(std::move(s));
    }
  }
  m.delay_slice_of.assign(m.slices.size(), -1);
  int n_vertices = n_pops;
  for (int p = 0; p < n_pops; ++p) {
    const int stages = stages_of[static_cast<std::size_t>(p)];
    if (stages == 0) continue;
    const int vertex = n_vertices++;
    for (int si : m.population_slices[static_cast<std::size_t>(p)]) {
      CoreSlice d;
      d.kind = CoreKind::DelayExtension;
      d.population = p;
      d.first = m.slices[static_cast<std::size_t>(si)].first;
      d.count = m.slices[static_cast<std::size_t>(si)].count;
      d.stages = stages;
      d.vertex = vertex;
      d.index_in_vertex = m.slices[static_cast<std::size_t>(si)].index_in_vertex;
      d.stage_mask.assign(static_cast<std::size_t>(d.count), 0);
      m.delay_slice_of[static_cast<std::size_t>(si)] = static_cast<int>(m.slices.size());
      m.slices.push_back(std::move(d));
    }
  }
  m.delay_slice_of.resize(m.slices.size(), -1);
  m.vertices_per_tile = n_vertices;
}

/// The synaptic matrices (one per source slice and target slice, rows by source atom) and each
/// target slice's master population table; delay-extension cores take the synapses of their
/// stages. InputError for a row over the row limit.
void build_matrices(const Network& network, const MappingOptions& options, Mapping& m, const std::string& context) {
  // Pending synapses per (source slice, target slice), gathered then laid out row by row.
  std::vector<std::vector<std::pair<int, std::vector<PendingSynapse>>>> pending(m.slices.size());
  auto bucket = [&](int src, int dst) -> std::vector<PendingSynapse>& {
    auto& list = pending[static_cast<std::size_t>(src)];
    for (auto& [t, v] : list)
      if (t == dst) return v;
    list.emplace_back(dst, std::vector<PendingSynapse>{});
    return list.back().second;
  };
  for (const Projection& pr : network.projections) {
    const Population& pre = network.populations[static_cast<std::size_t>(pr.pre)];
    const Population& post = network.populations[static_cast<std::size_t>(pr.post)];
    const PopulationWeightEncoding& enc = m.encodings[static_cast<std::size_t>(pr.post)];
    const auto& post_slices = m.population_slices[static_cast<std::size_t>(pr.post)];
    const std::int64_t post_per_core = m.slices[static_cast<std::size_t>(post_slices.front())].count;
    for (int si : m.population_slices[static_cast<std::size_t>(pr.pre)]) {
      const CoreSlice& src = m.slices[static_cast<std::size_t>(si)];
      const int delay_slice = m.delay_slice_of[static_cast<std::size_t>(si)];
      for (std::int32_t a = 0; a < src.count; ++a) {
        const std::int64_t j = src.first + a;
        const int pre_tick = pre.fire_tick(j);
        for_each_target(network, pr, j, [&](std::int64_t i, float w) {
          ++m.synapses_per_tile;
          const auto ts = static_cast<int>(i / post_per_core);
          const int target = post_slices[static_cast<std::size_t>(ts)];
          const int post_local = static_cast<int>(i - static_cast<std::int64_t>(ts) * post_per_core);
          const int d = post.fire_tick(i) - pre_tick;
          const int stage = hw::s1::delay_stage(hw::s1::Ticks(d));
          const std::uint32_t weight = stored_weight(enc, w, pr.weight_scale);
          const int receptor = w < 0 ? 1 : 0;
          if (stage == 0) {
            bucket(si, target).push_back({static_cast<std::uint32_t>(a),
                                          SynapticMatrix::word(weight, d, receptor, post_local)});
          } else {
            CoreSlice& dc = m.slices[static_cast<std::size_t>(delay_slice)];
            dc.stage_mask[static_cast<std::size_t>(a)] |= static_cast<std::uint16_t>(1u << (stage - 1));
            const auto atom = static_cast<std::uint32_t>((stage - 1) * src.count + a);
            bucket(delay_slice, target).push_back(
                {atom, SynapticMatrix::word(weight, d - stage * static_cast<int>(hw::s1::kDelayStageTicks.value), receptor, post_local)});
          }
        });
      }
    }
  }
  m.population_table.assign(m.slices.size(), {});
  for (std::size_t src = 0; src < m.slices.size(); ++src) {
    const std::int32_t atoms = m.slices[src].atoms();
    std::sort(pending[src].begin(), pending[src].end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [dst, syn] : pending[src]) {
      std::stable_sort(syn.begin(), syn.end(), [](const PendingSynapse& a, const PendingSynapse& b) { return a.atom < b.atom; });
      SynapticMatrix mat;
      mat.row_begin.assign(static_cast<std::size_t>(atoms) + 1, 0);
      for (const PendingSynapse& s : syn) ++mat.row_begin[s.atom + 1];
      for (std::size_t a = 0; a < static_cast<std::size_t>(atoms); ++a) {
        require_input(mat.row_begin[a + 1] <= static_cast<std::uint32_t>(options.max_row_length), context,
                      "population '" + network.populations[static_cast<std::size_t>(m.slices[src].population)].name +
                          "': a synaptic row of " + std::to_string(mat.row_begin[a + 1]) +
                          " entries exceeds the row limit " + std::to_string(options.max_row_length));
        mat.row_begin[a + 1] += mat.row_begin[a];
      }
      mat.words.reserve(syn.size());
      for (const PendingSynapse& s : syn) mat.words.push_back(s.word);
      m.population_table[static_cast<std::size_t>(dst)].push_back({static_cast<int>(src), static_cast<int>(m.matrices.size())});
      m.matrices.push_back(std::move(mat));
      std::vector<PendingSynapse>().swap(syn);
    }
  }
  for (auto& entries : m.population_table)
    std::sort(entries.begin(), entries.end(),
              [](const PopulationTableEntry& a, const PopulationTableEntry& b) { return a.source_slice < b.source_slice; });
}

/// Every neuron core against the hw_model CoreBudget: DTCM, rows, population table, SDRAM share.
void check_core_budgets(const Network& network, const hw::s1::CoreBudget& budget, const Mapping& m,
                        const std::string& context) {
  for (std::size_t t = 0; t < m.slices.size(); ++t) {
    const CoreSlice& s = m.slices[t];
    if (s.kind != CoreKind::Neurons) continue;
    hw::s1::CoreLoad load;
    load.n_neurons = s.count;
    load.n_pop_table_entries = static_cast<int>(m.population_table[t].size());
    load.n_address_list_entries = load.n_pop_table_entries;
    for (const PopulationTableEntry& e : m.population_table[t]) {
      const SynapticMatrix& mat = m.matrices[static_cast<std::size_t>(e.matrix)];
      std::uint32_t longest = 0;
      for (std::size_t a = 0; a + 1 < mat.row_begin.size(); ++a) longest = std::max(longest, mat.row_begin[a + 1] - mat.row_begin[a]);
      for (std::uint32_t w : mat.words) load.max_delay_ticks = std::max(load.max_delay_ticks, SynapticMatrix::delay_of(w));
      load.max_row_length = std::max(load.max_row_length, static_cast<int>(longest));
      // sPyNNaker pads every row of a block to the block's longest row (reference §2).
      load.synaptic_matrix_bytes += static_cast<std::int64_t>(mat.row_begin.size() - 1) *
                                    hw::s1::CoreBudget::row_bytes(static_cast<int>(longest));
    }
    const hw::s1::CoreBudgetVerdict verdict = budget.check(load);
    require_input(verdict.fits, context,
                  "population '" + network.populations[static_cast<std::size_t>(s.population)].name + "' core " +
                      std::to_string(s.index_in_vertex) + ": " + verdict.reason);
  }
}

/// Key fields wide enough for every tile's vertices, cores and atoms; InputError over 32 bits.
void choose_key_fields(const MappingOptions& options, Mapping& m, const std::string& context) {
  int max_cores_in_vertex = 1;
  std::int32_t max_atoms = 1;
  for (const CoreSlice& s : m.slices) {
    max_cores_in_vertex = std::max(max_cores_in_vertex, s.index_in_vertex + 1);
    max_atoms = std::max(max_atoms, s.atoms());
  }
  m.atom_bits = bits_for(max_atoms);
  m.core_bits = bits_for(max_cores_in_vertex);
  m.vertex_bits = bits_for(static_cast<std::int64_t>(options.tiles) * m.vertices_per_tile);
  require_input(m.atom_bits + m.core_bits + m.vertex_bits <= 32, context,
                "keys: " + std::to_string(m.atom_bits) + " atom + " + std::to_string(m.core_bits) + " core + " +
                    std::to_string(m.vertex_bits) + " vertex bits exceed 32");
}

/// Places `tiles` copies of the layout on the live chips (see mapping.hpp) and gives each core its
/// key. InputError when the machine has too few application cores.
void place(const MappingOptions& options, Mapping& m, const std::string& context) {
  const auto& chips = m.machine.chips();
  require_input(!chips.empty(), context, "machine: no live chips");
  // Chips in breadth-first order from the first Ethernet chip (ties by coordinates).
  int origin = 0;
  for (int c = 0; c < m.machine.n_chips(); ++c)
    if (m.machine.is_ethernet(chips[static_cast<std::size_t>(c)])) { origin = c; break; }
  const std::vector<int> hops = m.machine.hops_from(chips[static_cast<std::size_t>(origin)]);
  std::vector<int> order;
  for (int c = 0; c < m.machine.n_chips(); ++c)
    if (hops[static_cast<std::size_t>(c)] >= 0 && m.machine.application_cores(chips[static_cast<std::size_t>(c)]) > 0)
      order.push_back(c);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return hops[static_cast<std::size_t>(a)] < hops[static_cast<std::size_t>(b)]; });
  std::vector<int> free_cores(chips.size(), 0);
  std::int64_t total_free = 0;
  for (int c : order) {
    free_cores[static_cast<std::size_t>(c)] = m.machine.application_cores(chips[static_cast<std::size_t>(c)]);
    total_free += free_cores[static_cast<std::size_t>(c)];
  }
  const std::int64_t needed = static_cast<std::int64_t>(options.tiles) * static_cast<std::int64_t>(m.slices.size());
  require_input(needed <= total_free, context,
                "placement: " + std::to_string(options.tiles) + " tile(s) of " + std::to_string(m.slices.size()) +
                    " cores need " + std::to_string(needed) + " cores but the machine has " + std::to_string(total_free) +
                    " application cores on " + std::to_string(order.size()) + " reachable chips (use --boards)");
  choose_key_fields(options, m, context);
  const int n_vertices = m.vertices_per_tile;
  const int reserved = options.machine.chip.n_reserved_cores;
  std::vector<int> used_on_chip(chips.size(), 0);
  m.cores.reserve(static_cast<std::size_t>(needed));
  const auto n_order = static_cast<std::int64_t>(order.size());
  for (int t = 0; t < options.tiles; ++t) {
    // Tiles spread evenly over the chips; a tile's cores are consecutive from its start chip.
    std::int64_t pos = static_cast<std::int64_t>(t) * n_order / options.tiles;
    for (std::size_t si = 0; si < m.slices.size(); ++si) {
      while (free_cores[static_cast<std::size_t>(order[static_cast<std::size_t>(pos % n_order)])] == 0) ++pos;
      const int chip = order[static_cast<std::size_t>(pos % n_order)];
      --free_cores[static_cast<std::size_t>(chip)];
      PlacedCore pc;
      pc.tile = t;
      pc.slice = static_cast<int>(si);
      pc.chip = chip;
      pc.processor = reserved + used_on_chip[static_cast<std::size_t>(chip)]++;
      const CoreSlice& s = m.slices[si];
      const auto vertex = static_cast<std::uint32_t>(t * n_vertices + s.vertex);
      pc.key = (vertex << (m.core_bits + m.atom_bits)) | (static_cast<std::uint32_t>(s.index_in_vertex) << m.atom_bits);
      if (m.core_bits + m.atom_bits == 32) pc.key = static_cast<std::uint32_t>(s.index_in_vertex) << m.atom_bits;
      m.cores.push_back(pc);
    }
  }
  for (std::size_t c = 0; c < chips.size(); ++c)
    if (used_on_chip[c] > 0) m.chips_used.push_back(static_cast<int>(c));
}

}  // namespace

Mapping map_network(const Network& network, const MappingOptions& options, const std::string& context) {
  require_input(options.tiles >= 1, context, "--tiles: must be ≥ 1");
  require_input(options.max_neurons_per_core >= 1 && options.max_neurons_per_core <= 256, context,
                "max neurons per core: must be 1..256 (8-bit row index)");
  Mapping m{options, hw::s1::Machine(options.machine)};
  m.encodings = choose_weight_encodings(network, context);
  const std::vector<int> stages_of = delay_stages(network, m, context);
  const hw::s1::CoreBudget budget(options.core_budget, options.machine.chip);
  split_populations(network, options, budget, stages_of, m, context);
  build_matrices(network, options, m, context);
  check_core_budgets(network, budget, m, context);
  place(options, m, context);
  return m;
}

}  // namespace grindstone::snn::spinnaker1
