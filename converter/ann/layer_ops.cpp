#include "converter/ann/layer_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace grindstone::ann {

namespace {

using Index = Eigen::Index;

/// Rows of one im2col GEMM: large enough to keep the GEMM efficient, small enough to keep the
/// patch matrix in cache-friendly sizes. Fixed (not thread-dependent) so results are reproducible.
constexpr Index kIm2colTargetRows = 4096;

}  // namespace

AxisPadding same_padding(std::int64_t in, std::int64_t out, int kernel, int stride, int dilation) {
  const std::int64_t needed = (out - 1) * stride + static_cast<std::int64_t>(kernel - 1) * dilation + 1;
  const std::int64_t total = std::max<std::int64_t>(needed - in, 0);
  return {total / 2, total - total / 2};
}

RowMatrix apply_dense(const Dense& layer, const RowMatrix& in) {
  const Index units = layer.kernel.cols();
  const Index features = layer.kernel.rows();
  const Index positions = in.cols() / features;  // 1 for flat inputs
  RowMatrix out(in.rows(), positions * units);
  // A row-major (B, P·in) block is the same memory as a row-major (B·P, in) matrix.
  Eigen::Map<const RowMatrix> x(in.data(), in.rows() * positions, features);
  Eigen::Map<RowMatrix> y(out.data(), in.rows() * positions, units);
  y.noalias() = x * layer.kernel;
  y.rowwise() += layer.bias.transpose();
  return out;
}

RowMatrix apply_conv2d(const Conv2D& c, const Shape& in_shape, const Shape& out_shape, const RowMatrix& in) {
  const Index H = in_shape[0], W = in_shape[1], C = in_shape[2];
  const Index OH = out_shape[0], OW = out_shape[1], F = c.filters;
  AxisPadding pad_h, pad_w;
  if (c.padding == Padding::Same) {
    pad_h = same_padding(H, OH, c.kernel_h, c.stride_h, c.dilation_h);
    pad_w = same_padding(W, OW, c.kernel_w, c.stride_w, c.dilation_w);
  }
  const Index patch = static_cast<Index>(c.kernel_h) * c.kernel_w * C;
  const Index kernel_row = static_cast<Index>(c.kernel_w) * C;
  const Index positions = OH * OW;
  const Index batch = in.rows();
  RowMatrix out(batch, positions * F);
  const Index group = std::max<Index>(1, kIm2colTargetRows / std::max<Index>(positions, 1));
  RowMatrix patches(std::min(group, batch) * positions, patch);
  for (Index first = 0; first < batch; first += group) {
    const Index count = std::min(group, batch - first);
    const Index rows = count * positions;
    Eigen::Map<RowMatrix> cols(patches.data(), rows, patch);
    for (Index b = 0; b < count; ++b) {
      const float* src = in.row(first + b).data();
      for (Index oh = 0; oh < OH; ++oh) {
        for (Index ow = 0; ow < OW; ++ow) {
          float* dst = cols.row((b * OH + oh) * OW + ow).data();
          const Index iw0 = ow * c.stride_w - pad_w.before;
          const bool row_inside = c.dilation_w == 1 && iw0 >= 0 && iw0 + c.kernel_w <= W;
          for (int i = 0; i < c.kernel_h; ++i) {
            const Index ih = oh * c.stride_h - pad_h.before + static_cast<Index>(i) * c.dilation_h;
            if (ih < 0 || ih >= H) {
              std::fill(dst, dst + kernel_row, 0.0f);
              dst += kernel_row;
            } else if (row_inside) {
              // The kernel row's kw·C inputs are contiguous: one copy (a plain loop, as the
              // segments are short and a memcpy call would dominate).
              const float* s = src + (ih * W + iw0) * C;
              for (Index k = 0; k < kernel_row; ++k) dst[k] = s[k];
              dst += kernel_row;
            } else {
              for (int j = 0; j < c.kernel_w; ++j, dst += C) {
                const Index iw = iw0 + static_cast<Index>(j) * c.dilation_w;
                if (iw < 0 || iw >= W) {
                  std::fill(dst, dst + C, 0.0f);
                } else {
                  const float* s = src + (ih * W + iw) * C;
                  for (Index k = 0; k < C; ++k) dst[k] = s[k];
                }
              }
            }
          }
        }
      }
    }
    Eigen::Map<RowMatrix> y(out.row(first).data(), rows, F);
    y.noalias() = cols * c.kernel;
    y.rowwise() += c.bias.transpose();
  }
  return out;
}

