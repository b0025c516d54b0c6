#include "snn_runtime/functional/rate.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <chrono>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "common/random.hpp"
#include "snn_runtime/functional/scatter.hpp"
#include "snn_runtime/network/connector_geometry.hpp"
#include "snn_runtime/network/decode.hpp"

namespace grindstone::snn {
namespace {

struct RateWorkspace {
  std::vector<std::vector<float>> v;         ///< membrane potential per population
  std::vector<std::vector<float>> constant;  ///< constant input current per population (current mode)
  std::vector<std::vector<std::int32_t>> fired;
  std::vector<float> acc;
  std::vector<std::int32_t> counts;          ///< cumulative output spike counts
  std::vector<std::vector<std::int32_t>> pre_counts;  ///< per max-pool projection: cumulative pre counts
  std::vector<std::uint8_t> fired_now;       ///< scratch: pre spikes of this timestep as a bitmap
};

/// Per-thread totals; integer sums, so their order (and the thread count) cannot change them.
struct RateTotals {
  std::vector<std::int64_t> correct, correct_by_count, correct_by_input, spikes, events;
  explicit RateTotals(int timesteps)
      : correct(static_cast<std::size_t>(timesteps), 0),
        correct_by_count(static_cast<std::size_t>(timesteps), 0),
        correct_by_input(static_cast<std::size_t>(timesteps), 0),
        spikes(static_cast<std::size_t>(timesteps), 0),
        events(static_cast<std::size_t>(timesteps), 0) {}
};

}  // namespace

struct RateEngine::Impl {
  Network network;
  std::vector<functional::ScatterProjection> projections;
  std::vector<std::vector<int>> incoming;
  std::vector<bool> is_input, is_bias_source;
  std::vector<bool> from_input;  ///< per projection: pre is an Input population
  std::unique_ptr<Decoder> decoder;
  std::int64_t max_size = 0;
  /// Per population: index into `max_pools` when it is the post of a spiking max-pool, else −1.
  std::vector<int> max_pool_of;
  struct MaxPool {
    int projection = -1;
    WindowGeometry geometry;
  };
  std::vector<MaxPool> max_pools;

  /// One timestep of a spiking max-pool (see RateEngineConfig); returns the spikes forwarded.
  void max_pool_step(const MaxPool& mp, std::size_t m, RateWorkspace& ws, std::vector<std::int32_t>& fired) const {
    const auto pre = static_cast<std::size_t>(projections[static_cast<std::size_t>(mp.projection)].pre());
    auto& counts = ws.pre_counts[m];
    std::fill(ws.fired_now.begin(), ws.fired_now.begin() + static_cast<std::ptrdiff_t>(counts.size()), 0);
    for (std::int32_t j : ws.fired[pre]) {
      ++counts[static_cast<std::size_t>(j)];
      ws.fired_now[static_cast<std::size_t>(j)] = 1;
    }
    const WindowGeometry g = mp.geometry;  // a local copy: fired.push_back cannot alias it
    const std::int64_t channels = g.out_channels;
    for (std::int64_t y = 0; y < g.y.out; ++y)
      for (std::int64_t x = 0; x < g.x.out; ++x)
        for (std::int64_t c = 0; c < channels; ++c) {
          std::int64_t best = -1;
          std::int32_t best_count = -1;
          g.for_each_input(y, x, [&](int, std::int64_t yy, std::int64_t xx) {
            const std::int64_t k = (yy * g.x.in + xx) * channels + c;
            if (counts[static_cast<std::size_t>(k)] > best_count) {
              best_count = counts[static_cast<std::size_t>(k)];
              best = k;
            }
          });
          if (best >= 0 && ws.fired_now[static_cast<std::size_t>(best)])
            fired.push_back(static_cast<std::int32_t>((y * g.x.out + x) * channels + c));
        }
  }

  RateWorkspace make_workspace() const {
    RateWorkspace ws;
    const auto n = network.populations.size();
    ws.v.resize(n);
    ws.constant.resize(n);
    ws.fired.resize(n);
    for (std::size_t p = 0; p < n; ++p) {
      const auto size = static_cast<std::size_t>(network.populations[p].size());
      ws.v[p].assign(size, 0.0f);
      ws.constant[p].assign(size, 0.0f);
      ws.fired[p].reserve(size);
    }
    ws.acc.assign(static_cast<std::size_t>(max_size), 0.0f);
    ws.counts.assign(static_cast<std::size_t>(network.populations[static_cast<std::size_t>(network.output)].size()), 0);
    ws.pre_counts.resize(max_pools.size());
    for (std::size_t m = 0; m < max_pools.size(); ++m)
      ws.pre_counts[m].assign(
          static_cast<std::size_t>(max_pools[m].geometry.pre_pixels() * max_pools[m].geometry.in_channels), 0);
    ws.fired_now.assign(static_cast<std::size_t>(max_size), 0);
    return ws;
  }

