#include "converter/sharpen/layers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "common/random.hpp"

namespace grindstone::sharpen {

namespace {

using Index = Eigen::Index;

/// Rows per block of a batch GEMM and columns per block of a weight-gradient GEMM. Fixed sizes,
/// independent of the thread count, so every block is computed identically whatever thread runs it.
constexpr Index kRowBlock = 32;
constexpr Index kColumnBlock = 16;

/// Calls body(first, count) for consecutive blocks of `block` items covering [0, n), in parallel.
template <class Body>
void for_each_block(Index n, Index block, const Body& body) {
  if (n <= 0) return;
  const Index blocks = (n + block - 1) / block;
  parallel_for_collected(Index{0}, blocks, [&](Index b) {
    const Index first = b * block;
    body(first, std::min(block, n - first));
  });
}

using PixelMap = Eigen::Map<Batch>;
using ConstPixelMap = Eigen::Map<const Batch>;

/// Keras 'same' padding: total = max((out−1)·stride + window − in, 0), the smaller half before.
int same_padding_before(int in, int window, int stride, int out) {
  const int total = std::max((out - 1) * stride + window - in, 0);
  return total / 2;
}

int output_length(int in, int window, int stride, ann::Padding padding, const std::string& context) {
  if (padding == ann::Padding::Same) return (in + stride - 1) / stride;
  require_input(in >= window, context, "window " + std::to_string(window) + " larger than input " + std::to_string(in));
  return (in - window) / stride + 1;
}

void require_image_shape(const Shape& s, const std::string& name) {
  require_input(s.rank() == 3, "layer '" + name + "'", "input_shape: expected (height, width, channels), got " + s.to_string());
}

}  // namespace

void glorot_uniform(ann::Matrix& m, std::int64_t fan_in, std::int64_t fan_out, std::uint64_t seed,
                    std::uint64_t stream) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < m.cols(); ++c) {
      const auto counter = static_cast<std::uint64_t>(r * m.cols() + c);
      m(r, c) = static_cast<float>((2.0 * random_uniform(seed, stream, counter) - 1.0) * limit);
    }
}

// ---------------------------------------------------------------------------------------------- Dense

DenseLayer::DenseLayer(std::string name, std::int64_t inputs, std::int64_t units)
    : TrainableLayer(std::move(name), Shape{inputs}, Shape{units}),
      kernel(ann::Matrix::Zero(inputs, units)),
      kernel_grad(ann::Matrix::Zero(inputs, units)),
      bias(ann::Vector::Zero(units)),
      bias_grad(ann::Vector::Zero(units)) {}

void DenseLayer::forward(const Batch& in, Batch& out, const StepContext&) {
  out.resize(in.rows(), kernel.cols());
  for_each_block(in.rows(), kRowBlock, [&](Index first, Index count) {
    out.middleRows(first, count).noalias() = in.middleRows(first, count) * kernel;
    out.middleRows(first, count).rowwise() += bias.transpose();
  });
}

void DenseLayer::backward(const Batch& in, const Batch&, const Batch& grad_out, Batch* grad_in) {
  for_each_block(kernel.cols(), kColumnBlock, [&](Index first, Index count) {
    kernel_grad.middleCols(first, count).noalias() = in.transpose() * grad_out.middleCols(first, count);
  });
  bias_grad = grad_out.colwise().sum().transpose();
  if (grad_in) {
    grad_in->resize(in.rows(), in.cols());
    for_each_block(in.rows(), kRowBlock, [&](Index first, Index count) {
      grad_in->middleRows(first, count).noalias() = grad_out.middleRows(first, count) * kernel.transpose();
    });
  }
}

std::vector<Parameter> DenseLayer::parameters() {
  return {{"kernel", kernel.data(), kernel.size(), kernel_grad.data()},
          {"bias", bias.data(), bias.size(), bias_grad.data()}};
}

