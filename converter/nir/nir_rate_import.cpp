#include "converter/nir/nir_rate_import.hpp"

#include <cmath>
#include <optional>

#include "common/error.hpp"
#include "converter/nir/nir_chain.hpp"

namespace grindstone::nir {

namespace {

/// A weighted node waiting for the neuron node it feeds.
struct PendingProjection {
  const NirNode* node = nullptr;
  snn::Connector connector;
  Shape post_shape;           ///< ours: (H, W, C) or (N)
  std::vector<float> bias;    ///< per post neuron (empty = none)
  std::vector<float> scale;   ///< per post neuron, from Scale nodes (empty = 1)
};

class RateBuilder {
 public:
  explicit RateBuilder(const NirGraph& g) : g_(g), fields_(g) {}

  void input(const NirNode& n) {
    snn::Population p;
    p.name = n.name;
    p.role = snn::PopulationRole::Input;
    p.model = snn::NeuronModel::IntegrateAndFire;
    p.shape = fields_.input_shape(n);
    net_.input_shape = p.shape;
    net_.populations.push_back(std::move(p));
  }

  const snn::Population& current() const { return net_.populations.back(); }

  void flatten(const NirNode& n) {
    fields_.check_flatten(n, current_shape().rank());
    if (current_shape().rank() == 3) flattened_from_ = current_shape();
  }

  Shape current_shape() const { return flattened_from_ ? Shape{flattened_from_->size()} : current().shape; }

  void affine(const NirNode& n, bool with_bias) {
    if (pending_) fields_.refuse(n, "input", "two weighted nodes in a row (no neuron between them)");
    const auto& w = n.number("weight", g_.file);
    const std::int64_t in = current().size();
    if (w.dims.size() != 2 || w.dims[1] != in)
      fields_.refuse(n, "weight", w.dims_string() + " does not take " + std::to_string(in) + " inputs (expected (out, in))");
    if (current().shape.rank() == 3 && !flattened_from_) fields_.refuse(n, "input", "reads an image; a Flatten must come first");
    const std::int64_t out = w.dims[0];
    snn::DenseConnector d;
    d.weights = Eigen::MatrixXf::Zero(in, out);
    const Shape s = current().shape;  // (H, W, C) when flattened from an image
    for (std::int64_t f = 0; f < in; ++f) {
      // NIR flattens (C, H, W); our neurons are (H, W, C).
      std::int64_t ours = f;
      if (s.rank() == 3) {
        const std::int64_t c = f / (s[0] * s[1]), y = (f / s[1]) % s[0], x = f % s[1];
        ours = (y * s[1] + x) * s[2] + c;
      }
      for (std::int64_t o = 0; o < out; ++o) d.weights(ours, o) = w.values[static_cast<std::size_t>(o * in + f)];
    }
    PendingProjection p{&n, std::move(d), Shape{out}, {}, {}};
    if (with_bias) p.bias = fields_.vector(n, "bias", out);
    pending_ = std::move(p);
    flattened_from_.reset();
  }

  void conv(const NirNode& n) {
    if (pending_) fields_.refuse(n, "input", "two weighted nodes in a row (no neuron between them)");
    const ConvFields c = fields_.conv(n, current().shape);
    snn::ConvConnector k;
    k.kernel_h = c.kh;
    k.kernel_w = c.kw;
    k.in_channels = c.cin;
    k.out_channels = c.cout;
    k.stride_h = c.stride[0];
    k.stride_w = c.stride[1];
    k.dilation_h = c.dilation[0];
    k.dilation_w = c.dilation[1];
    k.pad_top = c.pad[0];
    k.pad_left = c.pad[1];
    k.kernel = c.kernel;
    std::vector<float> bias;
    const Shape out = c.out_shape;
    if (c.bias.size()) {
      bias.resize(static_cast<std::size_t>(out.size()));
      for (std::int64_t i = 0; i < out.size(); ++i) bias[static_cast<std::size_t>(i)] = c.bias(i % out[2]);
    }
    pending_ = PendingProjection{&n, std::move(k), out, std::move(bias), {}};
  }

