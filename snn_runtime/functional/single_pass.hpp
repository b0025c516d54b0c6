#pragma once
// The single-pass engine: runs a Whetstone-style binary network exactly as ARCHITECTURE.md §2
// defines it, one sample at a time, without simulating empty ticks.
//
// Why that is exact: delays are derived from fire ticks (delay = fire_tick(post, i) −
// fire_tick(pre, j)), so every spike reaching neuron i lands in i's fire tick, whatever the
// temporal groups; with instant decay the neuron's potential at that tick is the sum of all its
// inputs and it fires iff the sum reaches its threshold. At no other tick does anything land, so
// it can fire at most once. The engine checks the preconditions (every non-source population
// InstantDecay, every projection's delays ≥ 1 so pre neurons fire strictly before their
// targets) and rejects networks that break them; then it evaluates populations in
// topological order by delivering each spike along its synapses (event-driven scatter).
//
// Number formats:
//   * fixed point (Qm.n): integer weights w·2^n and integer thresholds θ·2^n, integer sums. With
//     bit-plane inputs the projection scales 2^k/255 make sums non-integer, so every sum and
//     threshold is multiplied by 255 (scale 2^k/255 → integer multiplier 2^k): still exact.
//   * float: sums in float with a proven rounding bound; any sum within that bound of its
//     threshold is recomputed exactly in double (so results equal a double-precision
//     evaluation of the network).
//
// Counting: `spikes` counts every spike of every population, sources included (input spikes,
// the bias start source and bias relay neurons); a synaptic event is one spike delivered along
// one synapse (non-zero weight).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"
#include "snn_runtime/network/network.hpp"

namespace grindstone::snn {

struct SinglePassSample {
  int predicted = -1;
  std::int64_t spikes = 0;
  std::int64_t synaptic_events = 0;
};

struct SinglePassRun {
  std::int64_t samples = 0;
  std::int64_t correct = 0;
  double accuracy = 0.0;
  std::int64_t spikes = 0;           ///< total over all samples
  std::int64_t synaptic_events = 0;  ///< total over all samples
  std::int64_t exact_rechecks = 0;   ///< float networks: sums re-done in double (near threshold)
  double wall_seconds = 0.0;
  double samples_per_second = 0.0;
  std::vector<int> predictions;      ///< one per sample (empty when not requested)
  int classes = 0;                   ///< decode classes (the width of `scores`)
  std::vector<std::int32_t> scores;  ///< samples × classes decode scores (empty when not requested)

  double spikes_per_sample() const { return samples ? static_cast<double>(spikes) / static_cast<double>(samples) : 0.0; }
  double synaptic_events_per_sample() const {
    return samples ? static_cast<double>(synaptic_events) / static_cast<double>(samples) : 0.0;
  }
};

class SinglePassEngine {
 public:
  /// Samples per parallel work item. Fixed, so the work split never depends on the thread count
  /// (per-sample results are independent anyway; totals are summed in chunk order).
  static constexpr std::int64_t kChunkSamples = 512;

  /// Which implementation runs batches (run_sample always uses the general one).
  enum class Path {
    Auto,         ///< dense tiles when the network qualifies (functional/dense_tiles.hpp), else general
    EventDriven,  ///< always the general event-driven scatter (the reference for tests)
  };

  /// Validates `network` for single-pass execution (InputError naming `context`, the population
  /// or projection and the field). Keeps a copy.
  explicit SinglePassEngine(Network network, const std::string& context = "network", Path path = Path::Auto);
  ~SinglePassEngine();
  SinglePassEngine(SinglePassEngine&&) noexcept;
  SinglePassEngine& operator=(SinglePassEngine&&) noexcept;

  const Network& network() const;
  /// Bytes per image the network's inputs take (input_shape.size()).
  std::int64_t pixels_per_image() const;
  /// "float", "int16", "int32", "int16+int32" or "int64": the accumulators batches use.
  std::string accumulator() const;
  /// "dense-tiles" or "event-driven": the implementation batches use.
  std::string path() const;
  /// Why the dense-tile path is not used (empty when it is).
  const std::string& why_not_dense_tiles() const;

  /// One sample. `fired` (optional) receives, per population, 0/1 per neuron.
  SinglePassSample run_sample(const std::uint8_t* image, std::vector<std::vector<std::uint8_t>>* fired = nullptr) const;

  /// Classifies `count` images (contiguous, pixels_per_image() bytes each), in parallel with
  /// TBB (thread count: the caller's ThreadLimit). `labels` may be null (accuracy 0 then).
  /// `keep_scores` fills SinglePassRun::scores with every sample's decode scores.
  SinglePassRun run(const std::uint8_t* images, const std::uint8_t* labels, std::int64_t count,
                    bool keep_predictions = true, bool keep_scores = false) const;
  /// The whole dataset (InputError when its image size does not fit the network).
  SinglePassRun run(const datasets::Dataset& data, bool keep_predictions = true, bool keep_scores = false) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grindstone::snn