RowMatrix apply_pool2d(const Pool2D& p, const Shape& in_shape, const Shape& out_shape, const RowMatrix& in) {
  const Index H = in_shape[0], W = in_shape[1], C = in_shape[2];
  const Index OH = out_shape[0], OW = out_shape[1];
  AxisPadding pad_h, pad_w;
  if (p.padding == Padding::Same) {
    pad_h = same_padding(H, OH, p.pool_h, p.stride_h, 1);
    pad_w = same_padding(W, OW, p.pool_w, p.stride_w, 1);
  }
  RowMatrix out(in.rows(), OH * OW * C);
  std::vector<float> acc(static_cast<std::size_t>(C));
  const bool is_max = p.kind == PoolKind::Max;
  for (Index b = 0; b < in.rows(); ++b) {
    const float* src = in.row(b).data();
    float* dst = out.row(b).data();
    for (Index oh = 0; oh < OH; ++oh) {
      const Index h0 = std::max<Index>(oh * p.stride_h - pad_h.before, 0);
      const Index h1 = std::min<Index>(oh * p.stride_h - pad_h.before + p.pool_h, H);
      for (Index ow = 0; ow < OW; ++ow) {
        const Index w0 = std::max<Index>(ow * p.stride_w - pad_w.before, 0);
        const Index w1 = std::min<Index>(ow * p.stride_w - pad_w.before + p.pool_w, W);
        std::fill(acc.begin(), acc.end(), is_max ? -std::numeric_limits<float>::infinity() : 0.0f);
        for (Index h = h0; h < h1; ++h) {
          for (Index w = w0; w < w1; ++w) {
            const float* v = src + (h * W + w) * C;
            if (is_max) {
              for (Index ch = 0; ch < C; ++ch) acc[static_cast<std::size_t>(ch)] = std::max(acc[static_cast<std::size_t>(ch)], v[ch]);
            } else {
              for (Index ch = 0; ch < C; ++ch) acc[static_cast<std::size_t>(ch)] += v[ch];
            }
          }
        }
        // Keras averages over the in-image elements only (padding excluded).
        const float inv = is_max ? 1.0f : 1.0f / static_cast<float>((h1 - h0) * (w1 - w0));
        float* o = dst + (oh * OW + ow) * C;
        for (Index ch = 0; ch < C; ++ch) o[ch] = acc[static_cast<std::size_t>(ch)] * inv;
      }
    }
  }
  return out;
}

RowMatrix apply_global_average_pool(const Shape& in_shape, const RowMatrix& in) {
  const Index positions = in_shape[0] * in_shape[1], C = in_shape[2];
  RowMatrix out(in.rows(), C);
  for (Index b = 0; b < in.rows(); ++b) {
    Eigen::Map<const RowMatrix> x(in.row(b).data(), positions, C);
    out.row(b) = x.colwise().sum() / static_cast<float>(positions);
  }
  return out;
}

RowMatrix apply_global_max_pool(const Shape& in_shape, const RowMatrix& in) {
  const Index positions = in_shape[0] * in_shape[1], C = in_shape[2];
  RowMatrix out(in.rows(), C);
  for (Index b = 0; b < in.rows(); ++b) {
    Eigen::Map<const RowMatrix> x(in.row(b).data(), positions, C);
    out.row(b) = x.colwise().maxCoeff();
  }
  return out;
}

RowMatrix apply_depthwise_conv2d(const DepthwiseConv2D& c, const Shape& in_shape, const Shape& out_shape,
                                 const RowMatrix& in) {
  const Index H = in_shape[0], W = in_shape[1], C = in_shape[2];
  const Index OH = out_shape[0], OW = out_shape[1], M = c.depth_multiplier, F = C * M;
  AxisPadding pad_h, pad_w;
  if (c.padding == Padding::Same) {
    pad_h = same_padding(H, OH, c.kernel_h, c.stride_h, c.dilation_h);
    pad_w = same_padding(W, OW, c.kernel_w, c.stride_w, c.dilation_w);
  }
  // Row-major copy so the inner loop over output channels reads contiguous weights.
  const RowMatrix kernel = c.kernel;
  RowMatrix out(in.rows(), OH * OW * F);
  for (Index b = 0; b < in.rows(); ++b) {
    const float* src = in.row(b).data();
    for (Index oh = 0; oh < OH; ++oh) {
      for (Index ow = 0; ow < OW; ++ow) {
        float* o = out.row(b).data() + (oh * OW + ow) * F;
        for (Index f = 0; f < F; ++f) o[f] = 0.0f;
        for (int i = 0; i < c.kernel_h; ++i) {
          const Index ih = oh * c.stride_h - pad_h.before + static_cast<Index>(i) * c.dilation_h;
          if (ih < 0 || ih >= H) continue;
          for (int j = 0; j < c.kernel_w; ++j) {
            const Index iw = ow * c.stride_w - pad_w.before + static_cast<Index>(j) * c.dilation_w;
            if (iw < 0 || iw >= W) continue;
            const float* x = src + (ih * W + iw) * C;
            const float* k = kernel.row(static_cast<Index>(i) * c.kernel_w + j).data();
            for (Index ch = 0; ch < C; ++ch)
              for (Index m = 0; m < M; ++m) o[ch * M + m] += x[ch] * k[ch * M + m];
          }
        }
        for (Index f = 0; f < F; ++f) o[f] += c.bias(f);
      }
    }
  }
  return out;
}

