#include "converter/passes/lower.hpp"

#include "common/error.hpp"
#include "converter/ann/layer_ops.hpp"

namespace grindstone::passes {

namespace {

std::string activation_name(const ann::Activation& a) {
  switch (a.kind) {
    case ann::ActivationKind::Linear: return "linear";
    case ann::ActivationKind::ReLU: return "relu";
    case ann::ActivationKind::Sigmoid: return "sigmoid";
    case ann::ActivationKind::Tanh: return "tanh";
    case ann::ActivationKind::Softmax: return "softmax";
    case ann::ActivationKind::SpikingBRelu: return "Spiking_BRelu(sharpness=" + std::to_string(a.sharpness) + ")";
    case ann::ActivationKind::SpikingSigmoid: return "Spiking_Sigmoid(sharpness=" + std::to_string(a.sharpness) + ")";
  }
  return "unknown";
}

const char* kNeedSharpened =
    "single-pass conversion needs every hidden and output layer sharpened (Spiking_BRelu or Spiking_Sigmoid at "
    "sharpness 1); use --engine rate for ordinary ReLU networks";

struct Lowerer {
  const ann::Model& model;
  std::string file;  // context prefix
  SnnState state;
  int current = -1;            // population carrying the current tensor
  int pending = -1;            // Dense/Conv2D layer awaiting its activation
  int pad_top = 0, pad_left = 0;  // ZeroPadding2D awaiting the next windowed layer
  std::vector<int> deferred_pools;  // max pools between a linear layer and its activation

  std::string ctx(const ann::Layer& layer) const {
    return (file.empty() ? "" : file + ": ") + "layer '" + layer.name + "'";
  }
  const ann::Layer& layer_at(int i) const { return model.layers.at(static_cast<std::size_t>(i)); }
  snn::Population& pop(int i) { return state.network.populations.at(static_cast<std::size_t>(i)); }

  int add_population(snn::Population p) {
    state.network.populations.push_back(std::move(p));
    return static_cast<int>(state.network.populations.size()) - 1;
  }

  void add_projection(int pre, int post, snn::Connector connector) {
    snn::Projection pr;
    pr.name = pop(pre).name + "->" + pop(post).name;
    pr.pre = pre;
    pr.post = post;
    pr.connector = std::move(connector);
    state.network.projections.push_back(std::move(pr));
  }

  void emit_linear(const ann::Layer& linear, float threshold) {
    const snn::Population& pre = pop(current);
    snn::Population p;
    p.name = linear.name;
    p.role = snn::PopulationRole::Hidden;
    p.shape = linear.output_shape;
    p.threshold.assign(static_cast<std::size_t>(linear.output_shape.size()), threshold);
    p.tick = pre.tick + 1;
    p.source_layer = linear.name;
    snn::Connector connector;
    Eigen::VectorXf bias_per_neuron;
    if (linear.is<ann::Dense>()) {
      const auto& d = linear.as<ann::Dense>();
      require_input(d.kernel.rows() == pre.size(), ctx(linear),
                    "kernel: " + std::to_string(d.kernel.rows()) + " inputs but the incoming spikes come from " +
                        std::to_string(pre.size()) + " neurons (Dense on an image needs a Flatten first)");
      connector = snn::DenseConnector{d.kernel};
      if (d.use_bias) bias_per_neuron = d.bias;
    } else {
      const auto& c = linear.as<ann::Conv2D>();
      const Shape& in = pre.shape;
      require_input(in.rank() == 3, ctx(linear), "input_shape: Conv2D needs an image, got " + in.to_string());
      const Shape& out = linear.output_shape;
      connector = conv_connector(c, in, out, pad_top, pad_left);
      pad_top = pad_left = 0;
      if (c.use_bias) {
        // Per-channel bias → per-neuron (channels-last: channel is the fastest index).
        bias_per_neuron.resize(out.size());
        for (std::int64_t k = 0; k < out.size(); ++k) bias_per_neuron[k] = c.bias[k % c.filters];
      }
    }
    const int post = add_population(std::move(p));
    add_projection(current, post, std::move(connector));
    if (bias_per_neuron.size() > 0 && !bias_per_neuron.isZero(0.0f))
      state.pending_bias[pop(post).name] = bias_per_neuron;
    current = post;
  }

  void emit_pool(const ann::Layer& layer) {
    const auto& p = layer.as<ann::Pool2D>();
    require_input(p.kind == ann::PoolKind::Max, ctx(layer),
                  "AveragePooling2D: an average of spikes is not binary; single-pass supports MaxPooling2D only");
    current = maxpool_to_or(state, current, p, layer.output_shape, layer.name);
  }