  int classify(const RateWorkspace& ws, RateReadout readout) const {
    if (readout == RateReadout::SpikeCount) return decoder->decode(ws.counts, ws.v[static_cast<std::size_t>(network.output)]);
    // count·θ + v is exactly the input accumulated so far (reset by subtraction removes θ per
    // spike); the first maximum wins, as for the ANN's arg-max.
    const auto out = static_cast<std::size_t>(network.output);
    const auto& theta = network.populations[out].threshold;
    int best = 0;
    double best_score = 0.0;
    for (std::size_t i = 0; i < ws.counts.size(); ++i) {
      const double score = static_cast<double>(ws.counts[i]) * theta[i] + ws.v[out][i];
      if (i == 0 || score > best_score) {
        best = static_cast<int>(i);
        best_score = score;
      }
    }
    return best;
  }

  /// Runs one sample; `on_step(t, by_spike_count, by_accumulated_input, spikes_so_far,
  /// events_so_far)` after each timestep.
  template <class OnStep>
  void simulate(const std::uint8_t* image, const float* values, std::int64_t sample_index, const RateOptions& options,
                RateWorkspace& ws, OnStep&& on_step) const {
    const int frames = options.input_frames;
    const std::int64_t frame_size = network.input_shape.size();
    // Frame t's value for input neuron j: the floats when given, else the raw integer.
    const auto frame_value = [&](int t, std::int64_t j) {
      const std::int64_t i = static_cast<std::int64_t>(t) * frame_size + j;
      return values ? values[i] : static_cast<float>(image[i]);
    };
    const auto n_pops = network.populations.size();
    for (std::size_t p = 0; p < n_pops; ++p) {
      std::fill(ws.v[p].begin(), ws.v[p].end(), 0.0f);
      std::fill(ws.constant[p].begin(), ws.constant[p].end(), 0.0f);
      ws.fired[p].clear();
    }
    std::fill(ws.counts.begin(), ws.counts.end(), 0);
    for (auto& c : ws.pre_counts) std::fill(c.begin(), c.end(), 0);
    if (!options.poisson && frames == 0)
      for (std::size_t k = 0; k < projections.size(); ++k) {
        if (!from_input[k]) continue;
        const auto& proj = projections[k];
        const std::int64_t n = network.populations[static_cast<std::size_t>(proj.pre())].size();
        float* constant = ws.constant[static_cast<std::size_t>(proj.post())].data();
        for (std::int64_t j = 0; j < n; ++j)
          if (image[j] != 0) proj.deliver_scaled(j, static_cast<float>(image[j]) / 255.0f, constant);
      }
    const double probability_per_unit = options.input_rate_hz * options.timestep_ms / 1000.0 / 255.0;
    std::int64_t spikes = 0, events = 0;
    const auto out = static_cast<std::size_t>(network.output);
    for (int t = 0; t < options.timesteps; ++t) {
      for (std::size_t p = 0; p < n_pops; ++p) {
        const Population& pop = network.populations[p];
        auto& fired = ws.fired[p];
        fired.clear();
        const auto n = static_cast<std::int32_t>(pop.size());
        if (is_bias_source[p]) {
          for (std::int32_t i = 0; i < n; ++i) fired.push_back(i);
        } else if (is_input[p]) {
          if (frames > 0) {
            if (t < frames)
              for (std::int32_t j = 0; j < n; ++j)
                if (frame_value(t, j) != 0.0f) fired.push_back(j);
          } else if (options.poisson) {
            const std::uint64_t base = static_cast<std::uint64_t>(t) * static_cast<std::uint64_t>(n);
            for (std::int32_t j = 0; j < n; ++j) {
              if (image[j] == 0) continue;
              const double prob = std::min(1.0, probability_per_unit * image[j]);
              if (random_uniform(options.seed, static_cast<std::uint64_t>(sample_index), base + static_cast<std::uint64_t>(j)) <
                  prob)
                fired.push_back(j);
            }
          }
        } else if (max_pool_of[p] >= 0) {
          const auto m = static_cast<std::size_t>(max_pool_of[p]);
          max_pool_step(max_pools[m], m, ws, fired);
          events += static_cast<std::int64_t>(fired.size());  // one forwarded spike per output spike
        } else {
          float* acc = ws.acc.data();
          std::copy(ws.constant[p].begin(), ws.constant[p].end(), acc);
          if (!pop.bias_current.empty())
            for (std::int32_t i = 0; i < n; ++i) acc[i] += pop.bias_current[static_cast<std::size_t>(i)];
          for (int k : incoming[p]) {
            const bool input_projection = from_input[static_cast<std::size_t>(k)];
            if (input_projection && !options.poisson && frames == 0) continue;  // in `constant`
            const auto& proj = projections[static_cast<std::size_t>(k)];
            if (input_projection && frames > 0) {
              for (std::int32_t j : ws.fired[static_cast<std::size_t>(proj.pre())]) {
                proj.deliver_scaled(j, frame_value(t, j), acc);
                events += proj.fanout(j);
              }
              continue;
            }
            for (std::int32_t j : ws.fired[static_cast<std::size_t>(proj.pre())]) {
              proj.deliver(j, acc);
              events += proj.fanout(j);
            }
          }
          float* v = ws.v[p].data();
          const float* theta = pop.threshold.data();
          if (pop.v_reset.empty()) {
            for (std::int32_t i = 0; i < n; ++i) {
              v[i] += acc[i];
              if (v[i] >= theta[i]) {  // reset by subtraction: the residue carries over
                v[i] -= theta[i];
                fired.push_back(i);
              }
            }
          } else {
            const float* reset = pop.v_reset.data();
            for (std::int32_t i = 0; i < n; ++i) {
              v[i] += acc[i];
              if (v[i] >= theta[i]) {  // reset to a value (NIR's IF)
                v[i] = reset[i];
                fired.push_back(i);
              }
            }
          }
        }
        spikes += static_cast<std::int64_t>(fired.size());
      }
      for (std::int32_t i : ws.fired[out]) ++ws.counts[static_cast<std::size_t>(i)];
      on_step(t, classify(ws, RateReadout::SpikeCount), classify(ws, RateReadout::AccumulatedInput), spikes, events);
    }
  }
};

RateEngine::RateEngine(Network network, const std::string& context, RateEngineConfig config)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.network = std::move(network);
  const Network& net = m.network;
  validate(net, context);
  const auto n_pops = net.populations.size();
  m.is_input.assign(n_pops, false);
  m.is_bias_source.assign(n_pops, false);
  for (const Population& pop : net.populations)  // say "wrong engine" before any detail
    require_input(pop.is_source() || pop.model == NeuronModel::IntegrateAndFire, context + ": population '" + pop.name + "'",
                  "model: instant-decay (single-pass) network; use --engine single-pass");
  for (std::size_t p = 0; p < n_pops; ++p) {
    const Population& pop = net.populations[p];
    const std::string where = context + ": population '" + pop.name + "'";
    m.max_size = std::max(m.max_size, pop.size());
    if (pop.is_source()) {
      if (pop.role == PopulationRole::Input) {
        require_input(net.input == InputEncoding::Real && pop.input_bit < 0, where,
                      "input: the rate engine needs a real-valued input (convert with the rate conversion)");
        require_input(pop.size() == net.input_shape.size(), where, "shape: " + pop.shape.to_string() + " but input_shape " +
                                                                       net.input_shape.to_string());
        m.is_input[p] = true;
      } else {
        m.is_bias_source[p] = true;
      }
      continue;
    }
    require_input(pop.model == NeuronModel::IntegrateAndFire, where,
                  "model: instant-decay (single-pass) network; use --engine single-pass");
    for (float theta : pop.threshold)
      require_input(theta > 0.0f, where, "threshold: " + std::to_string(theta) + " ≤ 0 (an IF neuron would fire forever)");
  }
  // Rate networks run with float sums whatever their stored format.
  for (int k = 0; k < static_cast<int>(net.projections.size()); ++k) m.projections.emplace_back(net, k, nullptr);
  m.incoming.assign(n_pops, {});
  m.from_input.assign(m.projections.size(), false);
  for (int k = 0; k < static_cast<int>(m.projections.size()); ++k) {
    const auto& proj = m.projections[static_cast<std::size_t>(k)];
    m.incoming[static_cast<std::size_t>(proj.post())].push_back(k);
    m.from_input[static_cast<std::size_t>(k)] = m.is_input[static_cast<std::size_t>(proj.pre())];
  }
  m.max_pool_of.assign(n_pops, -1);
  for (int k : config.max_pool_projections) {
    const std::string where = context + ": max-pool projection " + std::to_string(k);
    require_input(k >= 0 && k < static_cast<int>(net.projections.size()), where, "index: no such projection");
    const Projection& pr = net.projections[static_cast<std::size_t>(k)];
    const auto* pool = std::get_if<PoolConnector>(&pr.connector);
    require_input(pool != nullptr, where + " '" + pr.name + "'", "connector: a spiking max-pool needs a pool connector");
    const auto post = static_cast<std::size_t>(pr.post);
    require_input(m.incoming[post].size() == 1 && m.max_pool_of[post] < 0, where + " '" + pr.name + "'",
                  "post: a spiking max-pool population must have exactly one incoming projection");
    const Shape& in = net.populations[static_cast<std::size_t>(pr.pre)].shape;
    const Shape& out = net.populations[post].shape;
    require_input(in.rank() == 3 && out.rank() == 3 && in[2] == out[2], where + " '" + pr.name + "'",
                  "shape: pre " + in.to_string() + " and post " + out.to_string() + " are not images with equal channels");
    m.max_pool_of[post] = static_cast<int>(m.max_pools.size());
    m.max_pools.push_back({k, window_geometry(net.populations[static_cast<std::size_t>(pr.pre)], net.populations[post], *pool)});
  }
  Decode decode = net.decode;
  decode.tie_break_by_potential = true;  // rate outputs tie often early on; the potential says who is closest
  m.decoder = std::make_unique<Decoder>(decode, net.populations[static_cast<std::size_t>(net.output)].size(), context);
}
RateEngine::~RateEngine() = default;
RateEngine::RateEngine(RateEngine&&) noexcept = default;
RateEngine& RateEngine::operator=(RateEngine&&) noexcept = default;

