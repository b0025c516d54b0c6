#include "snn_runtime/functional/dense_tiles.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "common/error.hpp"

namespace grindstone::snn::functional {
namespace {

// 32-byte vectors (one AVX2 register; two SSE2 registers on a baseline build). GCC's vector
// extensions keep the kernel portable; only the compare-to-bitmask step uses intrinsics.
using V16 = std::int16_t __attribute__((vector_size(32)));
using V32 = std::int32_t __attribute__((vector_size(32)));

template <class V>
struct Lanes;
template <>
struct Lanes<V16> {
  using Element = std::int16_t;
  static constexpr int kCount = 16;
};
template <>
struct Lanes<V32> {
  using Element = std::int32_t;
  static constexpr int kCount = 8;
};

/// Bit l set iff lane l of a compare result is true.
inline std::uint64_t lane_mask(V16 gt) {
#if defined(__AVX2__) && defined(__BMI2__)
  return _pext_u32(static_cast<std::uint32_t>(_mm256_movemask_epi8(reinterpret_cast<__m256i>(gt))), 0x55555555u);
#else
  std::uint64_t m = 0;
  for (int l = 0; l < 16; ++l) m |= static_cast<std::uint64_t>(gt[l] != 0) << l;
  return m;
#endif
}
inline std::uint64_t lane_mask(V32 gt) {
#if defined(__AVX2__) && defined(__BMI2__)
  return static_cast<std::uint32_t>(_mm256_movemask_ps(reinterpret_cast<__m256>(gt)));
#else
  std::uint64_t m = 0;
  for (int l = 0; l < 8; ++l) m |= static_cast<std::uint64_t>(gt[l] != 0) << l;
  return m;
#endif
}

/// Most vector registers one tile keeps (x86-64 has 16; the adds take their second operand
/// from memory, so the loop needs no other vector register).
constexpr int kMaxTileVectors = 13;
/// Target size of one tile's weight slice: within a 512 KiB L2 with room to spare, so that one
/// tile covers a 100-neuron layer and each spike index serves many vector adds (measured on the
/// 2-core EPYC with 2-bit groups: 384 KiB ≈ 730 ns/sample, 64 KiB ≈ 930 ns on dense:100,100).
constexpr std::int64_t kTileSliceBytes = 384 * 1024;

// Spikes reach the tiles in groups (the method of four Russians): the pre neurons are taken
// kGroupBits at a time, and each group has a weight row for every non-empty pattern of its
// spikes (the sum of the rows of the neurons in the pattern). A group with any spike then costs
// one row add instead of one per spike: fewer adds where spikes cluster (image strokes) for
// 2^kGroupBits/kGroupBits times the weight memory.
constexpr int kGroupBits = 2;
constexpr int kGroupsPerByte = 8 / kGroupBits;
constexpr int kPatterns = 1 << kGroupBits;              ///< rows per group (pattern 0 unused)
constexpr int kRowsPerByte = kGroupsPerByte * kPatterns;  ///< grouped rows per 8 pre neurons

/// Grouped rows of a pre population of `neurons` (bit sets of whole 64-bit words).
constexpr std::int64_t grouped_rows(std::int64_t neurons) { return (neurons + 63) / 64 * 8 * kRowsPerByte; }

/// For every byte of spikes: the grouped rows (within the byte) of its non-empty groups, then
/// zeros; and how many there are.
struct ByteGroups {
  alignas(4) std::array<std::uint8_t, kGroupsPerByte> rows{};
  std::uint8_t count = 0;
};
constexpr std::array<ByteGroups, 256> kByteGroups = [] {
  std::array<ByteGroups, 256> table{};
  for (int b = 0; b < 256; ++b) {
    auto& entry = table[static_cast<std::size_t>(b)];
    for (int g = 0; g < kGroupsPerByte; ++g) {
      const int pattern = (b >> (g * kGroupBits)) & (kPatterns - 1);
      if (pattern != 0) entry.rows[entry.count++] = static_cast<std::uint8_t>(g * kPatterns + pattern);
    }
  }
  return table;
}();

/// Writes the grouped rows of the spikes in words[0..n_words) to `out`, ascending, and returns
/// their number. Branch-free per byte: kGroupsPerByte entries are written every time (so `out`
/// needs that many spare entries) and the count advances by the byte's non-empty groups.
std::uint32_t expand_groups(const std::uint64_t* words, std::int64_t n_words, std::int32_t* out) {
  std::uint32_t count = 0;
  for (std::int64_t w = 0; w < n_words; ++w) {
    std::uint64_t word = words[w];
    if (word == 0) continue;
    for (int b = 0; b < 8; ++b, word >>= 8) {
      const ByteGroups& groups = kByteGroups[static_cast<std::uint8_t>(word)];
      const auto base = static_cast<std::int32_t>((w * 8 + b) * kRowsPerByte);
#if defined(__AVX2__)
      if constexpr (kGroupsPerByte == 4) {  // 4 bytes → 4 int32, plus the base, in one store
        std::int32_t packed = 0;
        std::memcpy(&packed, groups.rows.data(), sizeof(packed));
        const __m128i rows = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(packed));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + count), _mm_add_epi32(rows, _mm_set1_epi32(base)));
      } else
#endif
      {
        for (int i = 0; i < kGroupsPerByte; ++i)
          out[count + static_cast<std::uint32_t>(i)] = base + groups.rows[static_cast<std::size_t>(i)];
      }
      count += groups.count;
    }
  }
  return count;
}