ann::LayerParams DenseLayer::to_ann() const { return ann::Dense{kernel, bias, true}; }

// --------------------------------------------------------------------------------------------- Conv2D

Conv2DLayer::Conv2DLayer(std::string name, const Shape& input_shape, int filters, int kernel_h, int kernel_w,
                         int stride, ann::Padding padding)
    : TrainableLayer(name, input_shape, Shape{}),
      kernel_h_(kernel_h), kernel_w_(kernel_w), stride_(stride), padding_(padding) {
  require_image_shape(input_shape, name);
  const std::string context = "layer '" + name + "'";
  require_input(filters > 0 && kernel_h > 0 && kernel_w > 0 && stride > 0, context,
                "filters, kernel size and stride must be positive");
  in_h_ = static_cast<int>(input_shape[0]);
  in_w_ = static_cast<int>(input_shape[1]);
  in_c_ = static_cast<int>(input_shape[2]);
  out_h_ = output_length(in_h_, kernel_h, stride, padding, context);
  out_w_ = output_length(in_w_, kernel_w, stride, padding, context);
  pad_top_ = padding == ann::Padding::Same ? same_padding_before(in_h_, kernel_h, stride, out_h_) : 0;
  pad_left_ = padding == ann::Padding::Same ? same_padding_before(in_w_, kernel_w, stride, out_w_) : 0;
  const Index rows = static_cast<Index>(kernel_h) * kernel_w * in_c_;
  kernel = ann::Matrix::Zero(rows, filters);
  kernel_grad = ann::Matrix::Zero(rows, filters);
  bias = ann::Vector::Zero(filters);
  bias_grad = ann::Vector::Zero(filters);
  set_output_shape(Shape{out_h_, out_w_, filters});
}

void Conv2DLayer::forward(const Batch& in, Batch& out, const StepContext&) {
  const Index batch = in.rows();
  const Index positions = static_cast<Index>(out_h_) * out_w_;
  const Index patch = kernel.rows();
  patches_.resize(batch * positions, patch);
  // im2col, one sample per task; padded positions are zeros.
  for_each_block(batch, 1, [&](Index sample, Index) {
    const float* image = in.row(sample).data();
    for (int oy = 0; oy < out_h_; ++oy)
      for (int ox = 0; ox < out_w_; ++ox) {
        float* dst = patches_.row(sample * positions + oy * out_w_ + ox).data();
        for (int i = 0; i < kernel_h_; ++i) {
          const int iy = oy * stride_ - pad_top_ + i;
          for (int j = 0; j < kernel_w_; ++j) {
            const int ix = ox * stride_ - pad_left_ + j;
            float* cell = dst + (i * kernel_w_ + j) * in_c_;
            if (iy < 0 || iy >= in_h_ || ix < 0 || ix >= in_w_) {
              std::fill(cell, cell + in_c_, 0.0f);
            } else {
              const float* src = image + (static_cast<Index>(iy) * in_w_ + ix) * in_c_;
              std::copy(src, src + in_c_, cell);
            }
          }
        }
      }
  });
  out.resize(batch, positions * kernel.cols());
  PixelMap pixels(out.data(), batch * positions, kernel.cols());
  for_each_block(batch * positions, positions * 2, [&](Index first, Index count) {
    pixels.middleRows(first, count).noalias() = patches_.middleRows(first, count) * kernel;
    pixels.middleRows(first, count).rowwise() += bias.transpose();
  });
}

