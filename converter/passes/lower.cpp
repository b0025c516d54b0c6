#include "converter/passes/lower.hpp"

#include <algorithm>

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

/// What an ANN tensor is in the network being built. A spike value is the (binary) output of
/// one population, or the sum of several (an Add of spike tensors). A linear value is a
/// pre-activation z = Σ terms + bias awaiting its step: the terms are projections still to be
/// made from spike populations into the population the step will create — a residual Add of a
/// pre-activation and a shortcut is just one more term (converging projections).
struct Value {
  struct Term {
    int pre = -1;
    snn::Connector connector;
  };
  std::vector<int> spikes;  ///< spike value: the populations whose outputs sum to it
  bool linear = false;
  std::vector<Term> terms;
  Eigen::VectorXf bias;          ///< per neuron of the step's population (empty = none)
  std::string name;              ///< the step population's name (the Dense/Conv2D or the Add)
  Shape shape;                   ///< the step population's shape
  int first_linear = -1;         ///< the Dense/Conv2D layer that started it (for messages)
  std::vector<int> deferred_pools;  ///< max pools between the linear layer(s) and the step
  int pad_top = 0, pad_left = 0;    ///< ZeroPadding2D awaiting the next conv (spike values)
};

struct Lowerer {
  const ann::Model& model;
  std::string file;  // context prefix
  SnnState state;
  std::vector<Value> values;     // per ANN layer
  std::vector<int> consumers;    // per ANN layer: how many layers read it

  std::string ctx(const ann::Layer& layer) const {
    return (file.empty() ? "" : file + ": ") + "layer '" + layer.name + "'";
  }
  const ann::Layer& layer_at(int i) const { return model.layers.at(static_cast<std::size_t>(i)); }
  snn::Population& pop(int i) { return state.network.populations.at(static_cast<std::size_t>(i)); }
  const Value& input_value(const ann::Layer& layer, std::size_t k = 0) const {
    return values.at(static_cast<std::size_t>(layer.inputs.at(k)));
  }

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

  [[noreturn]] void refuse_unsharpened(const ann::Layer& layer, const std::string& what) const {
    throw InputError(ctx(layer) + ": " + what + " is not sharpened; " + kNeedSharpened);
  }
  [[noreturn]] void refuse_pending(const Value& v) const {
    const ann::Layer& l = layer_at(v.first_linear);
    refuse_unsharpened(l, "the output of '" + l.name + "' (no activation)");
  }

  /// The single population of a spike value; refuses a linear value or a sum of spike trains.
  int single_population(const ann::Layer& layer, const Value& v, const std::string& what) const {
    if (v.linear) refuse_pending(v);
    require_input(v.spikes.size() == 1, ctx(layer),
                  "inputs: " + what + " of a sum of " + std::to_string(v.spikes.size()) +
                      " spike tensors (an Add without an activation after it) is not binary");
    return v.spikes.front();
  }

  /// Dense/Conv2D on a spike value: one term per population of the sum (W·(a + b) = W·a + W·b).
  Value linear_of(int index) {
    const ann::Layer& linear = layer_at(index);
    const Value& in = input_value(linear);
    if (in.linear) refuse_pending(in);
    Value v;
    v.linear = true;
    v.name = linear.name;
    v.shape = linear.output_shape;
    v.first_linear = index;
    for (int pre : in.spikes) {
      const snn::Population& p = pop(pre);
      Value::Term t;
      t.pre = pre;
      if (linear.is<ann::Dense>()) {
        const auto& d = linear.as<ann::Dense>();
        require_input(in.pad_top == 0 && in.pad_left == 0, ctx(linear), "ZeroPadding2D before a Dense layer is not supported");
        require_input(d.kernel.rows() == p.size(), ctx(linear),
                      "kernel: " + std::to_string(d.kernel.rows()) + " inputs but the incoming spikes come from " +
                          std::to_string(p.size()) + " neurons (Dense on an image needs a Flatten first)");
        t.connector = snn::DenseConnector{d.kernel};
      } else {
        require_input(p.shape.rank() == 3, ctx(linear), "input_shape: Conv2D needs an image, got " + p.shape.to_string());
        t.connector = conv_connector(linear.as<ann::Conv2D>(), p.shape, linear.output_shape, in.pad_top, in.pad_left);
      }
      v.terms.push_back(std::move(t));
    }
    if (const auto* d = std::get_if<ann::Dense>(&linear.params)) {
      if (d->use_bias) v.bias = d->bias;
    } else if (const auto& c = linear.as<ann::Conv2D>(); c.use_bias) {
      // Per-channel bias → per-neuron (channels-last: channel is the fastest index).
      v.bias.resize(v.shape.size());
      for (std::int64_t k = 0; k < v.shape.size(); ++k) v.bias[k] = c.bias[k % c.filters];
    }
    return v;
  }