/// Bit i of words = bit `bit` of pixel i, for i < n (the rest of the words zero). Each word
/// is assembled in a register and stored once.
void pixel_bits(const std::uint8_t* image, std::int64_t n, int bit, std::uint64_t* words, std::int64_t n_words) {
  std::int64_t w = 0;
#if defined(__AVX2__)
  // Shifting each 16-bit lane left by 7 − bit moves bit `bit` of both bytes to their sign bits.
  const __m128i shift = _mm_cvtsi32_si128(7 - bit);
  for (; (w + 1) * 64 <= n; ++w) {
    const auto* p = reinterpret_cast<const __m256i*>(image + w * 64);
    const auto lo = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_sll_epi16(_mm256_loadu_si256(p), shift)));
    const auto hi = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_sll_epi16(_mm256_loadu_si256(p + 1), shift)));
    words[w] = (std::uint64_t{hi} << 32) | lo;
  }
#endif
  for (; w < n_words; ++w) {
    std::uint64_t word = 0;
    const std::int64_t end = std::min<std::int64_t>(n, (w + 1) * 64);
    for (std::int64_t i = w * 64; i < end; ++i) word |= static_cast<std::uint64_t>(bitplane_fires(image[i], bit)) << (i - w * 64);
    words[w] = word;
  }
}

}  // namespace

/// One sample-dependent population, computed in population (= topological) order.
struct DenseTilePath::Step {
  /// A dense projection from an earlier step, weights tile-major: tile t's slice starts at
  /// vector rows·first_vector(t) and holds `rows` rows of tile.vectors vectors each.
  struct Input {
    std::size_t pre_step = 0;
    std::int64_t pre_capacity = 0;  ///< the pre step's index-list entries per sample
    std::int64_t rows = 0;
    std::vector<V16> weights16;
    std::vector<V32> weights32;
  };
  struct Tile {
    std::int64_t first_vector = 0;
    int vectors = 0;
  };

