#include "converter/ann/model.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <boost/graph/topological_sort.hpp>
#include <boost/graph/visitors.hpp>
#include <cmath>
#include <iterator>
#include <set>

#include "common/error.hpp"

namespace grindstone::ann {

namespace {

std::string layer_context(const Layer& layer) { return "layer '" + layer.name + "'"; }

std::string dims_string(Eigen::Index rows, Eigen::Index cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

/// Keras's output length of a windowed op (conv, pool) along one axis.
std::int64_t window_output_length(std::int64_t in, int kernel, int stride, int dilation, Padding padding,
                                  const std::string& context, const std::string& field) {
  require_input(kernel > 0, context, field + ": kernel size " + std::to_string(kernel) + " must be positive");
  require_input(stride > 0, context, field + ": stride " + std::to_string(stride) + " must be positive");
  require_input(dilation > 0, context, field + ": dilation " + std::to_string(dilation) + " must be positive");
  if (padding == Padding::Same) return (in + stride - 1) / stride;
  const std::int64_t effective = static_cast<std::int64_t>(kernel - 1) * dilation + 1;
  require_input(in >= effective, context,
                field + ": input length " + std::to_string(in) + " is smaller than the (dilated) window " +
                    std::to_string(effective) + " with padding 'valid'");
  return (in - effective) / stride + 1;
}

const Shape& require_image(const Shape& in, const std::string& context) {
  require_input(in.rank() == 3, context, "input_shape: expected (height, width, channels), got " + in.to_string());
  return in;
}

/// Output shape of a Conv2D-like window op (Conv2D, DepthwiseConv2D share the field names).
template <class Conv>
Shape conv_output_shape(const Conv& c, const Shape& in, std::int64_t channels, const std::string& ctx) {
  require_input(c.dilation_h == 1 || c.stride_h == 1, ctx, "strides: Keras forbids strides > 1 with dilation > 1");
  require_input(c.dilation_w == 1 || c.stride_w == 1, ctx, "strides: Keras forbids strides > 1 with dilation > 1");
  const auto h = window_output_length(in[0], c.kernel_h, c.stride_h, c.dilation_h, c.padding, ctx, "kernel_size[0]");
  const auto w = window_output_length(in[1], c.kernel_w, c.stride_w, c.dilation_w, c.padding, ctx, "kernel_size[1]");
  return Shape{h, w, channels};
}

template <class Derived>
bool all_finite(const Eigen::MatrixBase<Derived>& m) {
  return m.allFinite();
}

struct OutputShapeVisitor {
  const Layer& layer;
  const Shape& in;                 ///< the first input (the only one of single-input layers)
  const std::vector<Shape>& ins;   ///< all inputs, in order
  const std::string ctx;

  Shape operator()(const InputLayer&) const {
    require_input(layer.output_shape.rank() > 0, ctx, "batch_input_shape: empty input shape");
    for (auto d : layer.output_shape.dims)
      require_input(d > 0, ctx, "batch_input_shape: dimension " + std::to_string(d) + " must be positive in " +
                                    layer.output_shape.to_string());
    return layer.output_shape;
  }

  Shape operator()(const Dense& d) const {
    require_input(in.rank() >= 1, ctx, "input_shape: Dense needs at least one axis");
    const auto in_units = in.dims.back();
    require_input(d.kernel.rows() == in_units, ctx,
                  "kernel: shape " + dims_string(d.kernel.rows(), d.kernel.cols()) + " but the input has " +
                      std::to_string(in_units) + " features");
    require_input(d.kernel.cols() > 0, ctx, "kernel: zero units");
    require_input(d.bias.size() == d.kernel.cols(), ctx,
                  "bias: " + std::to_string(d.bias.size()) + " values but units=" + std::to_string(d.kernel.cols()));
    Shape out = in;
    out.dims.back() = d.kernel.cols();
    return out;
  }

  Shape operator()(const Conv2D& c) const {
    require_image(in, ctx);
    require_input(in[2] == c.in_channels, ctx,
                  "in_channels: " + std::to_string(c.in_channels) + " but the input " + in.to_string() + " has " +
                      std::to_string(in[2]) + " channels");
    require_input(c.filters > 0, ctx, "filters: " + std::to_string(c.filters) + " must be positive");
    const auto rows = static_cast<Eigen::Index>(c.kernel_h) * c.kernel_w * c.in_channels;
    require_input(c.kernel.rows() == rows && c.kernel.cols() == c.filters, ctx,
                  "kernel: shape " + dims_string(c.kernel.rows(), c.kernel.cols()) + " but kernel_size " +
                      std::to_string(c.kernel_h) + "x" + std::to_string(c.kernel_w) + ", " +
                      std::to_string(c.in_channels) + " input channels and " + std::to_string(c.filters) +
                      " filters need " + dims_string(rows, c.filters));
    require_input(c.bias.size() == c.filters, ctx,
                  "bias: " + std::to_string(c.bias.size()) + " values but filters=" + std::to_string(c.filters));
    return conv_output_shape(c, in, c.filters, ctx);
  }

  Shape operator()(const Pool2D& p) const {
    require_image(in, ctx);
    const auto h = window_output_length(in[0], p.pool_h, p.stride_h, 1, p.padding, ctx, "pool_size[0]");
    const auto w = window_output_length(in[1], p.pool_w, p.stride_w, 1, p.padding, ctx, "pool_size[1]");
    return Shape{h, w, in[2]};
  }

  Shape operator()(const GlobalAveragePool2D&) const {
    require_image(in, ctx);
    return Shape{in[2]};
  }

  Shape operator()(const ZeroPad2D& z) const {
    require_image(in, ctx);
    require_input(z.top >= 0 && z.bottom >= 0 && z.left >= 0 && z.right >= 0, ctx, "padding: negative padding");
    return Shape{in[0] + z.top + z.bottom, in[1] + z.left + z.right, in[2]};
  }

  Shape operator()(const Flatten& f) const {
    require_input(f.order == Flatten::Order::HWC || in.rank() == 3, ctx,
                  "data_format: channels_first flatten needs an image input, got " + in.to_string());
    return Shape{in.size()};
  }

  Shape operator()(const Reshape& r) const {
    require_input(r.target.rank() > 0, ctx, "target_shape: empty");
    int unknown = -1;
    std::int64_t known = 1;
    for (std::size_t i = 0; i < r.target.rank(); ++i) {
      const auto d = r.target[i];
      if (d == -1) {
        require_input(unknown < 0, ctx, "target_shape: more than one -1 in " + r.target.to_string());
        unknown = static_cast<int>(i);
      } else {
        require_input(d > 0, ctx, "target_shape: dimension " + std::to_string(d) + " in " + r.target.to_string());
        known *= d;
      }
    }
    Shape out = r.target;
    if (unknown >= 0) {
      require_input(in.size() % known == 0, ctx,
                    "target_shape: " + r.target.to_string() + " does not divide the input " + in.to_string());
      out.dims[static_cast<std::size_t>(unknown)] = in.size() / known;
    }
    require_input(out.size() == in.size(), ctx,
                  "target_shape: " + r.target.to_string() + " has " + std::to_string(out.size()) +
                      " elements but the input " + in.to_string() + " has " + std::to_string(in.size()));
    return out;
  }

  Shape operator()(const BatchNorm& b) const {
    require_input(in.rank() >= 1, ctx, "input_shape: BatchNormalization needs at least one axis");
    const auto channels = in.dims.back();
    auto check = [&](const Vector& v, const char* field) {
      require_input(v.size() == channels, ctx,
                    std::string(field) + ": " + std::to_string(v.size()) + " values but the input has " +
                        std::to_string(channels) + " channels");
    };
    check(b.gamma, "gamma");
    check(b.beta, "beta");
    check(b.moving_mean, "moving_mean");
    check(b.moving_variance, "moving_variance");
    require_input(std::isfinite(b.epsilon) && b.epsilon >= 0.0f, ctx, "epsilon: must be finite and non-negative");
    require_input((b.moving_variance.array() + b.epsilon > 0.0f).all(), ctx,
                  "moving_variance: variance + epsilon must be positive");
    return in;
  }

  Shape operator()(const Activation& a) const {
    const bool spiking = a.kind == ActivationKind::SpikingBRelu || a.kind == ActivationKind::SpikingSigmoid;
    if (spiking)
      require_input(a.sharpness >= 0.0f && a.sharpness <= 1.0f, ctx,
                    "sharpness: " + std::to_string(a.sharpness) + " outside [0, 1]");
    return in;
  }

  Shape operator()(const SoftmaxDecode& s) const {
    require_input(in.rank() == 1, ctx, "input_shape: Softmax_Decode needs a flat input, got " + in.to_string());
    require_input(s.key.rows() > 0, ctx, "key: no classes");
    require_input(s.key.cols() == in[0], ctx,
                  "key: shape " + dims_string(s.key.rows(), s.key.cols()) + " but the input has " +
                      std::to_string(in[0]) + " values");
    require_input(((s.key.array() == 0.0f) || (s.key.array() == 1.0f)).all(), ctx, "key: entries must be 0 or 1");
    return Shape{static_cast<std::int64_t>(s.key.rows())};
  }

  Shape operator()(const Identity&) const { return in; }

  Shape operator()(const GlobalMaxPool2D&) const {
    require_image(in, ctx);
    return Shape{in[2]};
  }

  Shape operator()(const DepthwiseConv2D& c) const {
    require_image(in, ctx);
    require_input(in[2] == c.channels, ctx,
                  "channels: " + std::to_string(c.channels) + " but the input " + in.to_string() + " has " +
                      std::to_string(in[2]) + " channels");
    require_input(c.depth_multiplier > 0, ctx, "depth_multiplier: must be positive");
    const auto cols = static_cast<Eigen::Index>(c.channels) * c.depth_multiplier;
    const auto rows = static_cast<Eigen::Index>(c.kernel_h) * c.kernel_w;
    require_input(c.kernel.rows() == rows && c.kernel.cols() == cols, ctx,
                  "depthwise_kernel: shape " + dims_string(c.kernel.rows(), c.kernel.cols()) + " but needs " +
                      dims_string(rows, cols));
    require_input(c.bias.size() == cols, ctx,
                  "bias: " + std::to_string(c.bias.size()) + " values but the layer has " + std::to_string(cols) +
                      " output channels");
    return conv_output_shape(c, in, cols, ctx);
  }

  Shape operator()(const Merge& m) const {
    require_input(m.kind != MergeKind::Subtract || ins.size() == 2, ctx,
                  "inbound_nodes: Subtract takes exactly two inputs, got " + std::to_string(ins.size()));
    for (std::size_t k = 1; k < ins.size(); ++k)
      require_input(ins[k] == in, ctx,
                    "inbound_nodes: input " + std::to_string(k) + " has shape " + ins[k].to_string() +
                        " but input 0 has " + in.to_string() + " (merge inputs must have equal shapes)");
    return in;
  }

  Shape operator()(const Concatenate& c) const {
    const auto rank = static_cast<int>(in.rank());
    require_input(c.axis >= 0 && c.axis < rank, ctx,
                  "axis: " + std::to_string(c.axis) + " out of range for inputs of shape " + in.to_string());
    Shape out = in;
    for (std::size_t k = 1; k < ins.size(); ++k) {
      bool fits = ins[k].rank() == in.rank();
      for (int a = 0; fits && a < rank; ++a) fits = a == c.axis || ins[k][static_cast<std::size_t>(a)] == in[static_cast<std::size_t>(a)];
      require_input(fits, ctx,
                    "inbound_nodes: input " + std::to_string(k) + " has shape " + ins[k].to_string() +
                        ", which does not match " + in.to_string() + " except along axis " + std::to_string(c.axis));
      out.dims[static_cast<std::size_t>(c.axis)] += ins[k][static_cast<std::size_t>(c.axis)];
    }
    return out;
  }

  Shape operator()(const Rescale& r) const {
    require_input(in.rank() >= 1, ctx, "input_shape: Rescaling needs at least one axis");
    const auto channels = in.dims.back();
    for (const auto* v : {&r.scale, &r.offset})
      require_input(v->size() == 1 || v->size() == channels, ctx,
                    std::string(v == &r.scale ? "scale" : "offset") + ": " + std::to_string(v->size()) +
                        " values but the input has " + std::to_string(channels) + " channels");
    return in;
  }
};

/// Checks weights for NaN/Inf (each kind names its fields).
void check_finite(const Layer& layer) {
  const auto ctx = layer_context(layer);
  auto check = [&](bool ok, const char* field) { require_input(ok, ctx, std::string(field) + ": NaN or Inf value"); };
  if (layer.is<Dense>()) {
    check(all_finite(layer.as<Dense>().kernel), "kernel");
    check(all_finite(layer.as<Dense>().bias), "bias");
  } else if (layer.is<Conv2D>()) {
    check(all_finite(layer.as<Conv2D>().kernel), "kernel");
    check(all_finite(layer.as<Conv2D>().bias), "bias");
  } else if (layer.is<BatchNorm>()) {
    const auto& b = layer.as<BatchNorm>();
    check(all_finite(b.gamma), "gamma");
    check(all_finite(b.beta), "beta");
    check(all_finite(b.moving_mean), "moving_mean");
    check(all_finite(b.moving_variance), "moving_variance");
  } else if (layer.is<DepthwiseConv2D>()) {
    check(all_finite(layer.as<DepthwiseConv2D>().kernel), "depthwise_kernel");
    check(all_finite(layer.as<DepthwiseConv2D>().bias), "bias");
  } else if (layer.is<Rescale>()) {
    check(all_finite(layer.as<Rescale>().scale), "scale");
    check(all_finite(layer.as<Rescale>().offset), "offset");
  } else if (layer.is<SoftmaxDecode>()) {
    check(all_finite(layer.as<SoftmaxDecode>().key), "key");
  } else if (layer.is<Activation>()) {
    const auto& a = layer.as<Activation>();
    check(std::isfinite(a.sharpness), "sharpness");
    check(!a.relu_max_value || std::isfinite(*a.relu_max_value), "max_value");
    check(std::isfinite(a.relu_negative_slope), "negative_slope");
    check(std::isfinite(a.relu_threshold), "threshold");
  }
}

}  // namespace

std::int64_t Layer::param_count() const {
  return std::visit(
      [](const auto& p) -> std::int64_t {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, Dense> || std::is_same_v<T, Conv2D> || std::is_same_v<T, DepthwiseConv2D>) {
          return static_cast<std::int64_t>(p.kernel.size()) + (p.use_bias ? static_cast<std::int64_t>(p.bias.size()) : 0);
        } else if constexpr (std::is_same_v<T, BatchNorm>) {
          // Keras counts gamma, beta, moving_mean and moving_variance (2 trainable + 2 not).
          return static_cast<std::int64_t>(p.gamma.size() + p.beta.size() + p.moving_mean.size() +
                                           p.moving_variance.size());
        } else {
          // Softmax_Decode keeps its key in the layer config, not as a weight.
          return 0;
        }
      },
      params);
}

bool is_multi_input(const LayerParams& params) {
  return std::holds_alternative<Merge>(params) || std::holds_alternative<Concatenate>(params);
}

bool Model::is_chain() const {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& in = layers[i].inputs;
    if (layers[i].is<InputLayer>() ? !in.empty() : (in.size() != 1 || in[0] != static_cast<int>(i) - 1)) return false;
  }
  return output == static_cast<int>(layers.size()) - 1;
}

