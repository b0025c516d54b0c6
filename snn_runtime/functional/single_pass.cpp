#include "snn_runtime/functional/single_pass.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <type_traits>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "snn_runtime/functional/dense_tiles.hpp"
#include "snn_runtime/functional/scatter.hpp"
#include "snn_runtime/network/decode.hpp"
#include "snn_runtime/network/input_spikes.hpp"
#include "snn_runtime/network/weight_units.hpp"

namespace grindstone::snn {
namespace {

enum class Accumulator { Float, Int32, Int64 };

/// Per-thread scratch, reused across samples so the hot loop never allocates.
struct Workspace {
  std::vector<std::vector<std::int32_t>> fired;  ///< per population: neurons that fired, ascending
  std::vector<std::vector<std::uint8_t>> mask;   ///< per population: 0/1 per neuron (cleared after each sample)
  std::vector<float> acc_f;
  std::vector<std::int32_t> acc_i;
  std::vector<std::int64_t> acc_l;
  functional::ConvGatherScratch conv_scratch;
  bool full_lists = false;  ///< run_sample: spike lists for every population (no count-only sources)
  std::int64_t rechecks = 0;
  std::int32_t* scores = nullptr;  ///< when set, the next sample's decode scores go here
};

}  // namespace

struct SinglePassEngine::Impl {
  Network network;
  Accumulator accumulator = Accumulator::Float;
  std::vector<functional::ScatterProjection> projections;
  std::vector<std::vector<int>> incoming;  ///< per population: indices into `projections`
  /// Per population: the bit-0 projection of a complete set of 8 bit-plane projections with the
  /// same weights and scales 2^k·s0. Delivering pixel·(w·s0) once replaces 8 deliveries (exact
  /// in integers; in float within the same rounding bound). Those 8 are not in `unfused`.
  std::vector<std::vector<int>> fused_bitplanes;
  std::vector<std::vector<int>> unfused;   ///< per population: projections delivered spike by spike
  std::vector<int> driver_of;              ///< per population: index into encoder drivers, or −1
  std::vector<bool> count_only;            ///< per population: spikes counted, no list (fused planes)
  std::vector<std::vector<float>> threshold_f;
  std::vector<std::vector<std::int64_t>> threshold_i;
  /// threshold_i clamped to int32 (int32 sums: |sum| < 2^31 − 1, so acc ≥ θ is unchanged).
  std::vector<std::vector<std::int32_t>> threshold_i32;
  std::vector<std::vector<float>> recheck_band;  ///< float: |sum − θ| ≤ band → redo in double
  /// float: 2·2^-24·Σ|w| per neuron; (terms + 2) times this bounds the rounding of a sum of
  /// `terms` addends in any order (tighter than recheck_band when few inputs spike).
  std::vector<std::vector<float>> recheck_unit;
  std::unique_ptr<InputSpikeEncoder> encoder;
  std::unique_ptr<Decoder> decoder;
  std::int64_t max_size = 0;
  std::unique_ptr<functional::DenseTilePath> dense_tiles;  ///< null: batches use the general path
  std::string why_not_dense_tiles;