  int population = -1;
  std::int32_t size = 0;
  int source_bit = -1;         ///< sources: the pixel bit that fires a neuron (7 = threshold)
  bool wide = false;           ///< int32 accumulators (else int16)
  std::int64_t words = 0;      ///< 64-bit words of one sample's bit set
  std::int64_t capacity = 0;   ///< index-list entries per sample (all groups, + spare for expand_groups)
  std::vector<Input> inputs;
  std::vector<Tile> tiles;
  std::vector<V16> init16, threshold16;  ///< constant input; threshold − 1 (padding lanes: max)
  std::vector<V32> init32, threshold32;
  /// The neurons' out-fanouts (synapses leaving them, all projections) as
  /// fanout_j = fanout_base + fanout_sign·v_j with v_j ≥ 0 in binary: plane i is the bit set of
  /// neurons whose v has bit plane_shift[i] set, so the synaptic events of a sample are
  /// base·spikes + sign·Σ_i 2^shift_i·popcount(fired ∧ plane i) — no per-spike lookups. v is the
  /// fanout itself or its deficit from the largest, whichever has fewer non-empty planes (a
  /// layer with no zero weights needs none).
  std::vector<std::uint64_t> fanout_planes;  ///< planes × words
  std::vector<int> plane_shift;
  std::int64_t fanout_base = 0;
  std::int64_t fanout_sign = 1;

  template <class V, int R>
  void run_tile(const Tile& tile, int count, Workspace& ws, std::size_t s) const;
  template <class V>
  void run_tile(const Tile& tile, int count, Workspace& ws, std::size_t s) const;

  /// Sets the fanout planes from the neurons' out-fanouts (see fanout_planes).
  void set_fanouts(const std::vector<std::int64_t>& out_fanout);
  /// Packs the constant input and θ − 1 clamped to the accumulator range (wide must be set).
  void set_thresholds(const std::vector<std::int64_t>& init, const std::vector<std::int64_t>& thresholds,
                      std::int64_t vectors);
  /// Tiles: as many vectors as keep the slice of all inputs within kTileSliceBytes (at least
  /// one, at most kMaxTileVectors), balanced.
  void set_tiles(std::int64_t vectors, std::int64_t dynamic_rows);
};

template <class V, int R>
void DenseTilePath::Step::run_tile(const Tile& tile, int count, Workspace& ws, std::size_t s) const {
  constexpr bool kWide = std::is_same_v<V, V32>;
  constexpr int kLanes = Lanes<V>::kCount;
  const auto vectors_of = [](const auto& narrow, const auto& wide) -> const V* {
    if constexpr (kWide) return wide.data();
    else return narrow.data();
  };
  const V* init = vectors_of(init16, init32) + tile.first_vector;
  const V* theta = vectors_of(threshold16, threshold32) + tile.first_vector;
  std::uint64_t* bits = ws.bits[s].data();
  for (int b = 0; b < count; ++b) {
    // Two accumulator sets for small tiles, so consecutive spikes do not wait on each other's
    // adds (integer sums: exact in any grouping, see the header).
    constexpr bool kSplit = R <= 4;
    V acc[R], acc2[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      acc[r] = init[r];
      acc2[r] = V{};
    }
    for (const Input& in : inputs) {
      const V* base = vectors_of(in.weights16, in.weights32) + in.rows * tile.first_vector;
      const std::int32_t* f = ws.fired[in.pre_step].data() + static_cast<std::int64_t>(b) * in.pre_capacity;
      const std::uint32_t n = ws.count[in.pre_step][static_cast<std::size_t>(b)];
      std::uint32_t k = 0;
      if constexpr (kSplit) {
        for (; k + 2 <= n; k += 2) {
          const V* row = base + static_cast<std::int64_t>(f[k]) * R;
          const V* row2 = base + static_cast<std::int64_t>(f[k + 1]) * R;
#pragma GCC unroll 16
          for (int r = 0; r < R; ++r) {
            acc[r] += row[r];
            acc2[r] += row2[r];
          }
        }
      }
      for (; k < n; ++k) {
        const V* row = base + static_cast<std::int64_t>(f[k]) * R;
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) acc[r] += row[r];
      }
    }
    std::uint64_t* sample_bits = bits + static_cast<std::int64_t>(b) * words;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      if constexpr (kSplit) acc[r] += acc2[r];
      // Lanes are −1 where acc > θ − 1, i.e. acc ≥ θ. kLanes divides 64: never straddles a word.
      const std::int64_t bit = (tile.first_vector + r) * kLanes;
      sample_bits[bit >> 6] |= lane_mask(acc[r] > theta[r]) << (bit & 63);
    }
  }
}