int Model::input_index() const {
  int found = -1;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (!layers[i].is<InputLayer>()) continue;
    if (found >= 0)
      throw InputError("model '" + name + "': layers: more than one InputLayer ('" +
                       layers[static_cast<std::size_t>(found)].name + "' and '" + layers[i].name + "')");
    found = static_cast<int>(i);
  }
  require_input(found >= 0, "model '" + name + "'", "layers: no InputLayer");
  return found;
}

int Model::find(const std::string& layer_name) const {
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == layer_name) return static_cast<int>(i);
  return -1;
}

std::int64_t Model::param_count() const {
  std::int64_t total = 0;
  for (const auto& l : layers) total += l.param_count();
  return total;
}

Shape infer_output_shape(const Layer& layer, const std::vector<Shape>& input_shapes) {
  const auto ctx = layer_context(layer);
  if (layer.is<InputLayer>()) {
    require_input(input_shapes.empty(), ctx, "inbound_nodes: an InputLayer takes no inputs");
    static const Shape none;
    return std::visit(OutputShapeVisitor{layer, none, input_shapes, ctx}, layer.params);
  }
  if (is_multi_input(layer.params)) {
    require_input(input_shapes.size() >= 2, ctx,
                  "inbound_nodes: a merge layer needs at least two inputs, got " + std::to_string(input_shapes.size()));
  } else {
    require_input(input_shapes.size() == 1, ctx,
                  "inbound_nodes: expected exactly one input, got " + std::to_string(input_shapes.size()));
  }
  for (const auto& shape : input_shapes)
    for (auto d : shape.dims) require_input(d > 0, ctx, "input_shape: non-positive dimension in " + shape.to_string());
  return std::visit(OutputShapeVisitor{layer, input_shapes[0], input_shapes, ctx}, layer.params);
}