void Conv2DLayer::backward(const Batch& in, const Batch&, const Batch& grad_out, Batch* grad_in) {
  const Index batch = in.rows();
  const Index positions = static_cast<Index>(out_h_) * out_w_;
  ConstPixelMap grad_pixels(grad_out.data(), batch * positions, kernel.cols());
  for_each_block(kernel.cols(), kColumnBlock, [&](Index first, Index count) {
    kernel_grad.middleCols(first, count).noalias() = patches_.transpose() * grad_pixels.middleCols(first, count);
  });
  bias_grad = grad_pixels.colwise().sum().transpose();
  if (!grad_in) return;
  grad_in->setZero(batch, in.cols());
  // col2im per sample: the patch gradient of one sample is scattered back serially, so each
  // input element's sum has a fixed order.
  for_each_block(batch, 1, [&](Index sample, Index) {
    const Batch patch_grad = grad_pixels.middleRows(sample * positions, positions) * kernel.transpose();
    float* image = grad_in->row(sample).data();
    for (int oy = 0; oy < out_h_; ++oy)
      for (int ox = 0; ox < out_w_; ++ox) {
        const float* src = patch_grad.row(oy * out_w_ + ox).data();
        for (int i = 0; i < kernel_h_; ++i) {
          const int iy = oy * stride_ - pad_top_ + i;
          if (iy < 0 || iy >= in_h_) continue;
          for (int j = 0; j < kernel_w_; ++j) {
            const int ix = ox * stride_ - pad_left_ + j;
            if (ix < 0 || ix >= in_w_) continue;
            float* dst = image + (static_cast<Index>(iy) * in_w_ + ix) * in_c_;
            const float* cell = src + (i * kernel_w_ + j) * in_c_;
            for (int c = 0; c < in_c_; ++c) dst[c] += cell[c];
          }
        }
      }
  });
}

std::vector<Parameter> Conv2DLayer::parameters() {
  return {{"kernel", kernel.data(), kernel.size(), kernel_grad.data()},
          {"bias", bias.data(), bias.size(), bias_grad.data()}};
}

ann::LayerParams Conv2DLayer::to_ann() const {
  ann::Conv2D c;
  c.kernel_h = kernel_h_;
  c.kernel_w = kernel_w_;
  c.in_channels = in_c_;
  c.filters = static_cast<int>(kernel.cols());
  c.stride_h = c.stride_w = stride_;
  c.padding = padding_;
  c.kernel = kernel;
  c.bias = bias;
  return c;
}

// -------------------------------------------------------------------------------------------- MaxPool

MaxPoolLayer::MaxPoolLayer(std::string name, const Shape& input_shape, int pool, int stride, ann::Padding padding)
    : TrainableLayer(name, input_shape, Shape{}), pool_(pool), stride_(stride), padding_(padding) {
  require_image_shape(input_shape, name);
  const std::string context = "layer '" + name + "'";
  require_input(pool > 0 && stride > 0, context, "pool size and stride must be positive");
  in_h_ = static_cast<int>(input_shape[0]);
  in_w_ = static_cast<int>(input_shape[1]);
  channels_ = static_cast<int>(input_shape[2]);
  out_h_ = output_length(in_h_, pool, stride, padding, context);
  out_w_ = output_length(in_w_, pool, stride, padding, context);
  pad_top_ = padding == ann::Padding::Same ? same_padding_before(in_h_, pool, stride, out_h_) : 0;
  pad_left_ = padding == ann::Padding::Same ? same_padding_before(in_w_, pool, stride, out_w_) : 0;
  set_output_shape(Shape{out_h_, out_w_, channels_});
}