const Network& RateEngine::network() const { return impl_->network; }
std::int64_t RateEngine::pixels_per_image() const { return impl_->network.input_shape.size(); }

RateRun RateEngine::run(const std::uint8_t* images, const std::uint8_t* labels, std::int64_t count,
                        const RateOptions& options, std::int64_t first_index) const {
  return run_samples(images, nullptr, labels, count, options, first_index);
}

RateRun RateEngine::run_samples(const std::uint8_t* images, const float* values, const std::uint8_t* labels,
                                std::int64_t count, const RateOptions& options, std::int64_t first_index) const {
  require_input(options.input_frames >= 0, "", "input frames: negative");
  require_input(options.timesteps >= 1, "", "--timesteps: must be ≥ 1");
  const auto start = std::chrono::steady_clock::now();
  const int T = options.timesteps;
  RateRun out;
  out.samples = count;
  out.timesteps = T;
  out.predictions.assign(static_cast<std::size_t>(count), -1);
  out.output_size = impl_->network.populations[static_cast<std::size_t>(impl_->network.output)].size();
  if (options.keep_output_counts) out.output_counts.assign(static_cast<std::size_t>(count * out.output_size), 0);
  const std::int64_t pixels = pixels_per_image() * std::max(1, options.input_frames);
  const std::int64_t chunks = (count + kChunkSamples - 1) / kChunkSamples;
  tbb::enumerable_thread_specific<RateWorkspace> workspaces([this] { return impl_->make_workspace(); });
  tbb::enumerable_thread_specific<RateTotals> totals([T] { return RateTotals(T); });
  parallel_for_collected(std::int64_t{0}, chunks, [&](std::int64_t c) {
    RateWorkspace& ws = workspaces.local();
    RateTotals& tot = totals.local();
    const std::int64_t end = std::min(count, (c + 1) * kChunkSamples);
    for (std::int64_t s = c * kChunkSamples; s < end; ++s) {
      const int label = labels ? labels[s] : -1;
      impl_->simulate(images + s * pixels, values ? values + s * pixels : nullptr, first_index + s, options, ws,
                      [&](int t, int by_count, int by_input, std::int64_t spikes, std::int64_t events) {
                        const auto i = static_cast<std::size_t>(t);
                        const int predicted = options.readout == RateReadout::SpikeCount ? by_count : by_input;
                        tot.correct[i] += predicted == label;
                        tot.correct_by_count[i] += by_count == label;
                        tot.correct_by_input[i] += by_input == label;
                        tot.spikes[i] += spikes;
                        tot.events[i] += events;
                        if (t != T - 1) return;
                        out.predictions[static_cast<std::size_t>(s)] = predicted;
                        if (options.keep_output_counts)
                          std::copy(ws.counts.begin(), ws.counts.end(),
                                    out.output_counts.begin() + s * out.output_size);
                      });
    }
  });
  RateTotals sum(T);
  for (const RateTotals& tot : totals)
    for (std::size_t t = 0; t < static_cast<std::size_t>(T); ++t) {
      sum.correct[t] += tot.correct[t];
      sum.correct_by_count[t] += tot.correct_by_count[t];
      sum.correct_by_input[t] += tot.correct_by_input[t];
      sum.spikes[t] += tot.spikes[t];
      sum.events[t] += tot.events[t];
    }
  const double n = count > 0 ? static_cast<double>(count) : 1.0;
  out.correct_by_timestep = sum.correct;
  for (std::size_t t = 0; t < static_cast<std::size_t>(T); ++t) {
    out.accuracy_by_timestep.push_back(static_cast<double>(sum.correct[t]) / n);
    out.spike_count_accuracy_by_timestep.push_back(static_cast<double>(sum.correct_by_count[t]) / n);
    out.accumulated_input_accuracy_by_timestep.push_back(static_cast<double>(sum.correct_by_input[t]) / n);
    out.spikes_per_sample_by_timestep.push_back(static_cast<double>(sum.spikes[t]) / n);
    out.synaptic_events_per_sample_by_timestep.push_back(static_cast<double>(sum.events[t]) / n);
  }
  out.accuracy = out.accuracy_by_timestep.back();
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.samples_per_second = out.wall_seconds > 0 ? static_cast<double>(count) / out.wall_seconds : 0.0;
  return out;
}