  /// The step of a linear value: its population (tick one after its latest input), the
  /// projections of its terms, its bias left for bias_neurons, then the deferred OR pools.
  int emit_step(const ann::Layer& step, const Value& v, float threshold) {
    require_input(state.network.find(v.name) < 0, ctx(step),
                  "inputs: '" + v.name + "' is read by more than one activation before it spikes");
    snn::Population p;
    p.name = v.name;
    p.role = snn::PopulationRole::Hidden;
    p.shape = v.shape;
    p.threshold.assign(static_cast<std::size_t>(v.shape.size()), threshold);
    for (const auto& t : v.terms) p.tick = std::max(p.tick, pop(t.pre).tick + 1);
    p.source_layer = v.name;
    const int post = add_population(std::move(p));
    for (const auto& t : v.terms) add_projection(t.pre, post, t.connector);
    if (v.bias.size() > 0 && !v.bias.isZero(0.0f)) state.pending_bias[v.name] = v.bias;
    int current = post;
    for (int pool : v.deferred_pools) {
      current = emit_pool(layer_at(pool), current);
      state.lowerings_applied.push_back("maxpool_to_or");
    }
    return current;
  }

  int emit_pool(const ann::Layer& layer, int pre) {
    const auto& p = layer.as<ann::Pool2D>();
    require_input(p.kind == ann::PoolKind::Max, ctx(layer),
                  "AveragePooling2D: an average of spikes is not binary; single-pass supports MaxPooling2D only");
    return maxpool_to_or(state, pre, p, layer.output_shape, layer.name);
  }

  static Value spikes_of(int population) {
    Value v;
    v.spikes = {population};
    return v;
  }

  /// Add of linear values and spike values: one linear value whose terms are all of theirs, a
  /// spike input entering one-to-one with weight 1 (a residual shortcut); biases add. An Add of
  /// spike values only stays a sum of spike trains (a later Dense/Conv2D reads each).
  Value merge_add(const ann::Layer& layer) {
    Value out;
    bool any_linear = false;
    for (std::size_t k = 0; k < layer.inputs.size(); ++k) any_linear = any_linear || input_value(layer, k).linear;
    for (std::size_t k = 0; k < layer.inputs.size(); ++k) {
      const Value& in = input_value(layer, k);
      const std::string what = "input '" + layer_at(layer.inputs[k]).name + "'";
      require_input(in.deferred_pools.empty(), ctx(layer),
                    what + ": a max pool before the Add and after a linear layer (pool after the activation instead)");
      require_input(in.pad_top == 0 && in.pad_left == 0, ctx(layer), what + ": ZeroPadding2D before an Add is not supported");
      require_input(layer_at(layer.inputs[k]).output_shape.size() == layer.output_shape.size(), ctx(layer),
                    what + ": shape " + layer_at(layer.inputs[k]).output_shape.to_string() + " differs from the Add's " +
                        layer.output_shape.to_string());
      if (!any_linear) {
        out.spikes.insert(out.spikes.end(), in.spikes.begin(), in.spikes.end());
        continue;
      }
      if (in.linear) {
        require_input(consumers[static_cast<std::size_t>(layer.inputs[k])] == 1, ctx(layer),
                      what + ": a pre-activation read by other layers too cannot join the Add");
        if (!out.linear) {
          out.first_linear = in.first_linear;
          out.shape = in.shape;
        }
        out.linear = true;
        out.terms.insert(out.terms.end(), in.terms.begin(), in.terms.end());
        if (in.bias.size() > 0) out.bias = out.bias.size() > 0 ? Eigen::VectorXf(out.bias + in.bias) : in.bias;
      } else {
        for (int pre : in.spikes) out.terms.push_back({pre, snn::OneToOneConnector{1.0f}});
      }
    }
    out.name = layer.name;
    return out;
  }

