#pragma once
// A Keras ANN lowered to SpiNNaker 2 as an int8 program (`run MODEL.h5 --engine spinnaker2
// --s2-mode ann`): MAC steps (dense or conv2d mode) whose write-out adds the int32 bias,
// requantises and applies ReLU, max pooling on the ARM cores, and the layout change of a
// channels_first flatten. The program is built and quantised by converter/passes/ann_to_mac
// (which reads the Keras layers); this file runs it (bit-exact, on hw::s2::MacArray) and
// times it with the large-CNN mapper (cnn_mapping.hpp) that `grindstone estimate` uses, so the
// run and the estimate of one model give one set of figures. It knows nothing of Keras.
#include <cstdint>
#include <string>
#include <vector>

#include "common/shape.hpp"
#include "datasets/dataset.hpp"
#include "hw_model/spinnaker2/chip.hpp"
#include "hw_model/spinnaker2/mac_array.hpp"
#include "snn_runtime/spinnaker2/cnn_graph.hpp"
#include "snn_runtime/spinnaker2/cnn_mapping.hpp"

namespace grindstone::snn::s2 {

struct AnnStep {
  enum class Kind {
    Mac,         ///< dense or conv2d on the MAC array, uint8 input × int8 weights
    MaxPool,     ///< on the ARM cores
    FlattenChw,  ///< channels_first flatten: (H, W, C) memory becomes (C, H, W) order
  };
  Kind kind = Kind::Mac;
  std::string name;
  Shape in_shape, out_shape;  ///< channels-last
  // Mac
  bool conv = false;
  hw::Conv2dGeometry geometry;  ///< conv steps
  std::int64_t k = 0, n = 0;    ///< weight matrix k×n (dense: inputs × units; conv: patch × filters)
  std::vector<std::int8_t> weights;  ///< k×n row-major, filled by quantisation
  hw::WriteOut write_out;
  /// The last MAC step: its accumulators + bias are the class scores (int32, no requantisation).
  bool last = false;
  // MaxPool
  int pool_h = 1, pool_w = 1, stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0;

  /// The matrix product of one sample (conv: out_h·out_w positions × patch × filters).
  hw::MatmulShape per_sample() const { return conv ? geometry.as_matmul() : hw::MatmulShape{1, k, n}; }
};

struct AnnProgram {
  std::string name;  ///< the model's
  std::vector<AnnStep> steps;
  /// How the weights and activations were quantised (reported).
  std::string quantisation;
};

/// One sample through the program. `x` holds the uint8 input (the raw pixels). Adds to
/// `nonzero_activations` the non-zero uint8 values of the input and of every step's output
/// (what zero gating can skip is the rest). Returns the class (first maximal score).
int classify(const AnnProgram& program, std::vector<std::uint8_t> x, hw::MacArray& mac, std::int64_t& nonzero_activations);

/// The program as the mapper sees it: one MacOp per MAC step, each max pool fused into the write-out
/// of the MAC step before it (as converter/passes/mac_graph fuses a Keras pool), flattens folded
/// into the next op's addressing. Throws InputError when a pool has no MAC step before it.
MacGraph mac_graph_of(const AnnProgram& program);

struct AnnRunReport {
  std::int64_t samples = 0;
  std::int64_t correct = 0;
  double accuracy = 0;
  std::vector<int> predictions;
  /// Non-zero uint8 activations per sample (input pixels + every step's output). An int8 ANN
  /// sends no spikes, so the report carries this instead of spike counts.
  double nonzero_activations_per_sample = 0;
  hw::MacArray::Stats mac;  ///< functional run over all samples (exact overflow count)
  CnnEstimate estimate;     ///< one frame (batch 1), mapped as `grindstone estimate` maps it
  std::int64_t dram_bytes = 0;  ///< estimate's bytes per frame × samples
  double energy_joules = 0;     ///< estimate's energy per frame × samples
};

/// Runs every sample (sequentially, so the MAC stats are exact and deterministic) and times the
/// program with estimate_cnn(mac_graph_of(program), mapping).
AnnRunReport run_ann(const AnnProgram& program, const datasets::Dataset& data, const CnnMappingParams& mapping);

}  // namespace grindstone::snn::s2