void Model::validate() const {
  const std::string model_ctx = "model '" + name + "'";
  require_input(!layers.empty(), model_ctx, "layers: no layers");
  const auto n = layers.size();
  require_input(output >= 0 && static_cast<std::size_t>(output) < n, model_ctx,
                "output: layer index " + std::to_string(output) + " out of range");

  std::set<std::string> names;
  for (const auto& l : layers) {
    require_input(!l.name.empty(), model_ctx, "layers: a layer has an empty name");
    require_input(names.insert(l.name).second, model_ctx, "layers: duplicate layer name '" + l.name + "'");
  }
  const int input = input_index();

  // The graph: an edge from each input layer to its consumer.
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  Graph graph(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (int src : layers[i].inputs) {
      require_input(src >= 0 && static_cast<std::size_t>(src) < n, layer_context(layers[i]),
                    "inputs: layer index " + std::to_string(src) + " out of range");
      boost::add_edge(static_cast<std::size_t>(src), i, graph);
    }
  }

  std::vector<std::size_t> reverse_order;
  try {
    boost::topological_sort(graph, std::back_inserter(reverse_order));
  } catch (const boost::not_a_dag&) {
    throw InputError(model_ctx + ": inputs: the layer graph has a cycle");
  }
  // Layers must already be stored in a topological order: every input precedes its consumer.
  for (std::size_t i = 0; i < n; ++i)
    for (int src : layers[i].inputs)
      require_input(static_cast<std::size_t>(src) < i, layer_context(layers[i]),
                    "inputs: input '" + layers[static_cast<std::size_t>(src)].name +
                        "' comes later in the layer list (layers must be in topological order)");

  // Every layer must feed the output: search backwards from it.
  std::vector<boost::default_color_type> colors(n, boost::white_color);
  auto reversed = boost::make_reverse_graph(graph);
  boost::breadth_first_search(reversed, static_cast<std::size_t>(output),
                              boost::color_map(boost::make_iterator_property_map(
                                  colors.begin(), boost::get(boost::vertex_index, reversed))));
  for (std::size_t i = 0; i < n; ++i)
    require_input(colors[i] != boost::white_color, layer_context(layers[i]),
                  "outputs: the layer does not contribute to the output layer '" +
                      layers[static_cast<std::size_t>(output)].name + "'");
  require_input(colors[static_cast<std::size_t>(input)] != boost::white_color, model_ctx,
                "output: the output layer does not depend on the input");

  for (std::size_t i = 0; i < n; ++i) {
    const auto& l = layers[i];
    std::vector<Shape> in_shapes;
    for (int src : l.inputs) in_shapes.push_back(layers[static_cast<std::size_t>(src)].output_shape);
    const Shape expected = infer_output_shape(l, in_shapes);
    require_input(expected == l.output_shape, layer_context(l),
                  "output_shape: recorded " + l.output_shape.to_string() + " but the weights and input give " +
                      expected.to_string());
    check_finite(l);
  }
}

}  // namespace grindstone::ann
