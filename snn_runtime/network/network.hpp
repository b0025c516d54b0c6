#pragma once
// The SNN IR: what conversion produces, what `.snn.h5` stores, and what every engine runs
// (single-pass, rate, SpiNNaker 1 executor, SpiNNaker 2 hybrid executor).
//
// Timing (ARCHITECTURE.md §2). Every neuron has a *fire tick* relative to the start of a sample:
//   fire_tick(pop, i) = pop.tick + group_of(pop, i)
// A spike from pre neuron j to post neuron i is delivered with delay
//   delay = fire_tick(post, i) − fire_tick(pre, j)   (≥ 1 always; ≤ 2K−1 between adjacent layers
//   with K temporal groups, more across a residual shortcut)
// so delays are derived from the populations' ticks and groups, never stored per synapse.
// Single-pass neurons have instant decay: their potential at tick t is only the input that
// landed at t, and they fire iff it reaches the threshold (≥).
#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/fixed_point.hpp"
#include "common/shape.hpp"

namespace grindstone::snn {

/// Weight and threshold number format of a network.
struct WeightFormat {
  /// true: weights/thresholds are plain float32 values. false: every weight and threshold is an
  /// exact multiple of 2^-fixed.fraction_bits with magnitude ≤ fixed.max_units() units.
  bool is_float = true;
  FixedPointFormat fixed;
  std::string to_string() const { return is_float ? "float" : fixed.to_string(); }
};

enum class NeuronModel {
  /// Single-pass (Whetstone): v(t) = input landed at t; spike iff v ≥ threshold; no memory.
  InstantDecay,
  /// Rate coding (SNN Toolbox): v += input + bias_current each tick; spike iff v ≥ threshold;
  /// reset by subtraction.
  IntegrateAndFire,
};

enum class PopulationRole {
  Input,   ///< spike source driven by the encoded sample
  Bias,    ///< one always-firing bias neuron (daisy-chained), or the start source
  Hidden,  ///< a layer's neurons (including OR-pooling neurons)
  Output,  ///< the decoded layer
};

struct Population {
  std::string name;
  PopulationRole role = PopulationRole::Hidden;
  NeuronModel model = NeuronModel::InstantDecay;
  Shape shape;                    ///< channels-last for images; size() = number of neurons
  std::vector<float> threshold;   ///< per neuron (empty for Input/Bias sources)
  std::vector<float> bias_current;///< per neuron, IntegrateAndFire only (empty otherwise)
  /// Added (additive). IntegrateAndFire only: the membrane value after a spike, per neuron
  /// (NIR's v_reset); empty = reset by subtraction (SNN Toolbox's rule).
  std::vector<float> v_reset;
  int tick = 0;                   ///< fire tick of group 0 (relative to sample start)
  int temporal_groups = 1;        ///< K; neuron i belongs to group group_of(i)
  std::string source_layer;       ///< ANN layer this came from ("" for sources)
  /// Added by the converter (additive): for `--input bitplanes`, bit k (0 = least significant)
  /// of the 8-bit pixel that drives this Input population; −1 for every other population
  /// (the threshold-encoded input, layers, bias neurons).
  int input_bit = -1;