template <class V>
void DenseTilePath::Step::run_tile(const Tile& tile, int count, Workspace& ws, std::size_t s) const {
  switch (tile.vectors) {
    case 1: return run_tile<V, 1>(tile, count, ws, s);
    case 2: return run_tile<V, 2>(tile, count, ws, s);
    case 3: return run_tile<V, 3>(tile, count, ws, s);
    case 4: return run_tile<V, 4>(tile, count, ws, s);
    case 5: return run_tile<V, 5>(tile, count, ws, s);
    case 6: return run_tile<V, 6>(tile, count, ws, s);
    case 7: return run_tile<V, 7>(tile, count, ws, s);
    case 8: return run_tile<V, 8>(tile, count, ws, s);
    case 9: return run_tile<V, 9>(tile, count, ws, s);
    case 10: return run_tile<V, 10>(tile, count, ws, s);
    case 11: return run_tile<V, 11>(tile, count, ws, s);
    case 12: return run_tile<V, 12>(tile, count, ws, s);
    case 13: return run_tile<V, 13>(tile, count, ws, s);
    default: throw InternalError("DenseTilePath: tile of " + std::to_string(tile.vectors) + " vectors");
  }
}

namespace {

/// Fills `out` (padded to whole vectors) from per-neuron values; padding lanes get `pad`.
template <class V>
void pack(const std::vector<std::int64_t>& values, std::int64_t vectors, std::int64_t pad, std::vector<V>& out) {
  using E = typename Lanes<V>::Element;
  constexpr int kLanes = Lanes<V>::kCount;
  out.assign(static_cast<std::size_t>(vectors), V{});
  for (std::int64_t i = 0; i < vectors * kLanes; ++i) {
    const std::int64_t v = i < static_cast<std::int64_t>(values.size()) ? values[static_cast<std::size_t>(i)] : pad;
    out[static_cast<std::size_t>(i / kLanes)][i % kLanes] = static_cast<E>(v);
  }
}

/// Dense weights (rows × cols, row-major) into the grouped, tile-major layout of Step::Input:
/// grouped row g·kPatterns + pattern holds Σ of the rows of the pattern's neurons.
template <class V, class Tile>
void pack_rows(const std::vector<std::int64_t>& weights, std::int64_t rows, std::int64_t cols,
               const std::vector<Tile>& tiles, std::int64_t vectors, std::vector<V>& out) {
  using E = typename Lanes<V>::Element;
  constexpr int kLanes = Lanes<V>::kCount;
  const std::int64_t grouped = grouped_rows(rows);
  out.assign(static_cast<std::size_t>(grouped * vectors), V{});
  for (const Tile& tile : tiles)
    for (std::int64_t g = 0; g < grouped; ++g) {
      const std::int64_t group = g / kPatterns, pattern = g % kPatterns;
      for (int r = 0; r < tile.vectors; ++r)
        for (int l = 0; l < kLanes; ++l) {
          const std::int64_t i = (tile.first_vector + r) * kLanes + l;
          if (i >= cols) continue;
          std::int64_t sum = 0;
          for (int bit = 0; bit < kGroupBits; ++bit) {
            const std::int64_t j = group * kGroupBits + bit;
            if (((pattern >> bit) & 1) && j < rows) sum += weights[static_cast<std::size_t>(j * cols + i)];
          }
          // |sum| ≤ Σ|w| over the neuron's synapses, which the width test bounded.
          out[static_cast<std::size_t>(grouped * tile.first_vector + g * tile.vectors + r)][l] = static_cast<E>(sum);
        }
    }
}

}  // namespace