void MaxPoolLayer::forward(const Batch& in, Batch& out, const StepContext&) {
  const Index outputs = static_cast<Index>(out_h_) * out_w_ * channels_;
  out.resize(in.rows(), outputs);
  argmax_.assign(static_cast<std::size_t>(in.rows() * outputs), 0);
  for_each_block(in.rows(), 1, [&](Index sample, Index) {
    const float* image = in.row(sample).data();
    float* dst = out.row(sample).data();
    std::int32_t* arg = argmax_.data() + sample * outputs;
    for (int oy = 0; oy < out_h_; ++oy)
      for (int ox = 0; ox < out_w_; ++ox)
        for (int c = 0; c < channels_; ++c) {
          float best = -std::numeric_limits<float>::infinity();
          std::int32_t best_index = -1;
          for (int i = 0; i < pool_; ++i) {
            const int iy = oy * stride_ - pad_top_ + i;
            if (iy < 0 || iy >= in_h_) continue;
            for (int j = 0; j < pool_; ++j) {
              const int ix = ox * stride_ - pad_left_ + j;
              if (ix < 0 || ix >= in_w_) continue;
              const auto index = static_cast<std::int32_t>((iy * in_w_ + ix) * channels_ + c);
              if (best_index < 0 || image[index] > best) {
                best = image[index];
                best_index = index;
              }
            }
          }
          const Index o = (static_cast<Index>(oy) * out_w_ + ox) * channels_ + c;
          dst[o] = best;
          arg[o] = best_index;
        }
  });
}

void MaxPoolLayer::backward(const Batch& in, const Batch&, const Batch& grad_out, Batch* grad_in) {
  if (!grad_in) return;
  grad_in->setZero(in.rows(), in.cols());
  const Index outputs = grad_out.cols();
  for_each_block(in.rows(), 1, [&](Index sample, Index) {
    const std::int32_t* arg = argmax_.data() + sample * outputs;
    for (Index o = 0; o < outputs; ++o) (*grad_in)(sample, arg[o]) += grad_out(sample, o);
  });
}

ann::LayerParams MaxPoolLayer::to_ann() const {
  ann::Pool2D p;
  p.kind = ann::PoolKind::Max;
  p.pool_h = p.pool_w = pool_;
  p.stride_h = p.stride_w = stride_;
  p.padding = padding_;
  return p;
}

// -------------------------------------------------------------------------------------------- Flatten

FlattenLayer::FlattenLayer(std::string name, const Shape& input_shape)
    : TrainableLayer(std::move(name), input_shape, Shape{input_shape.size()}) {}

void FlattenLayer::forward(const Batch& in, Batch& out, const StepContext&) { out = in; }

void FlattenLayer::backward(const Batch&, const Batch&, const Batch& grad_out, Batch* grad_in) {
  if (grad_in) *grad_in = grad_out;
}

// ---------------------------------------------------------------------------------------- BatchNorm

BatchNormLayer::BatchNormLayer(std::string name, const Shape& shape, float momentum_, float epsilon_)
    : TrainableLayer(std::move(name), shape, shape), momentum(momentum_), epsilon(epsilon_) {
  const Index channels = shape.dims.back();
  gamma = ann::Vector::Ones(channels);
  beta = ann::Vector::Zero(channels);
  moving_mean = ann::Vector::Zero(channels);
  moving_variance = ann::Vector::Ones(channels);
  gamma_grad = ann::Vector::Zero(channels);
  beta_grad = ann::Vector::Zero(channels);
}

void BatchNormLayer::forward(const Batch& in, Batch& out, const StepContext& ctx) {
  const Index channels = gamma.size();
  const Index rows = in.size() / channels;  // samples × pixels
  ConstPixelMap x(in.data(), rows, channels);
  out.resize(in.rows(), in.cols());
  PixelMap y(out.data(), rows, channels);
  if (!ctx.training) {
    const Eigen::RowVectorXf scale =
        (gamma.array() / (moving_variance.array() + epsilon).sqrt()).matrix().transpose();
    const Eigen::RowVectorXf shift = beta.transpose() - moving_mean.transpose().cwiseProduct(scale);
    y.noalias() = x * scale.asDiagonal();
    y.rowwise() += shift;
    return;
  }
  const Eigen::RowVectorXf mean = x.colwise().sum() / static_cast<float>(rows);
  normalised_ = x.rowwise() - mean;
  const Eigen::RowVectorXf variance = normalised_.array().square().colwise().sum().matrix() / static_cast<float>(rows);
  inv_std_ = (variance.array() + epsilon).rsqrt().matrix().transpose();
  normalised_ = normalised_ * inv_std_.asDiagonal();
  y.noalias() = normalised_ * gamma.asDiagonal();
  y.rowwise() += beta.transpose();
  // Keras 2 (TF backend) feeds the moving variance the unbiased estimate n/(n − (1 + ε)).
  const float n = static_cast<float>(rows);
  const float unbias = rows > 1 ? n / (n - (1.0f + epsilon)) : 1.0f;
  moving_mean = moving_mean * momentum + mean.transpose() * (1.0f - momentum);
  moving_variance = moving_variance * momentum + variance.transpose() * (unbias * (1.0f - momentum));
}