  std::int64_t size() const { return shape.size(); }
  /// Contiguous blocks: neuron i is in group floor(i·K / size).
  int group_of(std::int64_t i) const {
    return temporal_groups <= 1 ? 0 : static_cast<int>((i * temporal_groups) / size());
  }
  int fire_tick(std::int64_t i) const { return tick + group_of(i); }
  /// Added (additive): latest fire tick of any neuron, tick + K − 1 (or tick when size < K).
  int last_fire_tick() const { return size() > 0 ? fire_tick(size() - 1) : tick; }
  /// Added (additive): true for spike sources — populations with no thresholds that fire by
  /// themselves (Input populations, and the Bias *start source*, which fires once at `tick`
  /// every sample). Bias populations with thresholds are relay neurons driven by the previous
  /// bias population of the daisy chain (they receive weight 1 and threshold 0.5, so fire).
  bool is_source() const { return threshold.empty() && bias_current.empty(); }
};

/// Full weight matrix: weights(j, i) from pre neuron j to post neuron i (0 = no synapse).
struct DenseConnector {
  Eigen::MatrixXf weights;  ///< (pre size, post size)
};

/// Convolution kernel connector, channels-last, never expanded in memory. Post neuron
/// (y, x, o) receives pre neuron (y·stride_h − pad_top + i·dilation_h, x·stride_w − pad_left +
/// j·dilation_w, c) with kernel((i·kw + j)·cin + c, o) when that position is inside the pre image.
struct ConvConnector {
  int kernel_h = 0, kernel_w = 0, in_channels = 0, out_channels = 0;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;
  Eigen::MatrixXf kernel;  ///< (kh·kw·cin, cout)
};

/// Pooling window connector (max-pool → OR neurons with `weight` ≥ threshold; average pool →
/// weighted neurons with weight 1/window). Post (y, x, c) receives pre (y·stride_h − pad_top + i,
/// x·stride_w − pad_left + j, c) for the window positions inside the pre image.
struct PoolConnector {
  int pool_h = 2, pool_w = 2, stride_h = 2, stride_w = 2, pad_top = 0, pad_left = 0;
  float weight = 1.0f;
};

/// Pre neuron i → post neuron i (same size), weight `weight`.
struct OneToOneConnector {
  float weight = 1.0f;
};

using Connector = std::variant<DenseConnector, ConvConnector, PoolConnector, OneToOneConnector>;

struct Projection {
  std::string name;
  int pre = -1;   ///< index into Network::populations
  int post = -1;  ///< index into Network::populations
  Connector connector;
  /// Extra scale applied to every weight of this projection before use (1 except for bitplane
  /// inputs, where sub-population k carries 2^k/255). Stored so files keep the kernel unscaled.
  float weight_scale = 1.0f;
};

enum class InputEncoding {
  Threshold,  ///< pixel/255 ≥ 0.5 → one spike at tick 0
  Bitplanes,  ///< bit k of the 8-bit pixel → a spike on input sub-population k
  Real,       ///< rate engine: constant current pixel/255 (or Poisson)
};

/// How classes are read from the output population.
struct Decode {
  enum class Kind { NHotKey, SpikeCount } kind = Kind::NHotKey;
  /// NHotKey: (classes, width) 0/1 key; class c scores Σ_j (2·x_j − 1)(2·key(c, j) − 1).
  Eigen::MatrixXf key;
  int classes = 10;
  /// Added (additive). SpikeCount only: when several classes have the same spike count, the
  /// engine picks the one whose output neuron has the highest membrane potential at the end
  /// (rate networks, where the output layer is integrate-and-fire without a softmax); false:
  /// ties go to the lowest class index.
  bool tie_break_by_potential = false;
};

struct Provenance {
  std::string source_file;            ///< file name of the model converted
  std::string source_sha256;          ///< hex SHA-256 of that file
  std::vector<std::string> passes;    ///< names of the passes applied, in order
  std::string grindstone_version;
};

struct Network {
  std::vector<Population> populations;  ///< topologically ordered (pre before post)
  std::vector<Projection> projections;
  WeightFormat weights;
  /// "neurons" | "threshold" (single-pass), or "current" (added: rate networks, whose biases
  /// are Population::bias_current).
  std::string bias_mode = "neurons";
  InputEncoding input = InputEncoding::Threshold;
  Shape input_shape;                    ///< per sample, channels-last (e.g. 28, 28, 1)
  Decode decode;
  int output = -1;                      ///< index of the Output population
  Provenance provenance;

  int find(const std::string& population_name) const;  ///< −1 if absent
};

// ---- Helpers (additive). synapse_count, max_delay and min_delay are implemented with the
// connector geometry (connector_geometry.hpp, which also enumerates synapses); the rest in
// network.cpp. -------------------------------------------------------------------------------

/// Number of synapses of a projection: non-zero weights of a DenseConnector; for a
/// ConvConnector the (pre, post) pairs inside the image with a non-zero kernel entry; window
/// positions inside the image (× channels) for a PoolConnector; post size for OneToOne.
std::int64_t synapse_count(const Network& network, const Projection& projection);

/// Largest spike delay a projection can need: latest post fire tick − earliest pre fire tick
/// (exact for dense connectivity; an upper bound for sparse connectors).
int max_delay(const Network& network, const Projection& projection);
/// Smallest: earliest post fire tick − latest pre fire tick (must be ≥ 1).
int min_delay(const Network& network, const Projection& projection);

/// Name of a connector kind as stored in `.snn.h5`: "dense", "conv", "pool", "one_to_one".
std::string connector_kind(const Connector& connector);

/// Checks the network's internal consistency (indices, topological order, weight shapes
/// against population sizes, threshold lengths, conv/pool geometry, decode key width, delays
/// ≥ 1). Throws InputError "<context>: <field>: …".
void validate(const Network& network, const std::string& context);

}  // namespace grindstone::snn
