#include "converter/nir/nir_import.hpp"

#include <cmath>
#include <optional>

#include "common/error.hpp"
#include "converter/nir/nir_chain.hpp"

namespace grindstone::nir {

namespace {

/// Builds the ann::Model layer by layer along the graph's chain.
class ModelBuilder {
 public:
  explicit ModelBuilder(const NirGraph& graph) : graph_(graph), fields_(graph) {}

  [[noreturn]] void refuse(const NirNode& node, const std::string& field, const std::string& message) const {
    fields_.refuse(node, field, message);
  }
  std::vector<int> ints(const NirNode& node, const std::string& field, std::size_t n, std::optional<int> fallback = {}) const {
    return fields_.ints(node, field, n, fallback);
  }

  int add(const std::string& name, const std::string& keras_class, ann::LayerParams params) {
    ann::Layer layer;
    layer.name = name;
    layer.keras_class = keras_class;
    layer.params = std::move(params);
    std::vector<Shape> in_shapes;
    if (!model_.layers.empty()) {
      layer.inputs = {static_cast<int>(model_.layers.size()) - 1};
      in_shapes.push_back(model_.layers.back().output_shape);
    }
    layer.output_shape = layer.is<ann::InputLayer>() ? input_shape_ : ann::infer_output_shape(layer, in_shapes);
    model_.layers.push_back(std::move(layer));
    return static_cast<int>(model_.layers.size()) - 1;
  }

  const Shape& shape() const { return model_.layers.back().output_shape; }
  ann::Layer& last() { return model_.layers.back(); }

  void input(const NirNode& node) {
    input_shape_ = fields_.input_shape(node);
    add(node.name, "InputLayer", ann::InputLayer{});
  }

  void affine(const NirNode& node, bool with_bias) {
    if (shape().rank() != 1) refuse(node, "input", "reads a " + shape().to_string() + " tensor; a Flatten must come first");
    const auto& w = node.number("weight", graph_.file);
    if (w.dims.size() != 2 || w.dims[1] != shape()[0])
      refuse(node, "weight", w.dims_string() + " does not take " + std::to_string(shape()[0]) + " inputs (expected (out, in))");
    ann::Dense d;
    const auto out = w.dims[0], in = w.dims[1];
    d.kernel.resize(in, out);
    for (std::int64_t o = 0; o < out; ++o)
      for (std::int64_t i = 0; i < in; ++i) d.kernel(i, o) = w.values[static_cast<std::size_t>(o * in + i)];
    d.bias = ann::Vector::Zero(out);
    if (with_bias) {
      const auto& b = node.number("bias", graph_.file);
      if (b.size() != out) refuse(node, "bias", b.dims_string() + " but " + std::to_string(out) + " outputs");
      for (std::int64_t o = 0; o < out; ++o) d.bias(o) = b.values[static_cast<std::size_t>(o)];
    }
    d.use_bias = true;
    add(node.name, with_bias ? "Affine" : "Linear", std::move(d));
  }

  void conv(const NirNode& node) {
    const ConvFields f = fields_.conv(node, shape());
    if (f.pad[0] || f.pad[1]) {
      ann::ZeroPad2D z;
      z.top = z.bottom = f.pad[0];
      z.left = z.right = f.pad[1];
      add(node.name + "/padding", "ZeroPadding2D", z);
    }
    ann::Conv2D c;
    c.kernel_h = f.kh;
    c.kernel_w = f.kw;
    c.in_channels = f.cin;
    c.filters = f.cout;
    c.stride_h = f.stride[0];
    c.stride_w = f.stride[1];
    c.dilation_h = f.dilation[0];
    c.dilation_w = f.dilation[1];
    c.padding = ann::Padding::Valid;
    c.kernel = f.kernel;
    c.bias = f.bias.size() ? ann::Vector(f.bias) : ann::Vector::Zero(f.cout);
    add(node.name, "Conv2d", std::move(c));
  }

  void flatten(const NirNode& node) {
    fields_.check_flatten(node, shape().rank());
    if (shape().rank() == 1) return;
    ann::Flatten f;
    f.order = ann::Flatten::Order::CHW;  // NIR tensors are (C, H, W)
    add(node.name, "Flatten", f);
  }