void BatchNormLayer::backward(const Batch& in, const Batch&, const Batch& grad_out, Batch* grad_in) {
  const Index channels = gamma.size();
  const Index rows = in.size() / channels;
  ConstPixelMap dy(grad_out.data(), rows, channels);
  beta_grad = dy.colwise().sum().transpose();
  gamma_grad = dy.cwiseProduct(normalised_).colwise().sum().transpose();
  if (!grad_in) return;
  grad_in->resize(in.rows(), in.cols());
  PixelMap dx(grad_in->data(), rows, channels);
  // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))
  const float n = static_cast<float>(rows);
  const Eigen::RowVectorXf mean_dy = beta_grad.transpose() / n;
  const Eigen::RowVectorXf mean_dy_xhat = gamma_grad.transpose() / n;
  dx = dy.rowwise() - mean_dy;
  dx -= normalised_ * mean_dy_xhat.asDiagonal();
  dx = dx * (gamma.cwiseProduct(inv_std_)).asDiagonal();
}

std::vector<Parameter> BatchNormLayer::parameters() {
  return {{"gamma", gamma.data(), gamma.size(), gamma_grad.data()},
          {"beta", beta.data(), beta.size(), beta_grad.data()},
          {"moving_mean", moving_mean.data(), moving_mean.size(), nullptr},
          {"moving_variance", moving_variance.data(), moving_variance.size(), nullptr}};
}

ann::LayerParams BatchNormLayer::to_ann() const {
  return ann::BatchNorm{gamma, beta, moving_mean, moving_variance, epsilon};
}

// -------------------------------------------------------------------------------------------- Dropout

DropoutLayer::DropoutLayer(std::string name, const Shape& shape, float rate_, std::uint64_t stream)
    : TrainableLayer(std::move(name), shape, shape), rate(rate_), stream_(stream) {
  require_input(rate >= 0.0f && rate < 1.0f, "layer '" + this->name() + "'", "rate: must be in [0, 1)");
}

void DropoutLayer::forward(const Batch& in, Batch& out, const StepContext& ctx) {
  if (!ctx.training || rate == 0.0f) {
    out = in;
    mask_.resize(0, 0);
    return;
  }
  mask_.resize(in.rows(), in.cols());
  const float keep_scale = 1.0f / (1.0f - rate);
  const std::uint64_t stream = mix64(stream_ ^ mix64(ctx.step));
  for (Index i = 0; i < mask_.size(); ++i)
    mask_.data()[i] = random_uniform(ctx.seed, stream, static_cast<std::uint64_t>(i)) >= rate ? keep_scale : 0.0f;
  out = in.cwiseProduct(mask_);
}

void DropoutLayer::backward(const Batch&, const Batch&, const Batch& grad_out, Batch* grad_in) {
  if (!grad_in) return;
  *grad_in = mask_.size() == 0 ? grad_out : Batch(grad_out.cwiseProduct(mask_));
}

// --------------------------------------------------------------------------------------- SpikingBRelu

SpikingBReluLayer::SpikingBReluLayer(std::string name, const Shape& shape, float sharpness_)
    : TrainableLayer(std::move(name), shape, shape), sharpness(sharpness_) {}

