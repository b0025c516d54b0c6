#pragma once
// Float reference inference of an ANN model (Keras semantics), batched with Eigen GEMMs and
// parallel over fixed-size chunks of samples with TBB. The chunking never depends on the thread
// count, so results are bit-identical for any --threads.
#include <cstdint>
#include <vector>

#include "converter/ann/layer_ops.hpp"
#include "converter/ann/model.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"

namespace grindstone::ann {

class ReferenceInference {
 public:
  /// Samples per work item. Fixed so that every sample sees the same GEMM shapes whatever the
  /// number of threads (Eigen's blocking depends on the matrix sizes).
  static constexpr std::int64_t kChunkSamples = 64;

  /// Validates `model` (InputError naming layer and field) and keeps a copy of it.
  explicit ReferenceInference(const Model& model);

  const Model& model() const { return model_; }
  std::int64_t input_size() const { return model_.input_shape().size(); }
  std::int64_t output_size() const { return model_.output_shape().size(); }

  /// Outputs (N × output size) for inputs (N × input size, one channels-last sample per row).
  /// `threads` ≤ 0: all hardware threads.
  RowMatrix run(const RowMatrix& inputs, int threads = 0) const;

  /// Outputs of the layers `which` (indices into model().layers; empty = every layer), each
  /// N × layers[i].output_shape.size(), in the order of `which` (or of the layers). For data-based
  /// normalisation and layer-by-layer comparisons.
  std::vector<RowMatrix> layer_outputs(const RowMatrix& inputs, const std::vector<int>& which = {},
                                       int threads = 0) const;

  /// Runs one batch on the calling thread. With `keep` non-empty, returns the outputs of the
  /// layers flagged in `keep` (size = layer count; others are empty matrices); else only the
  /// model output (as the single element).
  std::vector<RowMatrix> forward(const RowMatrix& batch, const std::vector<bool>& keep = {}) const;

 private:
  void check_inputs(const RowMatrix& inputs) const;

  Model model_;
  std::vector<BatchNormAffine> batch_norm_;  ///< per layer (empty unless BatchNorm)
  std::vector<Matrix> signed_keys_;          ///< per layer: (2·key − 1)ᵀ for Softmax_Decode
  std::vector<int> last_use_;                ///< per layer: index of the last layer reading it
};

/// Index of the largest value of each row (the first one on ties).
std::vector<int> argmax_rows(const RowMatrix& scores);

struct Evaluation {
  std::int64_t samples = 0;
  std::int64_t correct = 0;
  double accuracy = 0.0;
  double seconds = 0.0;            ///< wall time of encoding + inference (not loading)
  double samples_per_second = 0.0;
  std::vector<int> predictions;    ///< one per sample
};

/// Classifies every sample of `data` (encoded with `encoding`) and compares with the labels.
/// InputError when the model's input does not take the dataset's images or its output is not
/// one score per class.
Evaluation evaluate(const ReferenceInference& inference, const datasets::Dataset& data,
                    datasets::InputEncoding encoding, int threads = 0);
Evaluation evaluate(const Model& model, const datasets::Dataset& data, datasets::InputEncoding encoding,
                    int threads = 0);

}  // namespace grindstone::ann
