#pragma once
// The single-pass engine's fast path for fixed-point networks whose sample-dependent part is a
// stack of dense projections (MLPs such as the seed's 784-100-100-100 and Whetstone's dense
// networks). Same semantics and results as the general event-driven path, bit for bit.
//
// Why it is fast:
//   * samples go through in blocks of kBlock; a population is computed one tile of neurons at a
//     time for the whole block, and a tile's weight slice is small enough to stay in L2 while
//     the block's spikes add their row slices to accumulators held in vector registers;
//   * spikes are added in groups of 2 neurons, each group having a precomputed row per spike
//     pattern (the method of four Russians), so clustered spikes cost one add per group;
//   * int16 sums (16 lanes per AVX2 add) whenever they provably cannot overflow;
//   * populations that fire the same way for every sample (the bias chain: the start source and
//     its relays) are evaluated once, when the path is built, and enter as initial sums;
//   * spikes are bit sets: fire decisions come out of vector compares as bit masks, become
//     index lists through a byte lookup table (no data-dependent branches), and the n-hot
//     decode is a popcount per class.
// Why it is exact: a population gets int16 only when, for every neuron, |constant input| plus
// Σ|w| over its sample-dependent synapses (integer units) is ≤ 32767, so no partial sum in any
// order or grouping overflows; otherwise int32 under the same test; otherwise the path is not
// built.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "snn_runtime/functional/scatter.hpp"
#include "snn_runtime/network/decode.hpp"
#include "snn_runtime/network/input_spikes.hpp"
#include "snn_runtime/network/network.hpp"

namespace grindstone::snn::functional {

class DenseTilePath {
 public:
  /// Samples per block (their spikes and masks stay in L1 between the tiles of a population).
  static constexpr int kBlock = 16;

  /// Per-thread scratch.
  struct Workspace {
    std::vector<std::vector<std::int32_t>> fired;  ///< per step: kBlock lists of up to `capacity` neurons
    std::vector<std::vector<std::uint32_t>> count;  ///< per step: spikes per sample of the block
    std::vector<std::vector<std::uint64_t>> bits;   ///< per step: kBlock bit sets of `words` words
  };
  /// One sample's result.
  struct Result {
    int predicted = -1;
    std::int64_t spikes = 0;
    std::int64_t synaptic_events = 0;
  };

  /// Builds the path, or returns null with the reason in `why_not` when the network does not
  /// qualify (float weights, a sample-dependent conv/pool/one-to-one projection, bit-plane
  /// input, sums that may exceed 32 bits). `thresholds` are the engine's integer thresholds per
  /// population (empty for sources); `projections` carry integer weights.
  static std::unique_ptr<DenseTilePath> build(const Network& network, const std::vector<ScatterProjection>& projections,
                                              const std::vector<std::vector<std::int64_t>>& thresholds,
                                              const InputSpikeEncoder& encoder, std::string& why_not);
  ~DenseTilePath();
  DenseTilePath(const DenseTilePath&) = delete;
  DenseTilePath& operator=(const DenseTilePath&) = delete;

  Workspace make_workspace() const;
  /// Runs `count` ≤ kBlock images (contiguous, `pixels` bytes each) into results[0..count);
  /// `scores` (optional) receives count × classes decode scores (Decoder::scores_words).
  void run_block(const std::uint8_t* images, std::int64_t pixels, int count, Workspace& ws, Result* results,
                 std::int32_t* scores = nullptr) const;

  /// "int16", "int32" or "int16+int32": the accumulators of the computed populations.
  std::string accumulators() const;

 private:
  struct Step;
  DenseTilePath();
  void compute(const Step& step, std::size_t s, int count, Workspace& ws) const;

  std::vector<Step> steps_;
  std::size_t output_step_ = 0;
  std::unique_ptr<Decoder> decoder_;
  std::int64_t constant_spikes_ = 0;  ///< spikes of the sample-independent populations
  std::int64_t constant_events_ = 0;  ///< their synaptic events
};

}  // namespace grindstone::snn::functional