namespace {

/// Projections by their post and pre population.
struct ProjectionGraph {
  std::vector<std::vector<std::size_t>> incoming, outgoing;
  ProjectionGraph(std::size_t n_pops, const std::vector<ScatterProjection>& projections)
      : incoming(n_pops), outgoing(n_pops) {
    for (std::size_t k = 0; k < projections.size(); ++k) {
      incoming[static_cast<std::size_t>(projections[k].post())].push_back(k);
      outgoing[static_cast<std::size_t>(projections[k].pre())].push_back(k);
    }
  }
};

/// Sample-independent populations: always-on sources, and populations fed only by those. Their
/// spikes are computed once, exactly as the general path would (integer sums ≥ θ).
struct ConstantPopulations {
  std::vector<bool> constant;
  std::vector<std::vector<std::int32_t>> fired;
  std::int64_t spikes = 0;  ///< their spikes
  std::int64_t events = 0;  ///< their synaptic events
};

/// nullopt (with why_not) when the input is bit-plane coded, which the tiled path does not take.
std::optional<ConstantPopulations> find_constant_populations(const Network& network,
                                                             const std::vector<ScatterProjection>& projections,
                                                             const std::vector<std::vector<std::int64_t>>& thresholds,
                                                             const InputSpikeEncoder& encoder,
                                                             const ProjectionGraph& graph, std::string& why_not) {
  const std::size_t n_pops = network.populations.size();
  std::vector<int> driver_of(n_pops, -1);
  for (std::size_t d = 0; d < encoder.drivers().size(); ++d)
    driver_of[static_cast<std::size_t>(encoder.drivers()[d].population)] = static_cast<int>(d);
  ConstantPopulations c;
  c.constant.assign(n_pops, false);
  c.fired.resize(n_pops);
  for (std::size_t p = 0; p < n_pops; ++p) {
    const Population& pop = network.populations[p];
    const auto n = static_cast<std::int32_t>(pop.size());
    if (pop.is_source()) {
      const SourceDriver& driver = encoder.drivers()[static_cast<std::size_t>(driver_of[p])];
      if (driver.kind == SourceDriver::Kind::Bit) {
        // As eight source steps the planes multiply the first layer's rows by 8; measured on the
        // Whetstone 784-256-64 network that ran at 0.42× the event-driven path, which fuses the
        // planes into one pixel-weighted add (docs/benchmarks.md).
        why_not = "bit-plane input (the event-driven path fuses its 8 planes)";
        return std::nullopt;
      }
      if (driver.kind != SourceDriver::Kind::AlwaysOn) continue;
      c.constant[p] = true;
      for (std::int32_t i = 0; i < n; ++i) c.fired[p].push_back(i);
    } else {
      c.constant[p] = std::all_of(graph.incoming[p].begin(), graph.incoming[p].end(), [&](std::size_t k) {
        return c.constant[static_cast<std::size_t>(projections[k].pre())];
      });
      if (!c.constant[p]) continue;
      std::vector<std::int64_t> acc(static_cast<std::size_t>(n), 0);
      for (std::size_t k : graph.incoming[p])
        for (std::int32_t j : c.fired[static_cast<std::size_t>(projections[k].pre())]) projections[k].deliver(j, acc.data());
      for (std::int32_t i = 0; i < n; ++i)
        if (acc[static_cast<std::size_t>(i)] >= thresholds[p][static_cast<std::size_t>(i)]) c.fired[p].push_back(i);
    }
    c.spikes += static_cast<std::int64_t>(c.fired[p].size());
    for (std::size_t k : graph.outgoing[p])
      for (std::int32_t j : c.fired[p]) c.events += projections[k].fanout(j);
  }
  return c;
}

}  // namespace