RowMatrix apply_merge(const Merge& layer, const std::vector<const RowMatrix*>& inputs) {
  RowMatrix out = *inputs.front();
  for (std::size_t k = 1; k < inputs.size(); ++k) {
    const auto x = inputs[k]->array();
    switch (layer.kind) {
      case MergeKind::Add:
      case MergeKind::Average: out.array() += x; break;
      case MergeKind::Subtract: out.array() -= x; break;
      case MergeKind::Multiply: out.array() *= x; break;
      case MergeKind::Maximum: out.array() = out.array().max(x); break;
      case MergeKind::Minimum: out.array() = out.array().min(x); break;
    }
  }
  if (layer.kind == MergeKind::Average) out.array() /= static_cast<float>(inputs.size());
  return out;
}

RowMatrix apply_concatenate(const Concatenate& layer, const std::vector<Shape>& shapes,
                            const std::vector<const RowMatrix*>& inputs) {
  // Row-major per sample: the axes before `axis` form `outer` blocks; each input contributes a
  // contiguous run of (its axis length × the later axes) values to every block.
  const auto axis = static_cast<std::size_t>(layer.axis);
  Index outer = 1;
  for (std::size_t a = 0; a < axis; ++a) outer *= shapes.front()[a];
  std::vector<Index> run(inputs.size());
  Index total = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    run[k] = shapes[k].size() / outer;
    total += run[k];
  }
  RowMatrix out(inputs.front()->rows(), outer * total);
  for (Index b = 0; b < out.rows(); ++b) {
    float* dst = out.row(b).data();
    for (Index o = 0; o < outer; ++o)
      for (std::size_t k = 0; k < inputs.size(); ++k) {
        const float* src = inputs[k]->row(b).data() + o * run[k];
        dst = std::copy(src, src + run[k], dst);
      }
  }
  return out;
}

RowMatrix apply_rescale(const Rescale& layer, std::int64_t channels, const RowMatrix& in) {
  const Eigen::RowVectorXf scale = layer.scale.size() == 1 ? Eigen::RowVectorXf::Constant(channels, layer.scale(0))
                                                           : Eigen::RowVectorXf(layer.scale.transpose());
  const Eigen::RowVectorXf offset = layer.offset.size() == 1 ? Eigen::RowVectorXf::Constant(channels, layer.offset(0))
                                                             : Eigen::RowVectorXf(layer.offset.transpose());
  RowMatrix out(in.rows(), in.cols());
  Eigen::Map<const RowMatrix> x(in.data(), in.size() / channels, channels);
  Eigen::Map<RowMatrix> y(out.data(), in.size() / channels, channels);
  y = (x.array().rowwise() * scale.array()).rowwise() + offset.array();
  return out;
}

RowMatrix apply_zero_pad(const ZeroPad2D& z, const Shape& in_shape, const Shape& out_shape, const RowMatrix& in) {
  const Index H = in_shape[0], W = in_shape[1], C = in_shape[2];
  const Index OW = out_shape[1];
  RowMatrix out = RowMatrix::Zero(in.rows(), out_shape.size());
  for (Index b = 0; b < in.rows(); ++b)
    for (Index h = 0; h < H; ++h)
      std::memcpy(out.row(b).data() + ((h + z.top) * OW + z.left) * C, in.row(b).data() + h * W * C,
                  static_cast<std::size_t>(W * C) * sizeof(float));
  return out;
}