  void visit(int index) {
    const ann::Layer& layer = layer_at(index);
    Value& result = values[static_cast<std::size_t>(index)];
    if (layer.is<ann::InputLayer>()) {
      require_input(index == 0, ctx(layer), "inputs: only single-input models can be converted");
      snn::Population in;
      in.name = "input";
      in.role = snn::PopulationRole::Input;
      in.shape = layer.output_shape;
      in.tick = 0;
      result = spikes_of(add_population(std::move(in)));
      state.network.input_shape = layer.output_shape;
      return;
    }
    require_input(!layer.inputs.empty(), ctx(layer), "inputs: none");
    if (layer.is<ann::Merge>()) {
      require_input(layer.as<ann::Merge>().kind == ann::MergeKind::Add, ctx(layer),
                    "merge: only Add of spike trains or pre-activations is a binary network (" + layer.keras_class + " is not)");
      result = merge_add(layer);
      return;
    }
    require_input(layer.inputs.size() == 1, ctx(layer), "inputs: " + std::to_string(layer.inputs.size()) + " inbound layers");
    const Value& in = input_value(layer);
    if (layer.is<ann::Dense>() || layer.is<ann::Conv2D>()) {
      result = linear_of(index);
      return;
    }
    if (layer.is<ann::Activation>()) {
      const auto& a = layer.as<ann::Activation>();
      if (a.kind == ann::ActivationKind::Linear) {  // identity
        result = in;
        return;
      }
      const auto threshold = sharpened_threshold(a);
      if (!in.linear) {
        require_input(a.kind == ann::ActivationKind::SpikingBRelu && threshold, ctx(layer),
                      "activation " + activation_name(a) + " directly on spikes (no Dense/Conv2D before it)");
        if (in.spikes.size() == 1) {  // a step on spikes: Spiking_BRelu(1) maps 0 → 0 and 1 → 1
          result = in;
          return;
        }
        // The step of a sum of spike trains (≥ 0.5: any of them spiked) is an OR neuron.
        Value sum;
        sum.linear = true;
        sum.name = layer.name;
        sum.shape = layer.output_shape;
        for (int pre : in.spikes) sum.terms.push_back({pre, snn::OneToOneConnector{1.0f}});
        result = spikes_of(emit_step(layer, sum, *threshold));
        return;
      }
      if (!threshold) refuse_unsharpened(layer, "activation " + activation_name(a));
      result = spikes_of(emit_step(layer, in, *threshold));
      return;
    }
    if (layer.is<ann::Pool2D>()) {
      if (in.linear) {
        // z → max-pool → step equals z → step → OR-pool: the step is monotone.
        require_input(layer.as<ann::Pool2D>().kind == ann::PoolKind::Max, ctx(layer),
                      "AveragePooling2D: an average of pre-activations is not binary");
        result = in;
        result.deferred_pools.push_back(index);
        return;
      }
      result = spikes_of(emit_pool(layer, single_population(layer, in, "MaxPooling2D")));
      state.lowerings_applied.push_back("maxpool_to_or");
      return;
    }
    if (layer.is<ann::Flatten>() || layer.is<ann::Reshape>()) {
      // Element order is unchanged on our HWC layout (canonicalise_flatten handled CHW).
      require_input(!(layer.is<ann::Flatten>() && layer.as<ann::Flatten>().order == ann::Flatten::Order::CHW),
                    ctx(layer), "data_format: channels_first Flatten left (run canonicalise_flatten)");
      result = in;
      return;
    }
    if (layer.is<ann::ZeroPad2D>()) {
      require_input(!in.linear, ctx(layer), "ZeroPadding2D between a layer and its activation is not supported");
      const auto& z = layer.as<ann::ZeroPad2D>();
      result = in;
      result.pad_top += z.top;
      result.pad_left += z.left;
      return;
    }
    if (layer.is<ann::Identity>()) {
      result = in;
      return;
    }
    if (layer.is<ann::SoftmaxDecode>()) {
      const int pre = single_population(layer, in, "Softmax_Decode");
      require_input(index == model.output, ctx(layer), "Softmax_Decode must be the last layer");
      const auto& key = layer.as<ann::SoftmaxDecode>().key;
      require_input(key.cols() == pop(pre).size(), ctx(layer),
                    "key: width " + std::to_string(key.cols()) + " but the previous layer has " +
                        std::to_string(pop(pre).size()) + " neurons");
      state.decode_key = key;
      result = in;
      return;
    }
    if (layer.is<ann::BatchNorm>())
      throw InputError(ctx(layer) + ": BatchNormalization left unfolded (run fold_batch_norm)");
    if (layer.is<ann::GlobalAveragePool2D>())
      throw InputError(ctx(layer) + ": GlobalAveragePooling2D: an average of spikes is not binary; not supported for single-pass");
    if (layer.is<ann::Concatenate>())
      throw InputError(ctx(layer) + ": Concatenate is not supported for single-pass conversion yet");
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
  Lowerer lowerer{model, model.source.path, {}, std::vector<Value>(model.layers.size()), std::vector<int>(model.layers.size(), 0)};
  for (const auto& layer : model.layers)
    for (int in : layer.inputs) ++lowerer.consumers[static_cast<std::size_t>(in)];
  // Layers are in topological order (model.validate): every input is visited before its reader.
  for (int i = 0; i < static_cast<int>(model.layers.size()); ++i) lowerer.visit(i);
  const ann::Layer& last = model.layers.at(static_cast<std::size_t>(model.output));
  const int output = lowerer.single_population(last, lowerer.values[static_cast<std::size_t>(model.output)], "the output");
  require_input(output > 0, lowerer.file, "layers: the model has no Dense/Conv2D layer to convert");
  SnnState state = std::move(lowerer.state);
  state.network.output = output;
  state.network.populations[static_cast<std::size_t>(output)].role = snn::PopulationRole::Output;
  state.network.input = snn::InputEncoding::Threshold;
  // A complete network at every step (the Pipeline validates after each pass): spike count over
  // the output until decode_output applies a Softmax_Decode key.
  state.network.decode.kind = snn::Decode::Kind::SpikeCount;
  state.network.decode.classes = static_cast<int>(state.network.populations[static_cast<std::size_t>(output)].size());
  return state;
}

}  // namespace grindstone::passes