void SpikingBReluLayer::forward(const Batch& in, Batch& out, const StepContext&) {
  if (sharpness == 1.0f) {
    out = (in.array() >= 0.5f).cast<float>();
    return;
  }
  // Same float32 operation order as Whetstone: (1/(width+λ))·(x − 0.5) + 0.5, then clip.
  const float width = 1.0f - sharpness;
  const float slope = 1.0f / (width + 0.001f);
  out = (slope * (in.array() - 0.5f) + 0.5f).cwiseMax(0.0f).cwiseMin(1.0f);
}

void SpikingBReluLayer::backward(const Batch& in, const Batch&, const Batch& grad_out, Batch* grad_in) {
  if (!grad_in) return;
  if (sharpness == 1.0f) {  // K.switch picks the step, a cast with no gradient
    grad_in->setZero(in.rows(), in.cols());
    return;
  }
  const float width = 1.0f - sharpness;
  const float slope = 1.0f / (width + 0.001f);
  const auto pre = (slope * (in.array() - 0.5f) + 0.5f);
  *grad_in = ((pre >= 0.0f && pre <= 1.0f).cast<float>() * slope * grad_out.array()).matrix();
}

ann::LayerParams SpikingBReluLayer::to_ann() const {
  ann::Activation a;
  a.kind = ann::ActivationKind::SpikingBRelu;
  a.sharpness = sharpness;
  return a;
}

// -------------------------------------------------------------------------------------- SoftmaxDecode

SoftmaxDecodeLayer::SoftmaxDecodeLayer(std::string name, ann::Matrix key_)
    : TrainableLayer(std::move(name), Shape{key_.cols()}, Shape{key_.rows()}), key(std::move(key_)) {
  signed_key_t_ = (2.0f * key.transpose().array() - 1.0f).matrix();
}

void SoftmaxDecodeLayer::forward(const Batch& in, Batch& out, const StepContext&) {
  out.resize(in.rows(), key.rows());
  for_each_block(in.rows(), kRowBlock * 4, [&](Index first, Index count) {
    out.middleRows(first, count).noalias() =
        (2.0f * in.middleRows(first, count).array() - 1.0f).matrix() * signed_key_t_;
  });
}

void SoftmaxDecodeLayer::backward(const Batch& in, const Batch&, const Batch& grad_out, Batch* grad_in) {
  if (!grad_in) return;
  grad_in->resize(in.rows(), in.cols());
  grad_in->noalias() = 2.0f * grad_out * signed_key_t_.transpose();
}

// ------------------------------------------------------------------------------------------------ loss

double softmax_cross_entropy(const Batch& scores, const std::vector<int>& labels, Batch& grad_scores) {
  const Index batch = scores.rows();
  require_input(static_cast<Index>(labels.size()) == batch, "softmax_cross_entropy", "labels: size mismatch");
  constexpr float kEpsilon = 1e-7f;  // Keras's K.epsilon()
  grad_scores.resize(batch, scores.cols());
  double total = 0.0;
  const float inv_batch = 1.0f / static_cast<float>(batch);
  for (Index r = 0; r < batch; ++r) {
    const auto row = scores.row(r).array();
    const Eigen::ArrayXf e = (row - row.maxCoeff()).exp().transpose();
    const Eigen::ArrayXf p = e / e.sum();
    const int y = labels[static_cast<std::size_t>(r)];
    require_input(y >= 0 && y < scores.cols(), "softmax_cross_entropy", "label " + std::to_string(y) + " out of range");
    const float py = p(y);
    const float clipped = std::clamp(py, kEpsilon, 1.0f - kEpsilon);
    total -= std::log(static_cast<double>(clipped));
    if (py >= kEpsilon && py <= 1.0f - kEpsilon) {
      grad_scores.row(r) = (p * inv_batch).matrix().transpose();
      grad_scores(r, y) -= inv_batch;
    } else {
      grad_scores.row(r).setZero();
    }
  }
  return total;
}

}  // namespace grindstone::sharpen