  void pool(const NirNode& n) {
    if (pending_) fields_.refuse(n, "input", "two weighted nodes in a row (no neuron between them)");
    const Shape in = current().shape;
    if (in.rank() != 3) fields_.refuse(n, "input", "reads a " + in.to_string() + " tensor, not an image");
    const auto k = fields_.ints(n, "kernel_size", 2), st = fields_.ints(n, "stride", 2), pad = fields_.ints(n, "padding", 2, 0);
    if (pad[0] || pad[1]) fields_.refuse(n, "padding", "padded pooling is not supported");
    if (k[0] < 1 || k[1] < 1 || st[0] < 1 || st[1] < 1) fields_.refuse(n, "kernel_size", "must be ≥ 1");
    snn::PoolConnector p;
    p.pool_h = k[0];
    p.pool_w = k[1];
    p.stride_h = st[0];
    p.stride_w = st[1];
    p.weight = n.type == "AvgPool2d" ? 1.0f / static_cast<float>(k[0] * k[1]) : 1.0f;
    const Shape out{(in[0] - k[0]) / st[0] + 1, (in[1] - k[1]) / st[1] + 1, in[2]};
    if (out[0] < 1 || out[1] < 1) fields_.refuse(n, "kernel_size", "larger than the " + in.to_string() + " input");
    pending_ = PendingProjection{&n, p, out, {}, {}};
  }

  void scale(const NirNode& n) {
    if (!pending_) fields_.refuse(n, "input", "Scale must follow a weighted node");
    pending_->scale = fields_.per_neuron(n, "scale", pending_->post_shape);
  }

  void neuron(const NirNode& n) {
    if (!pending_) fields_.refuse(n, "input", "a neuron node must follow a weighted node");
    const Shape& shape = pending_->post_shape;
    std::vector<float> gain;
    std::vector<float> threshold = fields_.per_neuron(n, "v_threshold", shape);
    std::vector<float> reset = n.has("v_reset") ? fields_.per_neuron(n, "v_reset", shape) : std::vector<float>(threshold.size(), 0.0f);
    const std::vector<float> r = fields_.per_neuron(n, "r", shape);
    const double dt = time_step(n);
    if (n.type == "IF") {
      for (float v : r) gain.push_back(static_cast<float>(dt * v));
    } else if (n.type == "LIF") {
      const auto tau = fields_.per_neuron(n, "tau", shape);
      const auto leak = fields_.per_neuron(n, "v_leak", shape);
      for (std::size_t i = 0; i < tau.size(); ++i) {
        if (!(dt / tau[i] < 1e-6)) fields_.refuse(n, "tau", std::to_string(tau[i]) + ": the leak (dt/τ ≥ 1e-6) has no counterpart in integrate-and-fire neurons");
        if (leak[i] != 0.0f) fields_.refuse(n, "v_leak", "must be 0");
        const double g = dt * static_cast<double>(r[i]) / static_cast<double>(tau[i]);
        if (!std::isfinite(g) || g <= 0.0) fields_.refuse(n, "r", "the input gain dt·r/τ is not a positive number");
        gain.push_back(static_cast<float>(g));
      }
    } else {
      fields_.refuse(n, "type", n.type == "Threshold" ? "stateless Threshold nodes in a stateful graph are not supported"
                                                      : "only IF and leak-free LIF neurons map to integrate-and-fire populations");
    }
    snn::Population p;
    p.name = n.name;
    p.model = snn::NeuronModel::IntegrateAndFire;
    p.shape = shape;
    p.tick = current().tick + 1;
    p.source_layer = pending_->node->name;
    for (float& t : threshold) {
      if (!std::isfinite(t) || t <= 0.0f) fields_.refuse(n, "v_threshold", "must be positive and finite");
      t = std::nextafter(t, INFINITY);  // NIR fires on v > θ, we on v ≥ θ
    }
    p.threshold = std::move(threshold);
    p.v_reset = std::move(reset);
    std::vector<float> post(gain);
    if (!pending_->scale.empty())
      for (std::size_t i = 0; i < post.size(); ++i) post[i] *= pending_->scale[i];
    if (!pending_->bias.empty()) {
      p.bias_current.resize(post.size());
      for (std::size_t i = 0; i < post.size(); ++i) p.bias_current[i] = post[i] * pending_->bias[i];
    }
    snn::Projection pr;
    pr.name = pending_->node->name;
    pr.pre = static_cast<int>(net_.populations.size()) - 1;
    pr.post = pr.pre + 1;
    pr.connector = scaled(n, pending_->connector, post, shape);
    net_.populations.push_back(std::move(p));
    net_.projections.push_back(std::move(pr));
    pending_.reset();
  }

