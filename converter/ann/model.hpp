#pragma once
// The ANN model: what the Keras importer produces, what the sharpening trainer trains, and what
// the conversion passes consume. A DAG of layers (Boost.Graph for ordering and validation); a
// Keras Sequential model or a linear Functional model is a chain.
//
// Conventions:
// - Image tensors are channels-last (H, W, C) per sample, whatever the Keras data_format; the
//   importer translates channels_first models (see Flatten::order).
// - Fused Keras activations become separate Activation layers named "<layer>/activation", so
//   every pass and engine sees exactly one kind of non-linearity: the Activation layer.
#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/shape.hpp"

namespace grindstone::ann {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using Vector = Eigen::Matrix<float, Eigen::Dynamic, 1>;

enum class Padding { Valid, Same };

/// Model input. `shape` is per sample, channels-last for images.
struct InputLayer {};

/// y = x·kernel + bias. kernel is (inputs, units) exactly as Keras stores it.
struct Dense {
  Matrix kernel;       ///< (in, units)
  Vector bias;         ///< (units); zeros when use_bias is false
  bool use_bias = true;
};

/// 2-D convolution, channels-last. kernel is (kh·kw·cin, cout) with row index
/// (i·kw + j)·cin + c — Keras's (kh, kw, cin, cout) array flattened row-major into rows —
/// so an im2col patch in (i, j, c) order multiplies it directly.
struct Conv2D {
  int kernel_h = 0, kernel_w = 0, in_channels = 0, filters = 0;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::Valid;
  Matrix kernel;  ///< (kh·kw·cin, filters)
  Vector bias;    ///< (filters); zeros when use_bias is false
  bool use_bias = true;
};

enum class PoolKind { Max, Average };

/// Max or average pooling, channels-last. Keras's AveragePooling2D with padding 'same' averages
/// over the valid (in-image) elements only.
struct Pool2D {
  PoolKind kind = PoolKind::Max;
  int pool_h = 2, pool_w = 2;
  int stride_h = 2, stride_w = 2;
  Padding padding = Padding::Valid;
};

/// GlobalAveragePooling2D: (H, W, C) → (C).
struct GlobalAveragePool2D {};

/// GlobalMaxPooling2D: (H, W, C) → (C), the maximum over all positions of each channel.
struct GlobalMaxPool2D {};

/// Depthwise 2-D convolution, channels-last: input channel c is convolved with its own
/// `depth_multiplier` kernels, giving output channels c·depth_multiplier + k (Keras's order).
struct DepthwiseConv2D {
  int kernel_h = 0, kernel_w = 0, channels = 0, depth_multiplier = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::Valid;
  Matrix kernel;  ///< (kh·kw, channels·depth_multiplier): row i·kw + j, column c·depth_multiplier + k
  Vector bias;    ///< (channels·depth_multiplier); zeros when use_bias is false
  bool use_bias = true;
};

/// Element-wise merge of two or more inputs of one shape, folded left to right as Keras does
/// (Average divides the sum by the input count; Subtract takes exactly two inputs).
enum class MergeKind { Add, Subtract, Multiply, Average, Maximum, Minimum };
struct Merge {
  MergeKind kind = MergeKind::Add;
};

/// Concatenation of the inputs, in input order, along one per-sample axis (an index into our
/// channels-last shape; the importer maps Keras's axis, including channels_first images).
struct Concatenate {
  int axis = 0;
};

/// Inference-time Rescaling: y = x·scale + offset, per channel of the last axis (one value
/// broadcasts to every channel). Keras keeps scale and offset in the config, not as weights.
struct Rescale {
  Vector scale, offset;  ///< size 1 or the channel count, each
};

/// ZeroPadding2D: adds zero rows/columns around each channel.
struct ZeroPad2D {
  int top = 0, bottom = 0, left = 0, right = 0;
};

/// Flatten to 1-D. Keras flattens channels_first tensors in (C, H, W) order; our tensors are
/// (H, W, C) in memory, so `order` says which element order the output must have.
struct Flatten {
  enum class Order { HWC, CHW } order = Order::HWC;
};

/// Reshape to `target` (per sample; element order unchanged, as Keras's Reshape).
struct Reshape {
  Shape target;
};

/// Inference-time BatchNormalization over the last (channel) axis:
/// y = gamma·(x − mean)/sqrt(variance + epsilon) + beta.
struct BatchNorm {
  Vector gamma, beta, moving_mean, moving_variance;
  float epsilon = 1e-3f;
};

enum class ActivationKind {
  Linear,
  ReLU,            ///< max(0, x), with optional max_value / negative_slope / threshold
  Sigmoid,
  Tanh,
  Softmax,
  SpikingBRelu,    ///< Whetstone: clip((x−0.5)/(1−s+0.001)+0.5, 0, 1); step x ≥ 0.5 at s = 1
  SpikingSigmoid,  ///< Whetstone: 1/(1+exp(clip(−x·k,−40,40))), k = 4·ln(2+√3)/(1−s+0.001); step x ≥ 0 at s = 1
};

/// Element-wise activation (standalone Keras Activation/ReLU layers and fused activations).
struct Activation {
  ActivationKind kind = ActivationKind::Linear;
  float sharpness = 0.0f;                   ///< Spiking_* only, in [0, 1]
  std::optional<float> relu_max_value;      ///< ReLU only
  float relu_negative_slope = 0.0f;         ///< ReLU only
  float relu_threshold = 0.0f;              ///< ReLU only
};

/// Whetstone's Softmax_Decode: scores class c as Σ_j (2x_j − 1)(2·key[c][j] − 1), then softmax.
struct SoftmaxDecode {
  Matrix key;  ///< (classes, width), entries 0 or 1
};

/// Inference-time identity (Dropout, GaussianNoise, ActivityRegularization, …).
struct Identity {};

using LayerParams = std::variant<InputLayer, Dense, Conv2D, Pool2D, GlobalAveragePool2D, ZeroPad2D,
                                 Flatten, Reshape, BatchNorm, Activation, SoftmaxDecode, Identity,
                                 GlobalMaxPool2D, DepthwiseConv2D, Merge, Concatenate, Rescale>;

/// Layers that combine several inputs (Merge, Concatenate); every other non-input layer takes one.
bool is_multi_input(const LayerParams& params);

struct Layer {
  std::string name;          ///< unique within the model (Keras layer name)
  std::string keras_class;   ///< e.g. "Dense", "Spiking_BRelu"; "Activation" for split-off fused ones
  LayerParams params;
  std::vector<int> inputs;   ///< indices of input layers in Model::layers (empty for InputLayer)
  Shape output_shape;        ///< per sample, channels-last