RowMatrix apply_flatten(const Flatten& f, const Shape& in_shape, const RowMatrix& in) {
  if (f.order == Flatten::Order::HWC) return in;
  const Index H = in_shape[0], W = in_shape[1], C = in_shape[2];
  RowMatrix out(in.rows(), in.cols());
  for (Index b = 0; b < in.rows(); ++b) {
    const float* src = in.row(b).data();
    float* dst = out.row(b).data();
    for (Index h = 0; h < H; ++h)
      for (Index w = 0; w < W; ++w)
        for (Index ch = 0; ch < C; ++ch) dst[(ch * H + h) * W + w] = src[(h * W + w) * C + ch];
  }
  return out;
}

BatchNormAffine batch_norm_affine(const BatchNorm& layer) {
  BatchNormAffine a;
  a.scale = (layer.gamma.array() / (layer.moving_variance.array() + layer.epsilon).sqrt()).matrix().transpose();
  a.shift = layer.beta.transpose() - layer.moving_mean.transpose().cwiseProduct(a.scale);
  return a;
}

RowMatrix apply_batch_norm(const BatchNormAffine& affine, const RowMatrix& in) {
  const Index C = affine.scale.size();
  RowMatrix out(in.rows(), in.cols());
  Eigen::Map<const RowMatrix> x(in.data(), in.size() / C, C);
  Eigen::Map<RowMatrix> y(out.data(), in.size() / C, C);
  y = (x.array().rowwise() * affine.scale.array()).rowwise() + affine.shift.array();
  return out;
}

float spiking_brelu(float x, float sharpness) {
  if (sharpness >= 1.0f) return x >= 0.5f ? 1.0f : 0.0f;
  return std::clamp((x - 0.5f) / (1.0f - sharpness + 0.001f) + 0.5f, 0.0f, 1.0f);
}

float spiking_sigmoid(float x, float sharpness) {
  if (sharpness >= 1.0f) return x >= 0.0f ? 1.0f : 0.0f;
  const float k = 4.0f * std::log(2.0f + std::sqrt(3.0f)) / (1.0f - sharpness + 0.001f);
  return 1.0f / (1.0f + std::exp(std::clamp(-x * k, -40.0f, 40.0f)));
}

float keras_relu(float x, const Activation& a) {
  // Keras's relu(x, negative_slope, max_value, threshold).
  if (a.relu_max_value && x >= *a.relu_max_value) return *a.relu_max_value;
  if (x >= a.relu_threshold) return x;
  return a.relu_negative_slope * (x - a.relu_threshold);
}

void softmax_in_place(RowMatrix& values, std::int64_t channels) {
  Eigen::Map<RowMatrix> v(values.data(), values.size() / channels, channels);
  for (Index r = 0; r < v.rows(); ++r) {
    auto row = v.row(r);
    const float m = row.maxCoeff();
    row = (row.array() - m).exp();
    row /= row.sum();
  }
}

RowMatrix apply_activation(const Activation& a, std::int64_t channels, const RowMatrix& in) {
  RowMatrix out(in.rows(), in.cols());
  auto x = in.array();
  auto y = out.array();
  switch (a.kind) {
    case ActivationKind::Linear:
      return in;
    case ActivationKind::ReLU:
      if (!a.relu_max_value && a.relu_threshold == 0.0f && a.relu_negative_slope == 0.0f) {
        y = x.max(0.0f);
      } else {
        y = x.unaryExpr([&a](float v) { return keras_relu(v, a); });
      }
      return out;
    case ActivationKind::Sigmoid:
      y = 1.0f / (1.0f + (-x).exp());
      return out;
    case ActivationKind::Tanh:
      y = x.tanh();
      return out;
    case ActivationKind::Softmax:
      out = in;
      softmax_in_place(out, channels);
      return out;
    case ActivationKind::SpikingBRelu: {
      const float s = a.sharpness;
      y = x.unaryExpr([s](float v) { return spiking_brelu(v, s); });
      return out;
    }
    case ActivationKind::SpikingSigmoid: {
      const float s = a.sharpness;
      y = x.unaryExpr([s](float v) { return spiking_sigmoid(v, s); });
      return out;
    }
  }
  return in;
}

RowMatrix apply_softmax_decode(const Matrix& signed_key_t, const RowMatrix& in) {
  RowMatrix signed_in = (2.0f * in.array() - 1.0f).matrix();
  RowMatrix out(in.rows(), signed_key_t.cols());
  out.noalias() = signed_in * signed_key_t;
  softmax_in_place(out, out.cols());
  return out;
}

}  // namespace grindstone::ann
