#pragma once
// The rate-coded engine (SNN-Toolbox style): integrate-and-fire neurons with reset by
// subtraction, run for T timesteps per sample; the class at timestep t is the arg-max of the
// output population's cumulative spike counts (ties → the higher membrane potential, then the
// lower class index) or, with RateReadout::AccumulatedInput, of the output neurons' accumulated
// input; one run gives the accuracy of both read-outs at every t ≤ T. MaxPooling2D runs as a
// spiking max-pool when the engine is given the pool projections (RateEngineConfig).
//
// Per timestep, populations are updated in topological order and a spike emitted in timestep t
// reaches its targets in the same timestep (the SNN Toolbox INI-simulator convention: one
// timestep is one full pass through the network; the populations' ticks are ignored). Neuron i:
//   v_i += Σ_spiking j w_ji + bias_current_i;  spike iff v_i ≥ θ_i, then v_i −= θ_i.
// Inputs (the network's Input population, InputEncoding::Real):
//   * current: input neuron j delivers pixel_j/255 along its synapses every timestep (computed
//     once per sample, since it is constant);
//   * poisson: input neuron j spikes in timestep t with probability
//     min(1, rate_hz · timestep_ms/1000 · pixel_j/255), drawn from the counter-based RNG keyed by
//     (seed, sample index, t·inputs + j) — identical for any thread count.
// A bias start source, if present, fires every timestep.
// Counting: spikes of every population (Poisson input spikes included); a synaptic event is a
// spike delivered along one synapse (constant-current input delivers no spikes, so no events).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"
#include "snn_runtime/network/network.hpp"

namespace grindstone::snn {

/// How the class is read from the output population at each timestep.
enum class RateReadout {
  /// SNN Toolbox: arg-max of cumulative output spike counts (ties → higher membrane potential).
  SpikeCount,
  /// Non-spiking readout: arg-max of each output neuron's accumulated input Σ_t (Σ w·s + b)
  /// (= count·θ + v under reset by subtraction), i.e. the final linear layer integrated without
  /// the spiking non-linearity. No rate cap at 1 spike/timestep and no 1/T quantisation on the
  /// logits; used by many converters (e.g. Rueckauer et al. 2017's analog output, Bu et al.).
  AccumulatedInput,
};

struct RateOptions {
  int timesteps = 64;            ///< T
  RateReadout readout = RateReadout::SpikeCount;
  bool poisson = false;          ///< false: constant current
  double input_rate_hz = 1000.0; ///< Poisson: rate of a pixel of 255
  double timestep_ms = 1.0;      ///< Poisson: simulated ms per timestep
  std::uint64_t seed = 1;        ///< Poisson
  bool keep_output_counts = false;  ///< fill RateRun::output_counts
  /// > 0: every sample is this many input frames (frames × input size values, time-major, as
  /// NIR tools feed spiking networks), each fed raw — a spike count or current, not pixel/255 —
  /// at ticks 0 … frames − 1 and nothing after. 0: one image per sample, a constant current
  /// pixel/255 (or Poisson). run(Dataset) sets it from the samples' shape (T, input shape).
  int input_frames = 0;
};

struct RateRun {
  std::int64_t samples = 0;
  int timesteps = 0;
  double accuracy = 0.0;  ///< at T
  double wall_seconds = 0.0;
  double samples_per_second = 0.0;
  /// Index t−1 holds the value after t timesteps (t = 1 … T). Spikes/events are cumulative
  /// per sample.
  std::vector<std::int64_t> correct_by_timestep;
  std::vector<double> accuracy_by_timestep;  ///< with RateOptions::readout
  /// Both read-outs are evaluated in every run (the second costs 10 additions per timestep).
  std::vector<double> spike_count_accuracy_by_timestep;
  std::vector<double> accumulated_input_accuracy_by_timestep;
  std::vector<double> spikes_per_sample_by_timestep;
  std::vector<double> synaptic_events_per_sample_by_timestep;
  std::vector<int> predictions;  ///< at T, one per sample
  std::int64_t output_size = 0;  ///< neurons of the output population (the width of output_counts)
  std::vector<std::int32_t> output_counts;  ///< samples × output_size spike counts at T (if kept)

  double spikes_per_sample() const { return spikes_per_sample_by_timestep.empty() ? 0.0 : spikes_per_sample_by_timestep.back(); }
  double synaptic_events_per_sample() const {
    return synaptic_events_per_sample_by_timestep.empty() ? 0.0 : synaptic_events_per_sample_by_timestep.back();
  }
};

/// Spiking max-pooling (SNN Toolbox's spiking MaxPooling2D): the projections listed are
/// PoolConnectors whose post population does not integrate: in every timestep, post unit (y, x, c)
/// emits the spike — if any — of the unit of its window with the largest cumulative spike count
/// so far (this timestep's spikes included; ties → first in the window, row-major), so its rate
/// follows the rate of the currently most active input (≈ max of the rates) instead of their
/// average. The network IR has no max-pool connector, so the rate conversion returns this list
/// alongside the network (RateConversion::max_pool_projections); a network without it runs its
/// pools as integrate-and-fire average pooling.
struct RateEngineConfig {
  std::vector<int> max_pool_projections;  ///< indices into Network::projections
};

class RateEngine {
 public:
  /// Fixed work split (samples per parallel task), independent of the thread count.
  static constexpr std::int64_t kChunkSamples = 16;

  /// Validates `network` for rate execution: every non-source population IntegrateAndFire,
  /// Input populations Real-encoded (InputError naming `context`, population and field).
  explicit RateEngine(Network network, const std::string& context = "network", RateEngineConfig config = {});
  ~RateEngine();
  RateEngine(RateEngine&&) noexcept;
  RateEngine& operator=(RateEngine&&) noexcept;

  const Network& network() const;
  std::int64_t pixels_per_image() const;

  /// Runs `count` images (contiguous) in parallel with TBB (caller's ThreadLimit). Sample s
  /// uses Poisson stream `first_index + s`, so a subset run reproduces the full run's samples.
  RateRun run(const std::uint8_t* images, const std::uint8_t* labels, std::int64_t count, const RateOptions& options,
              std::int64_t first_index = 0) const;
  RateRun run(const datasets::Dataset& data, const RateOptions& options) const;
  /// T when the samples are T input frames (sample shape (T, input shape), T > 1), else 0.
  int input_frames(const datasets::Dataset& data) const;
  /// run() with the samples' float values (input frames of float data; may be null).
  RateRun run_samples(const std::uint8_t* images, const float* values, const std::uint8_t* labels, std::int64_t count,
                      const RateOptions& options, std::int64_t first_index = 0) const;

  /// Output spike counts of one sample after `options.timesteps` (for tests).
  std::vector<std::int32_t> output_counts(const std::uint8_t* image, const RateOptions& options,
                                          std::int64_t sample_index = 0) const;

  /// Spike counts of every population (index = population) of one sample after
  /// `options.timesteps`: count/T ≈ ANN activation/λ, for layer-by-layer diagnostics and tests.
  std::vector<std::vector<std::int32_t>> population_counts(const std::uint8_t* image, const RateOptions& options,
                                                           std::int64_t sample_index = 0) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grindstone::snn
