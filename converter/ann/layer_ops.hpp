#pragma once
// Float kernels of the reference inference, one per layer kind, on a batch of samples
// (one sample per row, each row a channels-last (H, W, C) tensor flattened row-major).
// Keras semantics throughout; ReferenceInference (inference.hpp) chains them.
#include <Eigen/Core>
#include <vector>

#include "converter/ann/model.hpp"

namespace grindstone::ann {

/// One sample per row; a row holds the sample's tensor in row-major (H, W, C) order.
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Padding Keras applies before a window op with padding 'same' along one axis: the total is
/// max((out−1)·stride + (k−1)·dilation + 1 − in, 0) and the smaller half goes first.
struct AxisPadding {
  std::int64_t before = 0, after = 0;
};
AxisPadding same_padding(std::int64_t in, std::int64_t out, int kernel, int stride, int dilation);

/// y = x·kernel + bias along the last axis (rank > 1 inputs apply it at every position).
RowMatrix apply_dense(const Dense& layer, const RowMatrix& in);

/// im2col + one GEMM per group of samples.
RowMatrix apply_conv2d(const Conv2D& layer, const Shape& in_shape, const Shape& out_shape, const RowMatrix& in);

/// Max pooling ignores padding; average pooling averages the in-image elements only (as Keras).
RowMatrix apply_pool2d(const Pool2D& layer, const Shape& in_shape, const Shape& out_shape, const RowMatrix& in);

RowMatrix apply_global_average_pool(const Shape& in_shape, const RowMatrix& in);
RowMatrix apply_global_max_pool(const Shape& in_shape, const RowMatrix& in);

/// Direct loop (each output channel reads one input channel, so there is no GEMM to form).
RowMatrix apply_depthwise_conv2d(const DepthwiseConv2D& layer, const Shape& in_shape, const Shape& out_shape,
                                 const RowMatrix& in);

/// Element-wise merge of `inputs` (all the same size), folded left to right as Keras does.
RowMatrix apply_merge(const Merge& layer, const std::vector<const RowMatrix*>& inputs);

/// Concatenation along `layer.axis` of inputs with shapes `shapes` (per sample, row-major).
RowMatrix apply_concatenate(const Concatenate& layer, const std::vector<Shape>& shapes,
                            const std::vector<const RowMatrix*>& inputs);

/// y = x·scale + offset per last-axis channel (`channels` values per position).
RowMatrix apply_rescale(const Rescale& layer, std::int64_t channels, const RowMatrix& in);
RowMatrix apply_zero_pad(const ZeroPad2D& layer, const Shape& in_shape, const Shape& out_shape, const RowMatrix& in);

/// HWC order is the identity; CHW reorders (H, W, C) to (C, H, W) as Keras flattens channels_first.
RowMatrix apply_flatten(const Flatten& layer, const Shape& in_shape, const RowMatrix& in);

/// Per-channel affine form of inference-time batch norm: y = x·scale + shift with
/// scale = γ/sqrt(var+ε), shift = β − μ·scale.
struct BatchNormAffine {
  Eigen::RowVectorXf scale, shift;
};
BatchNormAffine batch_norm_affine(const BatchNorm& layer);
RowMatrix apply_batch_norm(const BatchNormAffine& affine, const RowMatrix& in);

/// Element-wise activations; Softmax normalises over the last axis (`channels` values).
RowMatrix apply_activation(const Activation& layer, std::int64_t channels, const RowMatrix& in);

/// Scalar forms (shared with the unit tests and other engines that need the exact formula).
float spiking_brelu(float x, float sharpness);
float spiking_sigmoid(float x, float sharpness);
float keras_relu(float x, const Activation& a);

/// Softmax_Decode: scores = (2x − 1)·(2·key − 1)ᵀ, then softmax. `signed_key_t` is (2·key − 1)ᵀ.
RowMatrix apply_softmax_decode(const Matrix& signed_key_t, const RowMatrix& in);

/// Softmax over consecutive groups of `channels` values in each row, in place.
void softmax_in_place(RowMatrix& values, std::int64_t channels);

}  // namespace grindstone::ann