  void prepare(const std::string& context);
  void fuse_bitplanes(const std::vector<std::int64_t>& multipliers);
  Workspace make_workspace() const;
  template <class T>
  SinglePassSample run(const std::uint8_t* image, Workspace& ws, T* acc) const;
  SinglePassSample run(const std::uint8_t* image, Workspace& ws) const {
    switch (accumulator) {
      case Accumulator::Float: return run(image, ws, ws.acc_f.data());
      case Accumulator::Int32: return run(image, ws, ws.acc_i.data());
      case Accumulator::Int64: return run(image, ws, ws.acc_l.data());
    }
    return {};
  }
};

void SinglePassEngine::Impl::prepare(const std::string& context) {
  validate(network, context);
  const auto n_pops = network.populations.size();
  // Preconditions of single-pass execution (see the header for why they suffice).
  for (const Population& pop : network.populations) {
    if (pop.is_source()) continue;
    require_input(pop.model == NeuronModel::InstantDecay, context + ": population '" + pop.name + "'",
                  "model: integrate-and-fire (rate) network; use --engine rate");
    require_input(pop.bias_current.empty(), context + ": population '" + pop.name + "'",
                  "bias_current: instant-decay neurons take biases through bias neurons or thresholds");
  }
  for (const Projection& pr : network.projections)
    require_input(min_delay(network, pr) >= 1, context + ": projection '" + pr.name + "'",
                  "delay: some spikes would land before or at their source's fire tick (min delay " +
                      std::to_string(min_delay(network, pr)) + ")");

  // Number format. Fixed point: exact integer sums in the network's integer weight units (×255
  // in populations fed by bit planes; network/weight_units.hpp).
  const bool fixed = !network.weights.is_float;
  const std::optional<WeightUnits> units =
      fixed ? std::optional<WeightUnits>(integer_weight_units(network, context)) : std::nullopt;
  for (int k = 0; k < static_cast<int>(network.projections.size()); ++k)
    projections.emplace_back(network, k, units ? &*units : nullptr);
  incoming.assign(n_pops, {});
  for (int k = 0; k < static_cast<int>(projections.size()); ++k)
    incoming[static_cast<std::size_t>(projections[static_cast<std::size_t>(k)].post())].push_back(k);

  fuse_bitplanes(units ? units->projection_multiplier : std::vector<std::int64_t>(network.projections.size(), 0));
  encoder = std::make_unique<InputSpikeEncoder>(network, network.input_shape.size(), context);
  driver_of.assign(n_pops, -1);
  for (int d = 0; d < static_cast<int>(encoder->drivers().size()); ++d)
    driver_of[static_cast<std::size_t>(encoder->drivers()[static_cast<std::size_t>(d)].population)] = d;
  decoder = std::make_unique<Decoder>(network.decode, network.populations[static_cast<std::size_t>(network.output)].size(),
                                      context);

  threshold_f.assign(n_pops, {});
  threshold_i.assign(n_pops, {});
  threshold_i32.assign(n_pops, {});
  recheck_band.assign(n_pops, {});
  recheck_unit.assign(n_pops, {});
  double worst_integer_sum = 0.0;
  for (std::size_t p = 0; p < n_pops; ++p) {
    const Population& pop = network.populations[p];
    max_size = std::max(max_size, pop.size());
    if (pop.is_source()) continue;
    const auto n = static_cast<std::size_t>(pop.size());
    std::vector<std::int64_t> fan_in(n, 0);
    std::vector<double> abs_sum(n, 0.0);
    for (int k : incoming[p]) projections[static_cast<std::size_t>(k)].add_fan_in(fan_in, abs_sum);
    threshold_f[p] = pop.threshold;
    if (units) {
      threshold_i[p].resize(n);
      const double per_weight = units->units_per_weight(static_cast<int>(p));
      threshold_i32[p].resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        threshold_i[p][i] = units->threshold(static_cast<int>(p), pop.threshold[i]);
        threshold_i32[p][i] = static_cast<std::int32_t>(std::clamp<std::int64_t>(
            threshold_i[p][i], std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
        worst_integer_sum = std::max(worst_integer_sum, abs_sum[i] * per_weight);
      }
    } else {
      // A float sum of m terms is within (m+1)·2^-24·Σ|terms| of the exact sum (plus the rounding
      // of w·scale); twice that keeps a safe margin.
      recheck_band[p].resize(n);
      recheck_unit[p].resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        recheck_band[p][i] =
            static_cast<float>(2.0 * static_cast<double>(fan_in[i] + 2) * std::ldexp(abs_sum[i], -24) + 1e-30);
        recheck_unit[p][i] = static_cast<float>(2.0 * std::ldexp(abs_sum[i], -24) + 1e-30);
      }
    }
  }
  if (!fixed) accumulator = Accumulator::Float;
  else if (worst_integer_sum < 2147483647.0) accumulator = Accumulator::Int32;
  else accumulator = Accumulator::Int64;

  // Bit-plane sources whose every projection is fused need no spike lists in integer networks
  // (float networks keep them for the exact re-checks, which visit every incoming projection).
  count_only.assign(n_pops, false);
  if (accumulator == Accumulator::Float) return;
  std::vector<bool> read_unfused(n_pops, false);
  for (std::size_t p = 0; p < n_pops; ++p)
    for (int k : unfused[p]) read_unfused[static_cast<std::size_t>(projections[static_cast<std::size_t>(k)].pre())] = true;
  for (const SourceDriver& d : encoder->drivers()) {
    const auto p = static_cast<std::size_t>(d.population);
    count_only[p] = d.kind == SourceDriver::Kind::Bit && !read_unfused[p] && d.population != network.output;
  }
}

void SinglePassEngine::Impl::fuse_bitplanes(const std::vector<std::int64_t>& multipliers) {
  const auto n_pops = network.populations.size();
  fused_bitplanes.assign(n_pops, {});
  unfused = incoming;
  for (std::size_t p = 0; p < n_pops; ++p) {
    const auto group = plane_group(network, static_cast<int>(p));
    if (!group) continue;  // not eight planes of one kernel: delivered plane by plane (same sums)
    const auto& by_bit = group->projection;
    bool fusable = true;
    for (int bit = 0; bit < 8; ++bit)  // integer units of plane k: 2^k times plane 0's
      fusable = fusable && multipliers[static_cast<std::size_t>(by_bit[static_cast<std::size_t>(bit)])] ==
                               (multipliers[static_cast<std::size_t>(by_bit[0])] << bit);
    if (!fusable) continue;
    fused_bitplanes[p].push_back(by_bit[0]);
    std::erase_if(unfused[p], [&](int k) { return std::find(by_bit.begin(), by_bit.end(), k) != by_bit.end(); });
  }
}

Workspace SinglePassEngine::Impl::make_workspace() const {
  Workspace ws;
  ws.fired.resize(network.populations.size());
  ws.mask.resize(network.populations.size());
  for (std::size_t p = 0; p < network.populations.size(); ++p) {
    ws.fired[p].reserve(static_cast<std::size_t>(network.populations[p].size()));
    ws.mask[p].assign(static_cast<std::size_t>(network.populations[p].size()), 0);
  }
  const auto n = static_cast<std::size_t>(max_size);
  if (accumulator == Accumulator::Float) ws.acc_f.assign(n, 0.0f);
  if (accumulator == Accumulator::Int32) ws.acc_i.assign(n, 0);
  if (accumulator == Accumulator::Int64) ws.acc_l.assign(n, 0);
  return ws;
}

template <class T>
SinglePassSample SinglePassEngine::Impl::run(const std::uint8_t* image, Workspace& ws, T* acc) const {
  SinglePassSample result;
  const auto n_pops = network.populations.size();
  for (std::size_t p = 0; p < n_pops; ++p) {
    const Population& pop = network.populations[p];
    auto& fired = ws.fired[p];
    const auto n = static_cast<std::int32_t>(pop.size());
    if (driver_of[p] >= 0) {
      const SourceDriver& driver = encoder->drivers()[static_cast<std::size_t>(driver_of[p])];
      // Branch-free encoding: write every index, advance only past those that fire (the
      // capacity reserved in make_workspace means resize never allocates).
      if (count_only[p] && !ws.full_lists) {  // a bit plane read only through fused deliveries: its spikes are counted
        std::int64_t count = 0;
        for (std::int32_t i = 0; i < n; ++i) count += (image[i] >> driver.bit) & 1;
        result.spikes += count;
        fired.clear();
        continue;
      }
      fired.resize(static_cast<std::size_t>(n));
      std::int32_t* out = fired.data();
      std::size_t count = 0;
      if (driver.kind == SourceDriver::Kind::AlwaysOn) {
        for (std::int32_t i = 0; i < n; ++i) out[count++] = i;
      } else {
        // threshold_fires(p) is bit 7 of p (p ≥ 128).
        static_assert(threshold_fires(128) && threshold_fires(255) && !threshold_fires(127));
        count = pixels_with_bit(image, n, driver.kind == SourceDriver::Kind::Threshold ? 7 : driver.bit, out);
      }
      fired.resize(count);
    } else {
      fired.clear();
      std::fill(acc, acc + n, T{0});
      std::int64_t terms = 0;  // addends per neuron, at most (a pre neuron reaches a post neuron once)
      for (int k : fused_bitplanes[p]) {
        const auto& proj = projections[static_cast<std::size_t>(k)];
        if constexpr (std::is_same_v<T, std::int32_t>)
          result.synaptic_events += proj.deliver_pixels(image, acc, ws.conv_scratch.row_offset);
        else
          result.synaptic_events += proj.deliver_pixels(image, acc);
        const std::int64_t pixels = network.populations[static_cast<std::size_t>(proj.pre())].size();
        for (std::int64_t j = 0; j < pixels; ++j) terms += image[j] != 0;
      }
      for (int k : unfused[p]) {
        const auto& proj = projections[static_cast<std::size_t>(k)];
        const auto& pre_fired = ws.fired[static_cast<std::size_t>(proj.pre())];
        const auto count = static_cast<std::int64_t>(pre_fired.size());
        terms += count;
        proj.deliver_all(pre_fired.data(), count, ws.mask[static_cast<std::size_t>(proj.pre())].data(), acc, ws.conv_scratch);
        result.synaptic_events += proj.fanout_sum(pre_fired.data(), count);
      }
      if constexpr (std::is_same_v<T, float>) {
        const float* theta = threshold_f[p].data();
        const float* band = recheck_band[p].data();
        const float* unit = recheck_unit[p].data();
        const auto factor = static_cast<float>(terms + 2);
        // Branch-free pass (vectorises): the float decision per neuron into mask[p] (all 0 until
        // now; no projection reads its own post population, delays ≥ 1) and whether any sum is
        // near its threshold; those few are then redone in double.
        std::uint8_t* decision = ws.mask[p].data();
        bool any_near = false;
        for (std::int32_t i = 0; i < n; ++i) {
          decision[i] = acc[i] >= theta[i] ? 1 : 0;
          any_near |= std::abs(acc[i] - theta[i]) <= std::min(band[i], factor * unit[i]);
        }
        for (std::int32_t i = 0; any_near && i < n; ++i) {
          if (!(std::abs(acc[i] - theta[i]) <= std::min(band[i], factor * unit[i]))) continue;
          double exact = 0.0;
          for (int k : incoming[p]) {
            const auto& proj = projections[static_cast<std::size_t>(k)];
            const auto pre = static_cast<std::size_t>(proj.pre());
            exact += proj.exact_input(i, ws.mask[pre].data(), ws.fired[pre].data(),
                                      static_cast<std::int64_t>(ws.fired[pre].size()));
          }
          decision[i] = exact >= static_cast<double>(theta[i]) ? 1 : 0;
          ++ws.rechecks;
        }
        fired.resize(static_cast<std::size_t>(n));
        const std::size_t count = pixels_with_bit(decision, n, 0, fired.data());
        fired.resize(count);
      } else {
        // Vectorised decisions into mask[p] (all 0 until now), then the index list from them: a
        // branch per neuron would mispredict often, as about half of a layer fires.
        std::uint8_t* decision = ws.mask[p].data();
        if constexpr (std::is_same_v<T, std::int32_t>) {
          const std::int32_t* theta = threshold_i32[p].data();
          for (std::int32_t i = 0; i < n; ++i) decision[i] = acc[i] >= theta[i] ? 1 : 0;
        } else {
          const std::int64_t* theta = threshold_i[p].data();
          for (std::int32_t i = 0; i < n; ++i) decision[i] = static_cast<std::int64_t>(acc[i]) >= theta[i] ? 1 : 0;
        }
        fired.resize(static_cast<std::size_t>(n));
        const std::size_t count = pixels_with_bit(decision, n, 0, fired.data());
        fired.resize(count);
      }
    }
    result.spikes += static_cast<std::int64_t>(fired.size());
    auto& mask = ws.mask[p];
    for (std::int32_t i : fired) mask[static_cast<std::size_t>(i)] = 1;
  }
  result.predicted = decoder->decode_bits(ws.mask[static_cast<std::size_t>(network.output)]);
  if (ws.scores) decoder->scores(ws.mask[static_cast<std::size_t>(network.output)], ws.scores);
  for (std::size_t p = 0; p < n_pops; ++p)
    for (std::int32_t i : ws.fired[p]) ws.mask[p][static_cast<std::size_t>(i)] = 0;
  return result;
}

SinglePassEngine::SinglePassEngine(Network network, const std::string& context, Path path)
    : impl_(std::make_unique<Impl>()) {
  impl_->network = std::move(network);
  impl_->prepare(context);
  if (path == Path::Auto)
    impl_->dense_tiles = functional::DenseTilePath::build(impl_->network, impl_->projections, impl_->threshold_i,
                                                          *impl_->encoder, impl_->why_not_dense_tiles);
  else
    impl_->why_not_dense_tiles = "event-driven path requested";
}
SinglePassEngine::~SinglePassEngine() = default;
SinglePassEngine::SinglePassEngine(SinglePassEngine&&) noexcept = default;
SinglePassEngine& SinglePassEngine::operator=(SinglePassEngine&&) noexcept = default;

const Network& SinglePassEngine::network() const { return impl_->network; }
std::int64_t SinglePassEngine::pixels_per_image() const { return impl_->network.input_shape.size(); }
std::string SinglePassEngine::path() const { return impl_->dense_tiles ? "dense-tiles" : "event-driven"; }
const std::string& SinglePassEngine::why_not_dense_tiles() const { return impl_->why_not_dense_tiles; }
std::string SinglePassEngine::accumulator() const {
  if (impl_->dense_tiles) return impl_->dense_tiles->accumulators();
  switch (impl_->accumulator) {
    case Accumulator::Float: return "float";
    case Accumulator::Int32: return "int32";
    case Accumulator::Int64: return "int64";
  }
  return "?";
}

SinglePassSample SinglePassEngine::run_sample(const std::uint8_t* image,
                                              std::vector<std::vector<std::uint8_t>>* fired) const {
  Workspace ws = impl_->make_workspace();
  ws.full_lists = fired != nullptr;
  const SinglePassSample result = impl_->run(image, ws);
  if (fired) {
    fired->assign(impl_->network.populations.size(), {});
    for (std::size_t p = 0; p < fired->size(); ++p) {
      (*fired)[p].assign(static_cast<std::size_t>(impl_->network.populations[p].size()), 0);
      for (std::int32_t i : ws.fired[p]) (*fired)[p][static_cast<std::size_t>(i)] = 1;
    }
  }
  return result;
}

SinglePassRun SinglePassEngine::run(const std::uint8_t* images, const std::uint8_t* labels, std::int64_t count,
                                    bool keep_predictions, bool keep_scores) const {
  const auto start = std::chrono::steady_clock::now();
  SinglePassRun out;
  out.samples = count;
  if (keep_predictions) out.predictions.assign(static_cast<std::size_t>(count), -1);
  out.classes = impl_->decoder->classes();
  if (keep_scores) out.scores.assign(static_cast<std::size_t>(count * out.classes), 0);
  const auto scores_of = [&](std::int64_t s) { return keep_scores ? out.scores.data() + s * out.classes : nullptr; };
  const std::int64_t pixels = pixels_per_image();
  const std::int64_t chunks = (count + kChunkSamples - 1) / kChunkSamples;
  struct ChunkTotals {
    std::int64_t correct = 0, spikes = 0, events = 0;
  };
  std::vector<ChunkTotals> totals(static_cast<std::size_t>(chunks));
  tbb::enumerable_thread_specific<Workspace> workspaces([this] { return impl_->make_workspace(); });
  const functional::DenseTilePath* tiles = impl_->dense_tiles.get();
  tbb::enumerable_thread_specific<functional::DenseTilePath::Workspace> tile_workspaces(
      [tiles] { return tiles ? tiles->make_workspace() : functional::DenseTilePath::Workspace{}; });
  parallel_for_collected(std::int64_t{0}, chunks, [&](std::int64_t c) {
    ChunkTotals& t = totals[static_cast<std::size_t>(c)];
    const std::int64_t end = std::min(count, (c + 1) * kChunkSamples);
    const auto record = [&](std::int64_t s, int predicted) {
      if (labels && predicted == labels[s]) ++t.correct;
      if (keep_predictions) out.predictions[static_cast<std::size_t>(s)] = predicted;
    };
    if (tiles) {
      functional::DenseTilePath::Workspace& ws = tile_workspaces.local();
      functional::DenseTilePath::Result block[functional::DenseTilePath::kBlock];
      for (std::int64_t s = c * kChunkSamples; s < end; s += functional::DenseTilePath::kBlock) {
        const auto n = static_cast<int>(std::min<std::int64_t>(functional::DenseTilePath::kBlock, end - s));
        tiles->run_block(images + s * pixels, pixels, n, ws, block, scores_of(s));
        for (int b = 0; b < n; ++b) {
          t.spikes += block[b].spikes;
          t.events += block[b].synaptic_events;
          record(s + b, block[b].predicted);
        }
      }
      return;
    }
    Workspace& ws = workspaces.local();
    for (std::int64_t s = c * kChunkSamples; s < end; ++s) {
      ws.scores = scores_of(s);
      const SinglePassSample r = impl_->run(images + s * pixels, ws);
      t.spikes += r.spikes;
      t.events += r.synaptic_events;
      record(s, r.predicted);
    }
  });
  for (const ChunkTotals& t : totals) {  // chunk order: identical totals for any thread count
    out.correct += t.correct;
    out.spikes += t.spikes;
    out.synaptic_events += t.events;
  }
  for (const Workspace& ws : workspaces) out.exact_rechecks += ws.rechecks;
  out.accuracy = count > 0 && labels ? static_cast<double>(out.correct) / static_cast<double>(count) : 0.0;
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.samples_per_second = out.wall_seconds > 0 ? static_cast<double>(count) / out.wall_seconds : 0.0;
  return out;
}

SinglePassRun SinglePassEngine::run(const datasets::Dataset& data, bool keep_predictions, bool keep_scores) const {
  require_input(data.pixels_per_image() == pixels_per_image(), data.name,
                "images: shape " + data.sample_shape().to_string() + " but the network takes " +
                    impl_->network.input_shape.to_string());
  return run(data.pixels.data(), data.labels.data(), data.size(), keep_predictions, keep_scores);
}

}  // namespace grindstone::snn