  /// Per-output values of `t` for the last linear layer: size 1, units/channels, or (C, H, W)
  /// constant over each channel's positions.
  std::vector<float> per_output(const NirNode& node, const std::string& field, const keras::Tensor& t) const {
    const Shape& s = shape();
    const std::int64_t units = s.rank() == 3 ? s[2] : s[0];
    std::vector<float> out(static_cast<std::size_t>(units));
    if (t.size() == 1 || t.size() == units) {
      for (std::int64_t u = 0; u < units; ++u) out[static_cast<std::size_t>(u)] = t.values[static_cast<std::size_t>(t.size() == 1 ? 0 : u)];
      return out;
    }
    if (s.rank() == 3 && t.size() == s.size()) {
      const std::int64_t plane = s[0] * s[1];
      for (std::int64_t c = 0; c < units; ++c) {
        const float v = t.values[static_cast<std::size_t>(c * plane)];
        for (std::int64_t k = 1; k < plane; ++k)
          if (t.values[static_cast<std::size_t>(c * plane + k)] != v)
            refuse(node, field, "differs across the positions of channel " + std::to_string(c) + " (only per-channel values map to a convolution)");
        out[static_cast<std::size_t>(c)] = v;
      }
      return out;
    }
    refuse(node, field, t.dims_string() + " does not match the " + s.to_string() + " output");
  }

  /// The smallest n ≤ 16 such that the last linear layer's weights and bias and `thresholds`
  /// are all multiples of 2^-n (a Qm.n network), or −1.
  int fixed_point_grid(const std::vector<float>& thresholds) {
    const ann::Layer& l = last();
    const ann::Matrix* kernel = l.is<ann::Dense>() ? &l.as<ann::Dense>().kernel : l.is<ann::Conv2D>() ? &l.as<ann::Conv2D>().kernel : nullptr;
    const ann::Vector* bias = l.is<ann::Dense>() ? &l.as<ann::Dense>().bias : l.is<ann::Conv2D>() ? &l.as<ann::Conv2D>().bias : nullptr;
    if (!kernel) return -1;
    auto on_grid = [](float v, int n) {
      const double x = std::ldexp(static_cast<double>(v), n);
      return std::fabs(x) < 1e9 && x == std::floor(x);
    };
    for (int n = 0; n <= 16; ++n) {
      bool ok = true;
      for (Eigen::Index i = 0; ok && i < kernel->size(); ++i) ok = on_grid(kernel->data()[i], n);
      for (Eigen::Index i = 0; ok && i < bias->size(); ++i) ok = on_grid((*bias)(i), n);
      for (std::size_t i = 0; ok && i < thresholds.size(); ++i) ok = on_grid(thresholds[i], n);
      if (ok) return n;
    }
    return -1;
  }

  /// Applies y ← scale·y + shift per output unit of the last Dense/Conv2D layer.
  void fold_into_linear(const NirNode& node, const std::string& field, const std::vector<float>& scale,
                        const std::vector<float>& shift) {
    ann::Layer& l = last();
    if (!l.is<ann::Dense>() && !l.is<ann::Conv2D>())
      refuse(node, field, "must follow an Affine, Linear or Conv2d node (found " + l.keras_class + ")");
    auto apply = [&](auto& layer) {
      for (Eigen::Index u = 0; u < layer.kernel.cols(); ++u) {
        const auto i = static_cast<std::size_t>(u);
        layer.kernel.col(u) *= scale[i];
        layer.bias(u) = layer.bias(u) * scale[i] + shift[i];
      }
      layer.use_bias = true;
    };
    if (l.is<ann::Dense>()) apply(l.as<ann::Dense>());
    else apply(l.as<ann::Conv2D>());
  }

  void scale(const NirNode& node) {
    const auto s = per_output(node, "scale", node.number("scale", graph_.file));
    fold_into_linear(node, "scale", s, std::vector<float>(s.size(), 0.0f));
  }

  void pool(const NirNode& node) {
    if (shape().rank() != 3) refuse(node, "input", "reads a " + shape().to_string() + " tensor, not an image");
    if (!last().is<ann::Activation>() && !last().is<ann::Pool2D>())
      refuse(node, "input", "pooling must read spikes (a Threshold node) to become an OR of the window");
    const auto k = ints(node, "kernel_size", 2), st = ints(node, "stride", 2, std::nullopt), pad = ints(node, "padding", 2, 0);
    if (pad[0] || pad[1]) refuse(node, "padding", "padded pooling is not supported");
    if (k[0] < 1 || k[1] < 1 || st[0] < 1 || st[1] < 1) refuse(node, "kernel_size", "must be ≥ 1");
    pending_pool_ = &node;
    ann::Pool2D p;
    p.kind = ann::PoolKind::Max;
    p.pool_h = k[0];
    p.pool_w = k[1];
    p.stride_h = st[0];
    p.stride_w = st[1];
    pool_params_ = p;
  }