  snn::Network finish(const NirNode& last) {
    if (pending_) fields_.refuse(*pending_->node, "output", "the graph must end in a neuron node");
    if (net_.populations.size() < 2) fields_.refuse(last, "output", "no neuron node");
    net_.populations.back().role = snn::PopulationRole::Output;
    net_.output = static_cast<int>(net_.populations.size()) - 1;
    net_.weights.is_float = true;
    net_.bias_mode = "current";
    net_.input = snn::InputEncoding::Real;
    net_.decode.kind = snn::Decode::Kind::SpikeCount;
    net_.decode.classes = static_cast<int>(net_.populations.back().size());
    net_.decode.tie_break_by_potential = true;
    net_.provenance.source_file = std::filesystem::path(g_.file).filename().string();
    net_.provenance.passes = {"nir_rate_import"};
    snn::validate(net_, g_.file);
    return std::move(net_);
  }

 private:
  double time_step(const NirNode& n) const {
    for (const auto* meta : {&n.metadata, &g_.metadata}) {
      auto it = meta->find("dt");
      if (it != meta->end() && it->second.size() == 1) {
        const double dt = it->second.values[0];
        if (!(dt > 0.0 && std::isfinite(dt))) fields_.refuse(n, "metadata dt", "must be positive");
        return dt;
      }
    }
    return 1.0;
  }

  /// The connector with every weight into post neuron i multiplied by gain[i] (per channel for
  /// convolution and pooling, where the gain must be constant over each channel's positions).
  snn::Connector scaled(const NirNode& n, snn::Connector c, const std::vector<float>& gain, const Shape& shape) const {
    if (auto* d = std::get_if<snn::DenseConnector>(&c)) {
      for (Eigen::Index o = 0; o < d->weights.cols(); ++o) d->weights.col(o) *= gain[static_cast<std::size_t>(o)];
      return c;
    }
    const std::int64_t channels = shape[2];
    std::vector<float> per_channel(static_cast<std::size_t>(channels));
    for (std::int64_t i = 0; i < shape.size(); ++i) {
      const auto ch = static_cast<std::size_t>(i % channels);
      if (i < channels) per_channel[ch] = gain[static_cast<std::size_t>(i)];
      else if (gain[static_cast<std::size_t>(i)] != per_channel[ch])
        fields_.refuse(n, "r", "the input gain differs across the positions of a channel");
    }
    if (auto* k = std::get_if<snn::ConvConnector>(&c)) {
      for (Eigen::Index o = 0; o < k->kernel.cols(); ++o) k->kernel.col(o) *= per_channel[static_cast<std::size_t>(o)];
      return c;
    }
    auto& p = std::get<snn::PoolConnector>(c);
    for (float g : per_channel)
      if (g != per_channel.front()) fields_.refuse(n, "r", "a pooling layer's neurons need one gain");
    p.weight *= per_channel.front();
    return c;
  }

  const NirGraph& g_;
  NodeFields fields_;
  snn::Network net_;
  std::optional<PendingProjection> pending_;
  std::optional<Shape> flattened_from_;
};

}  // namespace

bool is_stateful(const NirGraph& graph) {
  for (const auto& n : graph.nodes)
    if (is_stateful_type(n.type)) return true;
  return false;
}

snn::Network to_rate_network(const NirGraph& graph) {
  const auto chain = chain_of(graph);
  RateBuilder b(graph);
  build_chain(chain, b, NodeFields(graph));
  return b.finish(*chain.back());
}

}  // namespace grindstone::nir
