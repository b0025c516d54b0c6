#include "converter/passes/ann_passes.hpp"

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "converter/ann/layer_ops.hpp"

namespace grindstone::passes {

namespace {

std::string layer_context(const ann::Layer& layer) { return "layer '" + layer.name + "'"; }

/// Indices of the layers reading layer `index`.
std::vector<int> readers(const ann::Model& model, int index) {
  std::vector<int> out;
  for (std::size_t i = 0; i < model.layers.size(); ++i)
    for (int in : model.layers[i].inputs)
      if (in == index) out.push_back(static_cast<int>(i));
  return out;
}

bool is_linear_activation(const ann::Layer& layer) {
  return layer.is<ann::Activation>() && layer.as<ann::Activation>().kind == ann::ActivationKind::Linear;
}

}  // namespace

void remove_layer(ann::Model& model, int index) {
  auto& layers = model.layers;
  const auto& removed = layers.at(static_cast<std::size_t>(index));
  require_input(removed.inputs.size() == 1, layer_context(removed),
                "inputs: cannot remove a layer with " + std::to_string(removed.inputs.size()) + " inputs");
  const int replacement = removed.inputs[0];
  layers.erase(layers.begin() + index);
  auto remap = [&](int i) { return i == index ? replacement : (i > index ? i - 1 : i); };
  for (auto& layer : layers)
    for (int& in : layer.inputs) in = remap(in);
  model.output = remap(model.output);
}

int drop_identities(ann::Model& model) {
  int dropped = 0;
  for (int i = static_cast<int>(model.layers.size()) - 1; i >= 0; --i) {
    const auto& layer = model.layers[static_cast<std::size_t>(i)];
    if (layer.is<ann::Identity>() || is_linear_activation(layer)) {
      remove_layer(model, i);
      ++dropped;
    }
  }
  return dropped;
}

int fold_batch_norm(ann::Model& model) {
  int folded = 0;
  for (int i = 0; i < static_cast<int>(model.layers.size()); ++i) {
    auto& bn_layer = model.layers[static_cast<std::size_t>(i)];
    if (!bn_layer.is<ann::BatchNorm>()) continue;
    const auto bn = bn_layer.as<ann::BatchNorm>();
    const std::string ctx = layer_context(bn_layer);
    require_input(bn_layer.inputs.size() == 1, ctx, "inputs: expected one");
    const Eigen::Index channels = bn.gamma.size();
    // scale = γ/sqrt(var+ε), in double as Keras's float32 result is closest to the exact value.
    Eigen::VectorXd scale(channels), shift(channels);
    for (Eigen::Index c = 0; c < channels; ++c) {
      const double s = static_cast<double>(bn.gamma[c]) /
                       std::sqrt(static_cast<double>(bn.moving_variance[c]) + static_cast<double>(bn.epsilon));
      scale[c] = s;
      shift[c] = static_cast<double>(bn.beta[c]) - static_cast<double>(bn.moving_mean[c]) * s;
    }
    const int pre = bn_layer.inputs[0];
    auto& pre_layer = model.layers[static_cast<std::size_t>(pre)];
    const bool sole_reader = readers(model, pre).size() == 1 && model.output != pre;
    auto fold_backward = [&](ann::Matrix& kernel, ann::Vector& bias, bool& use_bias) {
      require_input(kernel.cols() == channels, ctx,
                    "gamma: " + std::to_string(channels) + " channels but '" + pre_layer.name + "' has " +
                        std::to_string(kernel.cols()) + " outputs");
      for (Eigen::Index c = 0; c < channels; ++c) {
        kernel.col(c) = (kernel.col(c).cast<double>() * scale[c]).cast<float>();
        bias[c] = static_cast<float>(static_cast<double>(bias[c]) * scale[c] + shift[c]);
      }
      use_bias = true;
    };
    if (sole_reader && pre_layer.is<ann::Dense>()) {
      auto& d = pre_layer.as<ann::Dense>();
      fold_backward(d.kernel, d.bias, d.use_bias);
    } else if (sole_reader && pre_layer.is<ann::Conv2D>()) {
      auto& c = pre_layer.as<ann::Conv2D>();
      fold_backward(c.kernel, c.bias, c.use_bias);
    } else {
      // Forward fold into the next Dense: x' = x·scale + shift per channel of the flattened
      // input, so W' = diag(scale)·W and b' = b + shiftᵀ·W (exact because Dense is affine).
      int next = i;
      std::vector<int> rd = readers(model, next);
      while (rd.size() == 1 && (model.layers[static_cast<std::size_t>(rd[0])].is<ann::Flatten>() ||
                                model.layers[static_cast<std::size_t>(rd[0])].is<ann::Reshape>())) {
        next = rd[0];
        rd = readers(model, next);
      }
      require_input(rd.size() == 1 && model.layers[static_cast<std::size_t>(rd[0])].is<ann::Dense>(), ctx,
                    "BatchNormalization after '" + pre_layer.name +
                        "' can be folded only into a preceding Dense/Conv2D or a following Dense");
      auto& dense_layer = model.layers[static_cast<std::size_t>(rd[0])];
      // Element order is unchanged by HWC Flatten/Reshape; a CHW Flatten is not supported here.
      for (int k = i; k != rd[0]; k = readers(model, k)[0]) {
        const auto& l = model.layers[static_cast<std::size_t>(k)];
        require_input(!(l.is<ann::Flatten>() && l.as<ann::Flatten>().order == ann::Flatten::Order::CHW), ctx,
                      "BatchNormalization before a channels_first Flatten cannot be folded");
      }
      auto& d = dense_layer.as<ann::Dense>();
      const Eigen::Index rows = d.kernel.rows();
      require_input(rows % channels == 0, ctx, "gamma: channels do not divide the Dense input");
      Eigen::VectorXd bias = d.bias.cast<double>();
      Eigen::MatrixXd w = d.kernel.cast<double>();
      for (Eigen::Index r = 0; r < rows; ++r) {
        const Eigen::Index c = r % channels;  // channels-last: channel is the fastest index
        bias += shift[c] * w.row(r).transpose();
        w.row(r) *= scale[c];
      }
      d.kernel = w.cast<float>();
      d.bias = bias.cast<float>();
      d.use_bias = true;
    }
    remove_layer(model, i);
    --i;
    ++folded;
  }
  return folded;
}

int canonicalise_flatten(ann::Model& model) {
  int changed = 0;
  for (int i = 0; i < static_cast<int>(model.layers.size()); ++i) {
    auto& flatten_layer = model.layers[static_cast<std::size_t>(i)];
    if (!flatten_layer.is<ann::Flatten>() || flatten_layer.as<ann::Flatten>().order != ann::Flatten::Order::CHW)
      continue;
    const std::string ctx = layer_context(flatten_layer);
    const Shape& in = model.layers[static_cast<std::size_t>(flatten_layer.inputs.at(0))].output_shape;
    require_input(in.rank() == 3, ctx, "input_shape: channels_first flatten needs an image, got " + in.to_string());
    const auto rd = readers(model, i);
    require_input(rd.size() == 1 && model.layers[static_cast<std::size_t>(rd[0])].is<ann::Dense>(), ctx,
                  "data_format: a channels_first Flatten must feed exactly one Dense layer to be reordered");
    auto& d = model.layers[static_cast<std::size_t>(rd[0])].as<ann::Dense>();
    const std::int64_t h = in[0], w = in[1], c = in[2];
    ann::Matrix permuted(d.kernel.rows(), d.kernel.cols());
    // Row m of the new kernel (HWC index (y·W + x)·C + ch) is row k = ch·H·W + y·W + x of the old.
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        for (std::int64_t ch = 0; ch < c; ++ch)
          permuted.row((y * w + x) * c + ch) = d.kernel.row(ch * h * w + y * w + x);
    d.kernel = std::move(permuted);
    flatten_layer.as<ann::Flatten>().order = ann::Flatten::Order::HWC;
    ++changed;
  }
  return changed;
}

int fold_average_pool(ann::Model& model) {
  int folded = 0;
  for (int i = 0; i < static_cast<int>(model.layers.size()); ++i) {
    const auto& pool_layer = model.layers[static_cast<std::size_t>(i)];
    const bool global = pool_layer.is<ann::GlobalAveragePool2D>();
    if (!global && !(pool_layer.is<ann::Pool2D>() && pool_layer.as<ann::Pool2D>().kind == ann::PoolKind::Average))
      continue;
    // Follow HWC Flatten layers to a Dense that is the only reader.
    std::vector<int> flattens;
    int next = i;
    std::vector<int> rd = readers(model, next);
    while (rd.size() == 1 && model.layers[static_cast<std::size_t>(rd[0])].is<ann::Flatten>() &&
           model.layers[static_cast<std::size_t>(rd[0])].as<ann::Flatten>().order == ann::Flatten::Order::HWC) {
      flattens.push_back(rd[0]);
      next = rd[0];
      rd = readers(model, next);
    }
    if (rd.size() != 1 || !model.layers[static_cast<std::size_t>(rd[0])].is<ann::Dense>() || model.output == i) continue;
    const Shape in = model.layers[static_cast<std::size_t>(pool_layer.inputs.at(0))].output_shape;
    const Shape out = pool_layer.output_shape;
    if (in.rank() != 3) continue;
    auto& dense = model.layers[static_cast<std::size_t>(rd[0])].as<ann::Dense>();
    const std::int64_t h = in[0], w = in[1], c = in[2];
    if (dense.kernel.rows() != out.size()) continue;  // e.g. a Dense on a rank-3 tensor
    ann::Matrix kernel = ann::Matrix::Zero(h * w * c, dense.kernel.cols());
    if (global) {
      for (std::int64_t p = 0; p < h * w; ++p)
        for (std::int64_t ch = 0; ch < c; ++ch)
          kernel.row(p * c + ch) = dense.kernel.row(ch) / static_cast<float>(h * w);
    } else {
      const auto& pool = pool_layer.as<ann::Pool2D>();
      std::int64_t pad_top = 0, pad_left = 0;
      if (pool.padding == ann::Padding::Same) {
        pad_top = ann::same_padding(h, out[0], pool.pool_h, pool.stride_h, 1).before;
        pad_left = ann::same_padding(w, out[1], pool.pool_w, pool.stride_w, 1).before;
      }
      for (std::int64_t oy = 0; oy < out[0]; ++oy)
        for (std::int64_t ox = 0; ox < out[1]; ++ox) {
          std::vector<std::int64_t> inside;  // pixel positions of the window inside the image
          for (int a = 0; a < pool.pool_h; ++a)
            for (int b = 0; b < pool.pool_w; ++b) {
              const std::int64_t y = oy * pool.stride_h - pad_top + a, x = ox * pool.stride_w - pad_left + b;
              if (y >= 0 && y < h && x >= 0 && x < w) inside.push_back(y * w + x);
            }
          for (std::int64_t ch = 0; ch < c; ++ch) {
            const auto row = dense.kernel.row((oy * out[1] + ox) * c + ch) / static_cast<float>(inside.size());
            for (auto p : inside) kernel.row(p * c + ch) += row;
          }
        }
    }
    dense.kernel = std::move(kernel);
    for (int f : flattens) model.layers[static_cast<std::size_t>(f)].output_shape = Shape{h * w * c};
    // The pool becomes a Flatten (a no-op on our HWC layout) so the Dense reads a vector.
    auto& replaced = model.layers[static_cast<std::size_t>(i)];
    replaced.params = ann::Flatten{};
    replaced.keras_class = "Flatten";
    replaced.output_shape = Shape{h * w * c};
    ++folded;
  }
  return folded;
}

}  // namespace grindstone::passes