  void neuron(const NirNode& node) {
    if (node.type != "Threshold")
      refuse(node, "type", "stateful neurons: `grindstone convert` makes a rate network of IF graphs; "
                           "only stateless (Threshold) graphs load as models");
    const auto& t = node.number("threshold", graph_.file);
    if (pending_pool_) {
      // Σ of binary spikes over the window > θ is an OR iff 0 ≤ θ < 1 (mean: θ < 1/window).
      const bool average = pending_pool_->type == "AvgPool2d";
      const float window = static_cast<float>(pool_params_.pool_h * pool_params_.pool_w);
      const float limit = average ? 1.0f / window : 1.0f;
      for (float v : t.values)
        if (!(v >= 0.0f && v < limit))
          refuse(node, "threshold", std::to_string(v) + " after " + pending_pool_->type + " is not an OR of spikes (needs 0 ≤ θ < " + std::to_string(limit) + ")");
      add(pending_pool_->name, pending_pool_->type, pool_params_);
      pending_pool_ = nullptr;
      return;
    }
    if (last().is<ann::InputLayer>()) refuse(node, "input", "a Threshold directly on the input is not supported");
    std::vector<float> shift = per_output(node, "threshold", t);
    const int grid = fixed_point_grid(shift);
    for (float& v : shift) {
      if (!std::isfinite(v)) refuse(node, "threshold", "not finite");
      // Fires iff x > θ: x + 0.5 − θ⁺ ≥ 0.5 with θ⁺ the smallest sum above θ — the next
      // multiple of 2^-n when weights, bias and θ are all on that fixed-point grid (sums of
      // spikes are then too), else the next float.
      const double step = grid >= 0 ? std::ldexp(1.0, -grid) : 0.0;
      const double above = grid >= 0 ? (std::floor(v / step) + 1.0) * step : std::nextafter(v, INFINITY);
      v = static_cast<float>(0.5 - above);
    }
    fold_into_linear(node, "threshold", std::vector<float>(shift.size(), 1.0f), shift);
    ann::Activation a;
    a.kind = ann::ActivationKind::SpikingBRelu;
    a.sharpness = 1.0f;
    add(node.name, "Threshold", a);
  }

  ann::Model finish(const std::vector<const NirNode*>& chain) {
    if (pending_pool_) refuse(*pending_pool_, "output", "pooling must be followed by a Threshold node");
    if (!last().is<ann::Activation>() && !last().is<ann::Pool2D>())
      refuse(*chain.back(), "output", "the graph must end in spikes (a Threshold node) before its Output");
    auto decode = graph_.metadata_strings.find("decode");
    auto key = graph_.metadata.find("key");
    if (decode != graph_.metadata_strings.end() && decode->second == "n_hot_key" && key != graph_.metadata.end()) {
      const auto& k = key->second;
      if (k.dims.size() != 2 || k.dims[1] != shape().size())
        throw InputError(graph_.file + ": metadata: key: " + k.dims_string() + " does not decode " + std::to_string(shape().size()) + " outputs");
      ann::SoftmaxDecode d;
      d.key.resize(k.dims[0], k.dims[1]);
      for (std::int64_t r = 0; r < k.dims[0]; ++r)
        for (std::int64_t c = 0; c < k.dims[1]; ++c) d.key(r, c) = k.values[static_cast<std::size_t>(r * k.dims[1] + c)];
      add("decode", "Softmax_Decode", d);
    }
    model_.output = static_cast<int>(model_.layers.size()) - 1;
    return std::move(model_);
  }

 private:
  const NirGraph& graph_;
  NodeFields fields_;
  ann::Model model_;
  Shape input_shape_;
  const NirNode* pending_pool_ = nullptr;
  ann::Pool2D pool_params_;
};

}  // namespace

ann::Model to_ann_model(const NirGraph& graph) {
  const auto chain = chain_of(graph);
  ModelBuilder b(graph);
  build_chain(chain, b, NodeFields(graph));
  ann::Model model = b.finish(chain);
  model.name = std::filesystem::path(graph.file).stem().string();
  model.source.format = "nir";
  model.source.keras_version = graph.version.empty() ? "" : "NIR " + graph.version;
  model.validate();
  return model;
}

ann::Model load_ann_model(const std::filesystem::path& path) {
  ann::Model model = to_ann_model(read_graph(path));
  model.source.path = path.string();
  return model;
}

}  // namespace grindstone::nir