int RateEngine::input_frames(const datasets::Dataset& data) const {
  const Shape sample = data.sample_shape();
  const Shape& input = impl_->network.input_shape;
  if (sample.rank() >= 2 && sample[0] > 1 && data.pixels_per_image() == sample[0] * input.size() &&
      Shape(std::vector<std::int64_t>(sample.dims.begin() + 1, sample.dims.end())).size() == input.size())
    return static_cast<int>(std::min<std::int64_t>(sample[0], 1 << 20));
  return 0;
}

RateRun RateEngine::run(const datasets::Dataset& data, const RateOptions& options) const {
  // Samples of shape (T, input shape) are T input frames each (time-major, NIR-style).
  const Shape& input = impl_->network.input_shape;
  if (const int frames = input_frames(data); frames > 0) {
    RateOptions framed = options;
    framed.input_frames = frames;
    return run_samples(data.pixels.data(), data.values.empty() ? nullptr : data.values.data(), data.labels.data(),
                       data.size(), framed, 0);
  }
  require_input(data.pixels_per_image() == pixels_per_image(), data.name,
                "images: shape " + data.sample_shape().to_string() + " but the network takes " + input.to_string() +
                    " (or T frames of it)");
  return run(data.pixels.data(), data.labels.data(), data.size(), options);
}

std::vector<std::int32_t> RateEngine::output_counts(const std::uint8_t* image, const RateOptions& options,
                                                    std::int64_t sample_index) const {
  RateWorkspace ws = impl_->make_workspace();
  impl_->simulate(image, nullptr, sample_index, options, ws, [](int, int, int, std::int64_t, std::int64_t) {});
  return ws.counts;
}

std::vector<std::vector<std::int32_t>> RateEngine::population_counts(const std::uint8_t* image,
                                                                     const RateOptions& options,
                                                                     std::int64_t sample_index) const {
  RateWorkspace ws = impl_->make_workspace();
  std::vector<std::vector<std::int32_t>> counts(impl_->network.populations.size());
  for (std::size_t p = 0; p < counts.size(); ++p)
    counts[p].assign(static_cast<std::size_t>(impl_->network.populations[p].size()), 0);
  impl_->simulate(image, nullptr, sample_index, options, ws, [&](int, int, int, std::int64_t, std::int64_t) {
    for (std::size_t p = 0; p < counts.size(); ++p)
      for (std::int32_t i : ws.fired[p]) ++counts[p][static_cast<std::size_t>(i)];
  });
  return counts;
}

}  // namespace grindstone::snn
