#pragma once
// Trainable layers of the Whetstone-style sharpening trainer.
//
// A mini-batch is a row-major matrix, one sample per row, features in channels-last (H, W, C)
// order, so Flatten is a copy and a (B, H·W·C) batch is also a (B·H·W, C) matrix of pixels.
//
// Determinism: every parallel loop splits its work into blocks whose boundaries depend only on
// the problem size (never on the thread count), and no block's result depends on another's, so
// the same inputs give bit-identical outputs with any number of threads. Weight gradients are
// split over output columns (each column is one independent GEMM), not over samples, so no
// cross-thread reduction is needed; the few column sums (biases, batch-norm statistics) are
// computed serially in sample order.
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/shape.hpp"
#include "converter/ann/model.hpp"

namespace grindstone::sharpen {

/// A mini-batch: one sample per row, features channels-last.
using Batch = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A tensor of a layer seen as a flat float array, for the optimisers and the file writer.
struct Parameter {
  std::string name;          ///< Keras weight name without the layer prefix: "kernel", "gamma", …
  float* value = nullptr;
  Eigen::Index size = 0;
  float* gradient = nullptr;  ///< nullptr for non-trainable state (moving statistics)
};

/// What a forward pass needs besides its input.
struct StepContext {
  bool training = false;     ///< batch statistics for BatchNorm, dropout active
  std::uint64_t seed = 0;    ///< dropout masks come from (seed, layer, step, element)
  std::uint64_t step = 0;    ///< optimiser step number
};

class TrainableLayer {
 public:
  TrainableLayer(std::string name, Shape input_shape, Shape output_shape)
      : name_(std::move(name)), input_shape_(std::move(input_shape)), output_shape_(std::move(output_shape)) {}
  virtual ~TrainableLayer() = default;
  TrainableLayer(const TrainableLayer&) = delete;
  TrainableLayer& operator=(const TrainableLayer&) = delete;

  const std::string& name() const { return name_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }
  /// The Keras class this layer is saved as ("Dense", "Spiking_BRelu", …).
  virtual std::string keras_class() const = 0;

  /// out = f(in); may cache what backward needs (so backward must follow the forward of the same batch).
  virtual void forward(const Batch& in, Batch& out, const StepContext& ctx) = 0;
  /// From dL/d(out): overwrites the parameter gradients and, if grad_in is non-null, writes dL/d(in).
  virtual void backward(const Batch& in, const Batch& out, const Batch& grad_out, Batch* grad_in) = 0;
  /// Weights in Keras's order (kernel, bias; gamma, beta, moving_mean, moving_variance).
  virtual std::vector<Parameter> parameters() { return {}; }
  /// The inference-time ANN-IR form of this layer.
  virtual ann::LayerParams to_ann() const = 0;

 protected:
  /// For layers whose output shape is only known after validating their parameters.
  void set_output_shape(Shape shape) { output_shape_ = std::move(shape); }

 private:
  std::string name_;
  Shape input_shape_, output_shape_;
};

/// Fully connected: out = in·kernel + bias; kernel (in, units) as Keras stores it.
class DenseLayer final : public TrainableLayer {
 public:
  DenseLayer(std::string name, std::int64_t inputs, std::int64_t units);
  std::string keras_class() const override { return "Dense"; }
  void forward(const Batch& in, Batch& out, const StepContext& ctx) override;
  void backward(const Batch& in, const Batch& out, const Batch& grad_out, Batch* grad_in) override;
  std::vector<Parameter> parameters() override;
  ann::LayerParams to_ann() const override;

  ann::Matrix kernel, kernel_grad;
  ann::Vector bias, bias_grad;
};

/// 2-D convolution, channels-last, via im2col + GEMM. Kernel rows (i·kw + j)·cin + c as in ann::Conv2D.
class Conv2DLayer final : public TrainableLayer {
 public:
  Conv2DLayer(std::string name, const Shape& input_shape, int filters, int kernel_h, int kernel_w, int stride,
              ann::Padding padding);
  std::string keras_class() const override { return "Conv2D"; }
  void forward(const Batch& in, Batch& out, const StepContext& ctx) override;
  void backward(const Batch& in, const Batch& out, const Batch& grad_out, Batch* grad_in) override;
  std::vector<Parameter> parameters() override;
  ann::LayerParams to_ann() const override;

  ann::Matrix kernel, kernel_grad;  ///< (kh·kw·cin, filters)
  ann::Vector bias, bias_grad;

 private:
  int kernel_h_, kernel_w_, stride_, in_h_, in_w_, in_c_, out_h_, out_w_, pad_top_, pad_left_;
  ann::Padding padding_;
  Batch patches_;  ///< (B·out_h·out_w, kh·kw·cin), cached by forward for the kernel gradient
};

/// Max pooling, channels-last; the gradient goes to the first maximum of each window.
class MaxPoolLayer final : public TrainableLayer {
 public:
  MaxPoolLayer(std::string name, const Shape& input_shape, int pool, int stride, ann::Padding padding);
  std::string keras_class() const override { return "MaxPooling2D"; }
  void forward(const Batch& in, Batch& out, const StepContext& ctx) override;
  void backward(const Batch& in, const Batch& out, const Batch& grad_out, Batch* grad_in) override;
  ann::LayerParams to_ann() const override;