void DenseTilePath::Step::set_fanouts(const std::vector<std::int64_t>& out_fanout) {
  const std::int64_t max_fanout = out_fanout.empty() ? 0 : *std::max_element(out_fanout.begin(), out_fanout.end());
  const auto planes_of = [&](std::int64_t base, std::int64_t sign) {
    std::vector<int> shifts;
    for (int k = 0; k < 63; ++k)
      if (std::any_of(out_fanout.begin(), out_fanout.end(), [&](std::int64_t f) { return (((f - base) * sign) >> k) & 1; }))
        shifts.push_back(k);
    return shifts;
  };
  const auto direct = planes_of(0, 1), deficit = planes_of(max_fanout, -1);
  const bool use_deficit = deficit.size() < direct.size();
  fanout_base = use_deficit ? max_fanout : 0;
  fanout_sign = use_deficit ? -1 : 1;
  plane_shift = use_deficit ? deficit : direct;
  fanout_planes.assign(plane_shift.size() * static_cast<std::size_t>(words), 0);
  for (std::size_t i = 0; i < plane_shift.size(); ++i)
    for (std::int32_t j = 0; j < size; ++j)
      if ((((out_fanout[static_cast<std::size_t>(j)] - fanout_base) * fanout_sign) >> plane_shift[i]) & 1)
        fanout_planes[i * static_cast<std::size_t>(words) + static_cast<std::size_t>(j / 64)] |= std::uint64_t{1} << (j % 64);
}

void DenseTilePath::Step::set_thresholds(const std::vector<std::int64_t>& init,
                                         const std::vector<std::int64_t>& thresholds, std::int64_t vectors) {
  // θ − 1, clamped to the element range: acc > θ − 1 ⇔ acc ≥ θ holds for the clamped value
  // too, because |acc| ≤ worst ≤ the element maximum (see the header).
  const std::int64_t lo = wide ? std::numeric_limits<std::int32_t>::min() : std::numeric_limits<std::int16_t>::min();
  const std::int64_t hi = wide ? std::numeric_limits<std::int32_t>::max() : std::numeric_limits<std::int16_t>::max();
  std::vector<std::int64_t> theta(static_cast<std::size_t>(size));
  for (std::int32_t i = 0; i < size; ++i)
    theta[static_cast<std::size_t>(i)] = std::clamp(thresholds[static_cast<std::size_t>(i)] - 1, lo, hi);
  if (wide) {
    pack(init, vectors, 0, init32);
    pack(theta, vectors, hi, threshold32);
  } else {
    pack(init, vectors, 0, init16);
    pack(theta, vectors, hi, threshold16);
  }
}

void DenseTilePath::Step::set_tiles(std::int64_t vectors, std::int64_t dynamic_rows) {
  const std::int64_t per_tile =
      std::clamp<std::int64_t>(kTileSliceBytes / (32 * std::max<std::int64_t>(dynamic_rows, 1)), 1, kMaxTileVectors);
  const std::int64_t n_tiles = (vectors + per_tile - 1) / per_tile;
  for (std::int64_t t = 0, first = 0; t < n_tiles; ++t) {
    const std::int64_t end = (vectors * (t + 1)) / n_tiles;
    tiles.push_back({first, static_cast<int>(end - first)});
    first = end;
  }
}

DenseTilePath::DenseTilePath() = default;
DenseTilePath::~DenseTilePath() = default;

