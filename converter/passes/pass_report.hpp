#pragma once
// What a pass changed, for `convert --verbose`: the Pipeline summarises the IR before and after
// every pass and prints the difference. The description is computed from the two summaries
// alone, so a new pass is reported without writing any text for it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "converter/ann/model.hpp"
#include "converter/passes/pipeline.hpp"
#include "snn_runtime/network/network.hpp"

namespace grindstone::passes {

/// The quantities of an ANN model that ANN passes change.
struct AnnSummary {
  std::int64_t layers = 0;
  std::int64_t parameters = 0;                         ///< as Keras counts them
  std::map<std::string, std::int64_t> layers_by_kind;  ///< IR kind ("Dense", "BatchNorm", …) → count
};
AnnSummary summarise(const ann::Model& model);

/// An SNN network's counts and settings, plus its thresholds and weights by population /
/// projection name, so values a pass rewrote in place (thresholds − bias, quantised weights)
/// are counted too.
struct SnnSummary {
  NetworkCounts counts;
  int last_tick = 0;        ///< latest fire tick of any neuron
  int temporal_groups = 1;  ///< largest K of any population
  std::string weights_format, bias_mode, input, decode;
  int classes = 0;
  /// Per population: thresholds then bias currents.
  std::map<std::string, std::vector<float>> neuron_values;
  /// Per projection: its connector's weights then weight_scale.
  std::map<std::string, std::vector<float>> weight_values;
};
SnnSummary summarise(const snn::Network& network);

/// One line: "layers 9 → 7, parameters 120 → 104, BatchNorm 2 → 0; 2 layers changed", or
/// "no change". `layers_changed` is the pass's own count of the layers it changed.
std::string describe_change(const AnnSummary& before, const AnnSummary& after, int layers_changed);

/// One line: "populations 4 → 11, spike sources 784 → 6272, …; 3 weights changed", or
/// "no change". Thresholds and weights are compared where a population / projection of the same
/// name and size exists before and after.
std::string describe_change(const SnnSummary& before, const SnnSummary& after);

/// The network a lowering produced from `model`: "7 layers → populations 4, neurons …".
std::string describe_lowering(const AnnSummary& model, const SnnSummary& network);

}  // namespace grindstone::passes