 private:
  int pool_, stride_, in_h_, in_w_, channels_, out_h_, out_w_, pad_top_, pad_left_;
  ann::Padding padding_;
  std::vector<std::int32_t> argmax_;  ///< per output element: index of the winning input feature
};

/// Flatten (H, W, C) → (H·W·C), HWC order: a copy in our layout.
class FlattenLayer final : public TrainableLayer {
 public:
  FlattenLayer(std::string name, const Shape& input_shape);
  std::string keras_class() const override { return "Flatten"; }
  void forward(const Batch& in, Batch& out, const StepContext& ctx) override;
  void backward(const Batch& in, const Batch& out, const Batch& grad_out, Batch* grad_in) override;
  ann::LayerParams to_ann() const override { return ann::Flatten{}; }
};

/// Keras BatchNormalization over the last axis. Training: batch mean and biased variance normalise;
/// the moving averages take the unbiased variance (Keras 2 TF backend), with `momentum`.
class BatchNormLayer final : public TrainableLayer {
 public:
  BatchNormLayer(std::string name, const Shape& shape, float momentum = 0.99f, float epsilon = 1e-3f);
  std::string keras_class() const override { return "BatchNormalization"; }
  void forward(const Batch& in, Batch& out, const StepContext& ctx) override;
  void backward(const Batch& in, const Batch& out, const Batch& grad_out, Batch* grad_in) override;
  std::vector<Parameter> parameters() override;
  ann::LayerParams to_ann() const override;

  ann::Vector gamma, beta, moving_mean, moving_variance;
  ann::Vector gamma_grad, beta_grad;
  float momentum, epsilon;

 private:
  Batch normalised_;       ///< x̂ of the last training forward
  ann::Vector inv_std_;    ///< 1/sqrt(batch var + eps) of the last training forward
};

/// Inverted dropout: at training time zeroes each element with probability `rate` and scales the
/// rest by 1/(1−rate); identity at inference. Masks are counter-based (seed, layer, step, element).
class DropoutLayer final : public TrainableLayer {
 public:
  DropoutLayer(std::string name, const Shape& shape, float rate, std::uint64_t stream);
  std::string keras_class() const override { return "Dropout"; }
  void forward(const Batch& in, Batch& out, const StepContext& ctx) override;
  void backward(const Batch& in, const Batch& out, const Batch& grad_out, Batch* grad_in) override;
  ann::LayerParams to_ann() const override { return ann::Identity{}; }
  float rate;

 private:
  std::uint64_t stream_;
  Batch mask_;  ///< 0 or 1/(1−rate) per element of the last training forward
};

/// Whetstone's Spiking_BRelu: y = clip((x−0.5)/(1−s+0.001)+0.5, 0, 1); y = [x ≥ 0.5] at s = 1 exactly.
/// Gradient as Keras/TF computes it: slope 1/(1−s+0.001) where the clip is inactive (boundaries
/// included, as tf.clip_by_value's gradient), 0 outside, and 0 at s = 1 (the step is a cast).
class SpikingBReluLayer final : public TrainableLayer {
 public:
  SpikingBReluLayer(std::string name, const Shape& shape, float sharpness = 0.0f);
  std::string keras_class() const override { return "Spiking_BRelu"; }
  void forward(const Batch& in, Batch& out, const StepContext& ctx) override;
  void backward(const Batch& in, const Batch& out, const Batch& grad_out, Batch* grad_in) override;
  ann::LayerParams to_ann() const override;

  float sharpness;
};

/// Whetstone's Softmax_Decode without the softmax: outputs the class scores
/// Σ_j (2x_j − 1)(2·key[c][j] − 1). The softmax is applied by the loss (softmax_cross_entropy),
/// so the arg-max of this layer's output is the predicted class.
class SoftmaxDecodeLayer final : public TrainableLayer {
 public:
  SoftmaxDecodeLayer(std::string name, ann::Matrix key);
  std::string keras_class() const override { return "Softmax_Decode"; }
  void forward(const Batch& in, Batch& out, const StepContext& ctx) override;
  void backward(const Batch& in, const Batch& out, const Batch& grad_out, Batch* grad_in) override;
  ann::LayerParams to_ann() const override { return ann::SoftmaxDecode{key}; }

  ann::Matrix key;  ///< (classes, width), 0/1

 private:
  ann::Matrix signed_key_t_;  ///< (width, classes): 2·keyᵀ − 1
};

/// Keras categorical cross-entropy on softmax(scores): probabilities are clipped to
/// [1e-7, 1 − 1e-7] as Keras does, so a sample whose true-class probability lies outside that
/// range contributes the clipped loss and a zero gradient. Returns the summed loss over the batch;
/// `grad_scores` receives d(mean loss)/d(scores).
double softmax_cross_entropy(const Batch& scores, const std::vector<int>& labels, Batch& grad_scores);

/// Glorot-uniform initialisation, limit sqrt(6/(fan_in+fan_out)), from (seed, stream).
void glorot_uniform(ann::Matrix& m, std::int64_t fan_in, std::int64_t fan_out, std::uint64_t seed,
                    std::uint64_t stream);

}  // namespace grindstone::sharpen