std::unique_ptr<DenseTilePath> DenseTilePath::build(const Network& network,
                                                    const std::vector<ScatterProjection>& projections,
                                                    const std::vector<std::vector<std::int64_t>>& thresholds,
                                                    const InputSpikeEncoder& encoder, std::string& why_not) {
  if (network.weights.is_float) {
    why_not = "float weights (the tiled path needs integer sums)";
    return nullptr;
  }
  const std::size_t n_pops = network.populations.size();
  const ProjectionGraph graph(n_pops, projections);
  const auto constants = find_constant_populations(network, projections, thresholds, encoder, graph, why_not);
  if (!constants) return nullptr;
  const auto& constant = constants->constant;
  if (constant[static_cast<std::size_t>(network.output)]) {
    why_not = "the output population does not depend on the input";
    return nullptr;
  }
  auto path = std::unique_ptr<DenseTilePath>(new DenseTilePath());
  path->constant_spikes_ = constants->spikes;
  path->constant_events_ = constants->events;

  std::vector<std::size_t> step_of(n_pops, 0);
  for (std::size_t p = 0; p < n_pops; ++p) {
    if (constant[p]) continue;
    const Population& pop = network.populations[p];
    Step step;
    step.population = static_cast<int>(p);
    step.size = static_cast<std::int32_t>(pop.size());
    step.words = (step.size + 63) / 64;
    step.capacity = step.words * 64 + kGroupsPerByte;
    std::vector<std::int64_t> out_fanout(static_cast<std::size_t>(step.size), 0);
    for (std::size_t k : graph.outgoing[p])
      for (std::int32_t j = 0; j < step.size; ++j) out_fanout[static_cast<std::size_t>(j)] += projections[k].fanout(j);
    step.set_fanouts(out_fanout);
    if (pop.is_source()) {
      step.source_bit = 7;  // threshold input (bit-plane networks were refused above)
    } else {
      // Constant input and the worst-case |sum| per neuron decide the accumulator width.
      std::vector<std::int64_t> init(static_cast<std::size_t>(step.size), 0);
      for (std::size_t k : graph.incoming[p]) {
        const auto pre = static_cast<std::size_t>(projections[k].pre());
        if (!constant[pre]) continue;
        for (std::int32_t j : constants->fired[pre]) projections[k].deliver(j, init.data());
      }
      std::vector<double> bound(init.size());
      for (std::size_t i = 0; i < init.size(); ++i) bound[i] = std::abs(static_cast<double>(init[i]));
      std::vector<std::size_t> dynamic_inputs;
      std::int64_t dynamic_rows = 0;
      for (std::size_t k : graph.incoming[p]) {
        if (constant[static_cast<std::size_t>(projections[k].pre())]) continue;
        if (projections[k].kind() != ScatterProjection::Kind::Dense) {
          why_not = "projection '" + network.projections[k].name + "' is not dense";
          return nullptr;
        }
        const auto& w = projections[k].integer_weights();
        const std::int64_t rows = projections[k].pre_size();
        for (std::int64_t j = 0; j < rows; ++j)
          for (std::int32_t i = 0; i < step.size; ++i)
            bound[static_cast<std::size_t>(i)] += std::abs(static_cast<double>(w[static_cast<std::size_t>(j * step.size + i)]));
        dynamic_inputs.push_back(k);
        dynamic_rows += grouped_rows(rows);
      }
      const double worst = bound.empty() ? 0.0 : *std::max_element(bound.begin(), bound.end());
      if (worst > static_cast<double>(std::numeric_limits<std::int32_t>::max())) {
        why_not = "population '" + pop.name + "' may sum beyond 32 bits";
        return nullptr;
      }
      step.wide = worst > static_cast<double>(std::numeric_limits<std::int16_t>::max());
      const int lanes = step.wide ? Lanes<V32>::kCount : Lanes<V16>::kCount;
      const std::int64_t vectors = (step.size + lanes - 1) / lanes;
      step.set_thresholds(init, thresholds[p], vectors);
      step.set_tiles(vectors, dynamic_rows);
      for (std::size_t k : dynamic_inputs) {
        Step::Input in;
        in.pre_step = step_of[static_cast<std::size_t>(projections[k].pre())];
        in.pre_capacity = path->steps_[in.pre_step].capacity;
        in.rows = grouped_rows(projections[k].pre_size());
        if (step.wide)
          pack_rows(projections[k].integer_weights(), projections[k].pre_size(), step.size, step.tiles, vectors, in.weights32);
        else
          pack_rows(projections[k].integer_weights(), projections[k].pre_size(), step.size, step.tiles, vectors, in.weights16);
        step.inputs.push_back(std::move(in));
      }
    }
    step_of[p] = path->steps_.size();
    if (static_cast<int>(p) == network.output) path->output_step_ = path->steps_.size();
    path->steps_.push_back(std::move(step));
  }

  path->decoder_ = std::make_unique<Decoder>(
      network.decode, network.populations[static_cast<std::size_t>(network.output)].size(), "network");
  return path;
}

