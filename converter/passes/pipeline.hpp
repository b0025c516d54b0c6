#pragma once
// Conversion of an ANN model to the SNN IR as a pipeline of small named passes (TVM-style).
//
//   ann::Model ──[ann passes: drop_identities, fold_batch_norm, canonicalise_flatten,
//                 fold_average_pool]──▶ ann::Model
//              ──[lowering: lower_activations (+ maxpool_to_or)]──▶ SnnState
//              ──[snn passes: encode_input, bias_neurons, decode_output, temporal_groups,
//                 quantise]──▶ snn::Network
//
// Every pass is a plain function with its own unit test (passes_test.cpp); the Pipeline runs
// them in order, validates the IR after each one (naming the pass that broke it), reports what
// each changed (pass_report.hpp) and records their names in Provenance::passes.
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "converter/ann/model.hpp"
#include "snn_runtime/network/network.hpp"

namespace grindstone::passes {

enum class BiasMode {
  Neurons,    ///< daisy-chained bias neurons adding b_i through ordinary synapses (default)
  Threshold,  ///< no bias neurons: threshold_i = θ − b_i
};

/// What `grindstone convert` lets the user choose (ARCHITECTURE.md §3).
struct ConvertOptions {
  snn::WeightFormat weights;                           ///< float (default) or Qm.n
  BiasMode bias = BiasMode::Neurons;
  snn::InputEncoding input = snn::InputEncoding::Threshold;  ///< Threshold or Bitplanes
  int temporal_groups = 1;                             ///< K ≥ 1
};

/// Parses "neurons" | "threshold" and "threshold" | "bitplanes" and "float" | "Qm.n"
/// (InputError naming the option otherwise).
BiasMode parse_bias_mode(const std::string& text);
snn::InputEncoding parse_input_encoding(const std::string& text);
snn::WeightFormat parse_weight_format(const std::string& text);

/// Weights that did not fit the fixed-point format of one projection (quantise pass).
struct ClippedWeights {
  std::string projection;
  std::int64_t clipped = 0;  ///< weights clipped to ±max
  std::int64_t weights = 0;  ///< weights examined
};

/// The IR of the SNN-side passes: the network being built plus what lowering leaves for the
/// later passes to realise.
struct SnnState {
  snn::Network network;
  /// Per population name: the ANN layer's bias b_i, not yet realised by bias neurons or
  /// thresholds (bias_neurons consumes it).
  std::map<std::string, Eigen::VectorXf> pending_bias;
  /// Softmax_Decode key of the model (classes × width), if it ends in one (decode_output).
  std::optional<Eigen::MatrixXf> decode_key;
  /// Names of the sub-lowerings that actually applied (e.g. "maxpool_to_or"), for provenance.
  std::vector<std::string> lowerings_applied;
  /// Filled by quantise.
  std::vector<ClippedWeights> clipped;
  std::int64_t clipped_thresholds = 0;
};

struct AnnPass {
  std::string name;
  std::function<int(ann::Model&)> run;  ///< returns the number of layers it changed
};
struct Lowering {
  std::string name;
  std::function<SnnState(const ann::Model&)> run;
};
struct SnnPass {
  std::string name;
  std::function<void(SnnState&)> run;
};

class Pipeline {
 public:
  Pipeline& add(AnnPass pass);
  Pipeline& lower_with(Lowering lowering);
  Pipeline& add(SnnPass pass);

  /// Runs every pass in order. Validates the model before the first pass and the IR after
  /// every pass (ann::Model::validate, snn::validate); a failure throws the validator's error
  /// type (InputError) prefixed "pass '<name>' produced an invalid model|network: ". With
  /// `log` (--verbose), prints "pass <name>: <what changed>" per pass (pass_report.hpp).
  /// The returned state's network carries the pass names in provenance.passes (sub-lowerings
  /// that applied are listed right after the lowering).
  SnnState run(ann::Model model, std::ostream* log = nullptr) const;

  std::vector<std::string> names() const;

 private:
  std::vector<AnnPass> ann_passes_;
  std::optional<Lowering> lowering_;
  std::vector<SnnPass> snn_passes_;
};

/// The standard single-pass (Whetstone) conversion pipeline for `options`.
Pipeline single_pass_pipeline(const ConvertOptions& options);

/// Everything `grindstone convert` reports besides the network.
struct ConversionResult {
  snn::Network network;
  std::vector<ClippedWeights> clipped;
  std::int64_t clipped_thresholds = 0;
};

/// Runs single_pass_pipeline(options) on `model`; fills provenance (source file name, its
/// SHA-256 when the file exists, passes, version).
ConversionResult convert_single_pass(const ann::Model& model, const ConvertOptions& options,
                                     std::ostream* log = nullptr);

/// Summary counts of a network, as `convert --json` reports them (ARCHITECTURE.md §3).
struct NetworkCounts {
  std::int64_t populations = 0;
  std::int64_t neurons = 0;        ///< Hidden + Output neurons (not sources, not bias neurons)
  std::int64_t bias_neurons = 0;   ///< Bias relay neurons (not the start source)
  std::int64_t input_neurons = 0;  ///< spike sources: Input populations + the start source
  std::int64_t synapses = 0;
  std::int64_t projections = 0;
  int max_delay = 0;
};
NetworkCounts count(const snn::Network& network);

/// "grindstone 0.1" — recorded in provenance.
std::string grindstone_version();

/// Records where `model` came from in `provenance`: its file name, the file's SHA-256 when it
/// exists, and grindstone_version(). Passes are recorded by Pipeline::run.
void record_source(snn::Provenance& provenance, const ann::Model& model);

}  // namespace grindstone::passes