  [[noreturn]] void refuse_unsharpened(const ann::Layer& layer, const std::string& what) const {
    throw InputError(ctx(layer) + ": " + what + " is not sharpened; " + kNeedSharpened);
  }

  void visit(int index) {
    const ann::Layer& layer = layer_at(index);
    if (layer.is<ann::InputLayer>()) {
      snn::Population in;
      in.name = "input";
      in.role = snn::PopulationRole::Input;
      in.shape = layer.output_shape;
      in.tick = 0;
      current = add_population(std::move(in));
      state.network.input_shape = layer.output_shape;
      return;
    }
    if (layer.is<ann::Dense>() || layer.is<ann::Conv2D>()) {
      if (pending >= 0) refuse_unsharpened(layer_at(pending), "the output of '" + layer_at(pending).name + "' (no activation)");
      require_input(layer.is<ann::Conv2D>() || (pad_top == 0 && pad_left == 0), ctx(layer),
                    "ZeroPadding2D before a Dense layer is not supported");
      pending = index;
      return;
    }
    if (layer.is<ann::Activation>()) {
      const auto& a = layer.as<ann::Activation>();
      if (a.kind == ann::ActivationKind::Linear) return;  // identity
      const auto threshold = sharpened_threshold(a);
      if (pending < 0) {
        // A step on spikes: Spiking_BRelu(1) maps 0 → 0 and 1 → 1, an identity on binary values.
        require_input(a.kind == ann::ActivationKind::SpikingBRelu && threshold, ctx(layer),
                      "activation " + activation_name(a) + " directly on spikes (no Dense/Conv2D before it)");
        return;
      }
      if (!threshold) refuse_unsharpened(layer, "activation " + activation_name(a));
      emit_linear(layer_at(pending), *threshold);
      pending = -1;
      for (int pool : deferred_pools) {
        emit_pool(layer_at(pool));
        state.lowerings_applied.push_back("maxpool_to_or");
      }
      deferred_pools.clear();
      return;
    }
    if (layer.is<ann::Pool2D>()) {
      if (pending >= 0) {
        // z → max-pool → step equals z → step → OR-pool: the step is monotone.
        require_input(layer.as<ann::Pool2D>().kind == ann::PoolKind::Max, ctx(layer),
                      "AveragePooling2D: an average of pre-activations is not binary");
        deferred_pools.push_back(index);
        return;
      }
      emit_pool(layer);
      state.lowerings_applied.push_back("maxpool_to_or");
      return;
    }
    if (layer.is<ann::Flatten>() || layer.is<ann::Reshape>()) {
      // Element order is unchanged on our HWC layout (canonicalise_flatten handled CHW).
      require_input(!(layer.is<ann::Flatten>() && layer.as<ann::Flatten>().order == ann::Flatten::Order::CHW),
                    ctx(layer), "data_format: channels_first Flatten left (run canonicalise_flatten)");
      return;
    }
    if (layer.is<ann::ZeroPad2D>()) {
      require_input(pending < 0, ctx(layer), "ZeroPadding2D between a layer and its activation is not supported");
      const auto& z = layer.as<ann::ZeroPad2D>();
      pad_top += z.top;
      pad_left += z.left;
      return;
    }
    if (layer.is<ann::Identity>()) return;
    if (layer.is<ann::SoftmaxDecode>()) {
      if (pending >= 0) refuse_unsharpened(layer_at(pending), "the output of '" + layer_at(pending).name + "' (no activation)");
      require_input(index == model.output, ctx(layer), "Softmax_Decode must be the last layer");
      const auto& key = layer.as<ann::SoftmaxDecode>().key;
      require_input(key.cols() == pop(current).size(), ctx(layer),
                    "key: width " + std::to_string(key.cols()) + " but the previous layer has " +
                        std::to_string(pop(current).size()) + " neurons");
      state.decode_key = key;
      return;
    }
    if (layer.is<ann::BatchNorm>())
      throw InputError(ctx(layer) + ": BatchNormalization left unfolded (run fold_batch_norm)");
    if (layer.is<ann::GlobalAveragePool2D>())
      throw InputError(ctx(layer) + ": GlobalAveragePooling2D: an average of spikes is not binary; not supported for single-pass");
    throw InputError(ctx(layer) + ": layer kind '" + layer.keras_class + "' is not supported for single-pass conversion");
  }
};

}  // namespace

std::optional<float> sharpened_threshold(const ann::Activation& activation) {
  if (activation.sharpness != 1.0f) return std::nullopt;
  if (activation.kind == ann::ActivationKind::SpikingBRelu) return 0.5f;
  if (activation.kind == ann::ActivationKind::SpikingSigmoid) return 0.0f;
  return std::nullopt;
}

snn::ConvConnector conv_connector(const ann::Conv2D& c, const Shape& in, const Shape& out, int extra_pad_top,
                                  int extra_pad_left) {
  snn::ConvConnector cc;
  cc.kernel_h = c.kernel_h;
  cc.kernel_w = c.kernel_w;
  cc.in_channels = c.in_channels;
  cc.out_channels = c.filters;
  cc.stride_h = c.stride_h;
  cc.stride_w = c.stride_w;
  cc.dilation_h = c.dilation_h;
  cc.dilation_w = c.dilation_w;
  if (c.padding == ann::Padding::Same) {
    // Keras pads the padded (ZeroPadding2D-enlarged) input: sizes include the explicit pad.
    cc.pad_top = static_cast<int>(
        ann::same_padding(in[0] + extra_pad_top, out[0], c.kernel_h, c.stride_h, c.dilation_h).before);
    cc.pad_left = static_cast<int>(
        ann::same_padding(in[1] + extra_pad_left, out[1], c.kernel_w, c.stride_w, c.dilation_w).before);
  }
  cc.pad_top += extra_pad_top;
  cc.pad_left += extra_pad_left;
  cc.kernel = c.kernel;
  return cc;
}

snn::PoolConnector pool_connector(const ann::Pool2D& pool, const Shape& in, const Shape& out, float weight) {
  snn::PoolConnector pc;
  pc.pool_h = pool.pool_h;
  pc.pool_w = pool.pool_w;
  pc.stride_h = pool.stride_h;
  pc.stride_w = pool.stride_w;
  if (pool.padding == ann::Padding::Same) {
    pc.pad_top = static_cast<int>(ann::same_padding(in[0], out[0], pool.pool_h, pool.stride_h, 1).before);
    pc.pad_left = static_cast<int>(ann::same_padding(in[1], out[1], pool.pool_w, pool.stride_w, 1).before);
  }
  pc.weight = weight;
  return pc;
}

int maxpool_to_or(SnnState& state, int pre, const ann::Pool2D& pool, const Shape& shape, const std::string& layer_name) {
  auto& pops = state.network.populations;
  const snn::Population& in = pops.at(static_cast<std::size_t>(pre));
  require_input(in.shape.rank() == 3 && shape.rank() == 3, "layer '" + layer_name + "'",
                "input_shape: MaxPooling2D needs an image, got " + in.shape.to_string());
  // OR: any single spike in the window (weight 1) reaches the threshold 0.5.
  snn::PoolConnector pc = pool_connector(pool, in.shape, shape, 1.0f);
  snn::Population p;
  p.name = layer_name;
  p.role = snn::PopulationRole::Hidden;
  p.shape = shape;
  p.threshold.assign(static_cast<std::size_t>(shape.size()), 0.5f);
  p.tick = in.tick + 1;
  p.source_layer = layer_name;
  snn::Projection pr;
  pr.name = in.name + "->" + layer_name;
  pr.pre = pre;
  pops.push_back(std::move(p));
  pr.post = static_cast<int>(pops.size()) - 1;
  pr.connector = pc;
  state.network.projections.push_back(std::move(pr));
  return pr.post;
}

SnnState lower_activations(const ann::Model& model) {
  model.validate();
  Lowerer lowerer{model, model.source.path, {}, -1, -1, 0, 0, {}};
  int previous = -1;
  for (int i = 0; i < static_cast<int>(model.layers.size()); ++i) {
    const auto& layer = model.layers[static_cast<std::size_t>(i)];
    if (!layer.is<ann::InputLayer>())
      require_input(layer.inputs.size() == 1 && layer.inputs[0] == previous, lowerer.ctx(layer),
                    "inputs: only chain (Sequential-like) models can be converted");
    lowerer.visit(i);
    previous = i;
  }
  require_input(previous == model.output, lowerer.file, "output: the last layer is not the model output");
  if (lowerer.pending >= 0)
    lowerer.refuse_unsharpened(model.layers[static_cast<std::size_t>(lowerer.pending)],
                               "the output of '" + model.layers[static_cast<std::size_t>(lowerer.pending)].name +
                                   "' (no activation)");
  require_input(lowerer.current > 0, lowerer.file, "layers: the model has no Dense/Conv2D layer to convert");
  SnnState state = std::move(lowerer.state);
  state.network.output = lowerer.current;
  state.network.populations[static_cast<std::size_t>(lowerer.current)].role = snn::PopulationRole::Output;
  state.network.input = snn::InputEncoding::Threshold;
  // A complete network at every step (the Pipeline validates after each pass): spike count over
  // the output until decode_output applies a Softmax_Decode key.
  state.network.decode.kind = snn::Decode::Kind::SpikeCount;
  state.network.decode.classes = static_cast<int>(state.network.populations[static_cast<std::size_t>(lowerer.current)].size());
  return state;
}

}  // namespace grindstone::passes