DenseTilePath::Workspace DenseTilePath::make_workspace() const {
  Workspace ws;
  ws.fired.resize(steps_.size());
  ws.count.resize(steps_.size());
  ws.bits.resize(steps_.size());
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    ws.fired[s].assign(static_cast<std::size_t>(kBlock * steps_[s].capacity), 0);
    ws.count[s].assign(kBlock, 0);
    ws.bits[s].assign(static_cast<std::size_t>(kBlock * steps_[s].words), 0);
  }
  return ws;
}

void DenseTilePath::compute(const Step& step, std::size_t s, int count, Workspace& ws) const {
  std::fill(ws.bits[s].begin(), ws.bits[s].begin() + count * step.words, 0);
  for (const Step::Tile& tile : step.tiles) {
    if (step.wide) step.run_tile<V32>(tile, count, ws, s);
    else step.run_tile<V16>(tile, count, ws, s);
  }
}

void DenseTilePath::run_block(const std::uint8_t* images, std::int64_t pixels, int count, Workspace& ws,
                              Result* results, std::int32_t* scores) const {
  if (count < 0 || count > kBlock) throw InternalError("DenseTilePath: block of " + std::to_string(count) + " samples");
  for (int b = 0; b < count; ++b) results[b] = {-1, constant_spikes_, constant_events_};
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    const Step& step = steps_[s];
    if (step.source_bit >= 0) {
      for (int b = 0; b < count; ++b)
        pixel_bits(images + b * pixels, step.size, step.source_bit, ws.bits[s].data() + b * step.words, step.words);
    } else {
      compute(step, s, count, ws);
    }
    for (int b = 0; b < count; ++b) {
      const std::uint64_t* bits = ws.bits[s].data() + b * step.words;
      std::int64_t spikes = 0, events = 0;
      for (std::int64_t w = 0; w < step.words; ++w) spikes += std::popcount(bits[w]);
      for (std::size_t i = 0; i < step.plane_shift.size(); ++i) {
        const std::uint64_t* plane = step.fanout_planes.data() + i * static_cast<std::size_t>(step.words);
        std::int64_t n = 0;
        for (std::int64_t w = 0; w < step.words; ++w) n += std::popcount(bits[w] & plane[w]);
        events += n << step.plane_shift[i];
      }
      events = step.fanout_base * spikes + step.fanout_sign * events;
      results[b].spikes += spikes;
      results[b].synaptic_events += events;
      // Index lists feed the next populations' tiles (the output's spikes are only decoded).
      if (s != output_step_)
        ws.count[s][static_cast<std::size_t>(b)] = expand_groups(bits, step.words, ws.fired[s].data() + b * step.capacity);
    }
  }
  const Step& out = steps_[output_step_];
  for (int b = 0; b < count; ++b) {
    const std::span<const std::uint64_t> words{ws.bits[output_step_].data() + b * out.words,
                                               static_cast<std::size_t>(out.words)};
    results[b].predicted = decoder_->decode_words(words);
    if (scores) decoder_->scores_words(words, scores + b * decoder_->classes());
  }
}

std::string DenseTilePath::accumulators() const {
  bool narrow = false, wide = false;
  for (const Step& step : steps_) {
    if (step.source_bit >= 0) continue;
    (step.wide ? wide : narrow) = true;
  }
  return narrow && wide ? "int16+int32" : wide ? "int32" : "int16";
}

}  // namespace grindstone::snn::functional
