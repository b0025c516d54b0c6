#include "converter/zoo/graph.hpp"

#include <cmath>

#include "common/error.hpp"
#include "converter/keras/keras2_h5_writer.hpp"

namespace grindstone::zoo {

namespace {

Json initializer(const std::string& cls) { return Json{{"class_name", cls}, {"config", Json::object()}}; }

Json he_normal() { return Json{{"class_name", "HeNormal"}, {"config", {{"seed", nullptr}}}}; }

/// The entries every Keras 2 layer config starts with.
Json base_config(const std::string& name) { return Json{{"name", name}, {"trainable", true}, {"dtype", "float32"}}; }

void add_regularizers(Json& config, std::initializer_list<const char*> keys) {
  for (const char* k : keys) config[k] = nullptr;
}

/// Keras's window output length (conv, pool) along one axis.
std::int64_t window_length(std::int64_t in, int kernel, int stride, const std::string& padding, const std::string& layer) {
  if (padding == "same") return (in + stride - 1) / stride;
  require_input(in >= kernel, "layer '" + layer + "'",
                "input_shape: " + std::to_string(in) + " is smaller than the window " + std::to_string(kernel) +
                    " (choose a larger --input-shape)");
  return (in - kernel) / stride + 1;
}

/// splitmix64: a small, portable generator (the same values on every platform and library).
struct SplitMix {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

}  // namespace

std::int64_t WeightShape::size() const {
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

std::int64_t ZooLayer::params() const {
  std::int64_t n = 0;
  for (const auto& w : weights) n += w.size();
  return n;
}

std::vector<float> initial_values(const WeightShape& w, std::uint64_t seed, std::uint64_t stream) {
  const auto n = static_cast<std::size_t>(w.size());
  if (w.init == Init::Zeros) return std::vector<float>(n, 0.0f);
  if (w.init == Init::Ones) return std::vector<float>(n, 1.0f);
  // Keras: stddev = sqrt(2 / fan_in) / .87962566103423978 of a normal truncated at ±2σ, which
  // restores the variance 2 / fan_in after truncation.
  const double stddev = std::sqrt(2.0 / static_cast<double>(w.fan_in)) / 0.87962566103423978;
  SplitMix rng{seed * 0x2545F4914F6CDD1Dull + stream};
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    double z = 0.0;
    do {  // Box–Muller, redrawn outside two standard deviations
      const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
      z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    } while (std::fabs(z) > 2.0);
    out[i] = static_cast<float>(z * stddev);
  }
  return out;
}

const Shape& Graph::shape_of(const std::string& name) const { return layer(name).output_shape; }

const ZooLayer& Graph::layer(const std::string& name) const {
  for (const auto& l : layers_)
    if (l.name == name) return l;
  throw InputError("zoo model '" + name_ + "': no layer '" + name + "'");
}

ZooLayer& Graph::push(std::string cls, const std::string& name, Json config, std::vector<std::string> inbound) {
  for (const auto& l : layers_)
    require_input(l.name != name, "zoo model '" + name_ + "'", "layers: duplicate layer name '" + name + "'");
  ZooLayer l;
  l.keras_class = std::move(cls);
  l.name = name;
  l.config = std::move(config);
  l.inbound = std::move(inbound);
  if (!l.inbound.empty()) l.output_shape = shape_of(l.inbound.front());
  layers_.push_back(std::move(l));
  output_ = name;
  return layers_.back();
}

std::string Graph::input(const std::string& name, const Shape& shape) {
  Json config{{"batch_input_shape", Json::array({nullptr})}, {"dtype", "float32"}, {"sparse", false},
              {"ragged", false}, {"name", name}};
  for (auto d : shape.dims) config["batch_input_shape"].push_back(d);
  auto& l = push("InputLayer", name, std::move(config), {});
  l.output_shape = shape;
  input_ = name;
  return name;
}

std::string Graph::conv2d(const std::string& name, const std::string& from, std::int64_t filters, int kernel, int stride,
                          const std::string& padding, bool use_bias, const std::string& activation) {
  const Shape in = shape_of(from);
  Json c = base_config(name);
  c["filters"] = filters;
  c["kernel_size"] = {kernel, kernel};
  c["strides"] = {stride, stride};
  c["padding"] = padding;
  c["data_format"] = "channels_last";
  c["dilation_rate"] = {1, 1};
  c["groups"] = 1;
  c["activation"] = activation;
  c["use_bias"] = use_bias;
  c["kernel_initializer"] = he_normal();
  c["bias_initializer"] = initializer("Zeros");
  add_regularizers(c, {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"});
  auto& l = push("Conv2D", name, std::move(c), {from});
  const std::int64_t fan_in = static_cast<std::int64_t>(kernel) * kernel * in[2];
  l.weights.push_back({"kernel", {kernel, kernel, in[2], filters}, Init::HeNormal, fan_in});
  if (use_bias) l.weights.push_back({"bias", {filters}, Init::Zeros, 1});
  l.output_shape = Shape{window_length(in[0], kernel, stride, padding, name), window_length(in[1], kernel, stride, padding, name), filters};
  l.macs = l.output_shape[0] * l.output_shape[1] * filters * fan_in;
  return name;
}

std::string Graph::depthwise_conv2d(const std::string& name, const std::string& from, int kernel, int stride,
                                    const std::string& padding, bool use_bias) {
  const Shape in = shape_of(from);
  Json c = base_config(name);
  c["kernel_size"] = {kernel, kernel};
  c["strides"] = {stride, stride};
  c["padding"] = padding;
  c["data_format"] = "channels_last";
  c["dilation_rate"] = {1, 1};
  c["groups"] = 1;
  c["activation"] = "linear";
  c["use_bias"] = use_bias;
  c["bias_initializer"] = initializer("Zeros");
  c["depth_multiplier"] = 1;
  c["depthwise_initializer"] = he_normal();
  add_regularizers(c, {"bias_regularizer", "activity_regularizer", "bias_constraint", "depthwise_regularizer",
                       "depthwise_constraint"});
  auto& l = push("DepthwiseConv2D", name, std::move(c), {from});
  // Each output reads kernel² inputs of its own channel.
  const std::int64_t fan_in = static_cast<std::int64_t>(kernel) * kernel;
  l.weights.push_back({"depthwise_kernel", {kernel, kernel, in[2], 1}, Init::HeNormal, fan_in});
  if (use_bias) l.weights.push_back({"bias", {in[2]}, Init::Zeros, 1});
  l.output_shape = Shape{window_length(in[0], kernel, stride, padding, name), window_length(in[1], kernel, stride, padding, name), in[2]};
  l.macs = l.output_shape[0] * l.output_shape[1] * in[2] * fan_in;
  return name;
}

std::string Graph::batch_norm(const std::string& name, const std::string& from, double epsilon, int axis) {
  const auto channels = shape_of(from).dims.back();
  Json c = base_config(name);
  c["axis"] = axis;
  c["momentum"] = 0.99;
  c["epsilon"] = epsilon;
  c["center"] = true;
  c["scale"] = true;
  c["beta_initializer"] = initializer("Zeros");
  c["gamma_initializer"] = initializer("Ones");
  c["moving_mean_initializer"] = initializer("Zeros");
  c["moving_variance_initializer"] = initializer("Ones");
  add_regularizers(c, {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"});
  auto& l = push("BatchNormalization", name, std::move(c), {from});
  l.weights = {{"gamma", {channels}, Init::Ones, 1},
               {"beta", {channels}, Init::Zeros, 1},
               {"moving_mean", {channels}, Init::Zeros, 1},
               {"moving_variance", {channels}, Init::Ones, 1}};
  return name;
}

std::string Graph::activation(const std::string& name, const std::string& from, const std::string& kind) {
  Json c = base_config(name);
  c["activation"] = kind;
  push("Activation", name, std::move(c), {from});
  return name;
}

std::string Graph::relu(const std::string& name, const std::string& from, double max_value) {
  Json c = base_config(name);
  c["max_value"] = max_value;
  c["negative_slope"] = 0.0;
  c["threshold"] = 0.0;
  push("ReLU", name, std::move(c), {from});
  return name;
}

std::string Graph::zero_pad(const std::string& name, const std::string& from, int top, int bottom, int left, int right) {
  const Shape in = shape_of(from);
  Json c = base_config(name);
  c["padding"] = Json::array({Json::array({top, bottom}), Json::array({left, right})});
  c["data_format"] = "channels_last";
  auto& l = push("ZeroPadding2D", name, std::move(c), {from});
  l.output_shape = Shape{in[0] + top + bottom, in[1] + left + right, in[2]};
  return name;
}

std::string Graph::max_pool(const std::string& name, const std::string& from, int pool, int stride, const std::string& padding) {
  const Shape in = shape_of(from);
  Json c = base_config(name);
  c["pool_size"] = {pool, pool};
  c["padding"] = padding;
  c["strides"] = {stride, stride};
  c["data_format"] = "channels_last";
  auto& l = push("MaxPooling2D", name, std::move(c), {from});
  l.output_shape = Shape{window_length(in[0], pool, stride, padding, name), window_length(in[1], pool, stride, padding, name), in[2]};
  return name;
}

std::string Graph::global_average_pool(const std::string& name, const std::string& from) {
  const Shape in = shape_of(from);
  Json c = base_config(name);
  c["data_format"] = "channels_last";
  c["keepdims"] = false;
  auto& l = push("GlobalAveragePooling2D", name, std::move(c), {from});
  l.output_shape = Shape{in[2]};
  return name;
}

std::string Graph::flatten(const std::string& name, const std::string& from) {
  const Shape in = shape_of(from);
  Json c = base_config(name);
  c["data_format"] = "channels_last";
  auto& l = push("Flatten", name, std::move(c), {from});
  l.output_shape = Shape{in.size()};
  return name;
}

std::string Graph::reshape(const std::string& name, const std::string& from, const Shape& target) {
  require_input(shape_of(from).size() == target.size(), "layer '" + name + "'", "target_shape: element count differs");
  Json c = base_config(name);
  c["target_shape"] = target.dims;
  auto& l = push("Reshape", name, std::move(c), {from});
  l.output_shape = target;
  return name;
}

std::string Graph::dropout(const std::string& name, const std::string& from, double rate) {
  Json c = base_config(name);
  c["rate"] = rate;
  c["noise_shape"] = nullptr;
  c["seed"] = nullptr;
  push("Dropout", name, std::move(c), {from});
  return name;
}

std::string Graph::dense(const std::string& name, const std::string& from, std::int64_t units, const std::string& activation) {
  const auto in = shape_of(from).dims.back();
  Json c = base_config(name);
  c["units"] = units;
  c["activation"] = activation;
  c["use_bias"] = true;
  c["kernel_initializer"] = he_normal();
  c["bias_initializer"] = initializer("Zeros");
  add_regularizers(c, {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"});
  auto& l = push("Dense", name, std::move(c), {from});
  l.weights = {{"kernel", {in, units}, Init::HeNormal, in}, {"bias", {units}, Init::Zeros, 1}};
  l.output_shape = Shape{units};
  l.macs = in * units;
  return name;
}

std::string Graph::add(const std::string& name, const std::vector<std::string>& from) {
  for (const auto& f : from)
    require_input(shape_of(f) == shape_of(from.front()), "layer '" + name + "'", "inbound_nodes: Add of different shapes");
  push("Add", name, base_config(name), from);
  return name;
}

std::int64_t Graph::params() const {
  std::int64_t n = 0;
  for (const auto& l : layers_) n += l.params();
  return n;
}

std::int64_t Graph::macs() const {
  std::int64_t n = 0;
  for (const auto& l : layers_) n += l.macs;
  return n;
}

Json Graph::model_config() const {
  Json layers = Json::array();
  for (const auto& l : layers_) {
    Json call = Json::array();
    for (const auto& in : l.inbound) call.push_back(Json::array({in, 0, 0, Json::object()}));
    Json nodes = Json::array();
    if (!call.empty()) nodes.push_back(std::move(call));
    layers.push_back(Json{{"class_name", l.keras_class}, {"config", l.config}, {"name", l.name}, {"inbound_nodes", nodes}});
  }
  return Json{{"class_name", "Functional"},
              {"config",
               {{"name", name_},
                {"layers", std::move(layers)},
                {"input_layers", Json::array({Json::array({input_, 0, 0})})},
                {"output_layers", Json::array({Json::array({output_, 0, 0})})}}},
              {"keras_version", keras::kWrittenKerasVersion},
              {"backend", "tensorflow"}};
}

void Graph::save(const std::filesystem::path& path, std::uint64_t seed) const {
  std::vector<std::string> names;
  for (const auto& l : layers_) names.push_back(l.name);
  keras::write_keras2_h5(path, model_config().dump(), names, [&](std::size_t i) {
    std::vector<keras::SavedWeight> out;
    for (std::size_t k = 0; k < layers_[i].weights.size(); ++k) {
      const auto& w = layers_[i].weights[k];
      std::vector<hsize_t> dims(w.dims.begin(), w.dims.end());
      out.push_back({w.name, std::move(dims), initial_values(w, seed, i * 8 + k)});
    }
    return out;
  });
}

}  // namespace grindstone::zoo