  template <class T> bool is() const { return std::holds_alternative<T>(params); }
  template <class T> T& as() { return std::get<T>(params); }
  template <class T> const T& as() const { return std::get<T>(params); }
  /// Number of trainable + non-trainable weights, as Keras counts them.
  std::int64_t param_count() const;
};

/// Where the model came from (for `inspect` and provenance).
struct ModelSource {
  std::string path;
  std::string format;         ///< "keras2-h5", "keras2-weights+json", "keras3-legacy-h5", "keras3-zip", "grindstone"
  std::string keras_version;  ///< as recorded in the file, "" if unknown
  std::string backend;
};

struct Model {
  std::string name;
  std::vector<Layer> layers;  ///< topologically ordered (validate() checks it)
  int output = -1;            ///< index of the output layer
  ModelSource source;

  /// True when every layer reads only the layer stored just before it (a Sequential-like chain).
  bool is_chain() const;
  /// Index of the (single) InputLayer.
  int input_index() const;
  const Shape& input_shape() const { return layers.at(static_cast<std::size_t>(input_index())).output_shape; }
  const Shape& output_shape() const { return layers.at(static_cast<std::size_t>(output)).output_shape; }
  int find(const std::string& layer_name) const;  ///< −1 if absent
  std::int64_t param_count() const;

  /// Checks the graph (Boost.Graph): acyclic, layers in topological order, one input, all
  /// layers reach the output, weight shapes consistent with output shapes, no NaN/Inf weights.
  /// Throws InputError naming the layer and field.
  void validate() const;
};

/// Output shape of `layer` given its input shapes; throws InputError naming the layer and field
/// when the input does not fit (used by importers and by Model::validate).
Shape infer_output_shape(const Layer& layer, const std::vector<Shape>& input_shapes);

}  // namespace grindstone::ann
