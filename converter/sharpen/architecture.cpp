#include "converter/sharpen/architecture.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <variant>
#include <vector>

#include "common/error.hpp"
#include "converter/sharpen/key.hpp"

namespace grindstone::sharpen {

namespace {

/// Streams of the counter-based RNG: one per weighted layer, so adding a layer never changes
/// the initialisation of the layers before it.
constexpr std::uint64_t kInitStreamBase = 0x1000;

struct DenseItem { int units; };
struct ConvItem { int filters; int kernel; ann::Padding padding; };
struct PoolItem { int size; };
struct DropoutItem { float rate; };
using Item = std::variant<DenseItem, ConvItem, PoolItem, DropoutItem>;

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  while (true) {
    auto pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return parts;
}

std::optional<int> parse_positive(const std::string& s) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size() || value <= 0 || value > 1000000) return std::nullopt;
  return value;
}

[[noreturn]] void bad_item(const std::string& item, const std::string& why) {
  throw InputError("--arch: item '" + item + "': " + why + " (see grindstone sharpen --help)");
}

struct ParsedSpec {
  std::vector<Item> items;
  bool batch_norm = false;
};

ParsedSpec parse_spec(const std::string& spec) {
  ParsedSpec parsed;
  bool previous_dense = false;
  require_input(!trim(spec).empty(), "--arch", "empty specification");
  for (const auto& raw : split(spec, ',')) {
    const std::string item = trim(raw);
    std::string lower = item;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.empty()) bad_item(item, "empty item");
    if (lower == "bn") {
      parsed.batch_norm = true;
      previous_dense = false;
      continue;
    }
    if (auto n = parse_positive(lower)) {
      if (!previous_dense) bad_item(item, "a bare number must continue a dense:N list");
      parsed.items.push_back(DenseItem{*n});
      continue;
    }
    const auto fields = split(lower, ':');
    const std::string& kind = fields[0];
    previous_dense = false;
    if (kind == "dense") {
      if (fields.size() != 2) bad_item(item, "expected dense:N");
      auto n = parse_positive(fields[1]);
      if (!n) bad_item(item, "units must be a positive integer");
      parsed.items.push_back(DenseItem{*n});
      previous_dense = true;
    } else if (kind == "conv") {
      if (fields.size() != 2 && fields.size() != 3) bad_item(item, "expected conv:FxK or conv:FxK:valid");
      const auto fk = split(fields[1], 'x');
      if (fk.size() != 2) bad_item(item, "expected FxK (filters x kernel size)");
      auto f = parse_positive(fk[0]);
      auto k = parse_positive(fk[1]);
      if (!f || !k) bad_item(item, "filters and kernel size must be positive integers");
      ann::Padding padding = ann::Padding::Same;
      if (fields.size() == 3) {
        if (fields[2] == "valid") padding = ann::Padding::Valid;
        else if (fields[2] != "same") bad_item(item, "padding must be 'same' or 'valid'");
      }
      parsed.items.push_back(ConvItem{*f, *k, padding});
    } else if (kind == "pool") {
      if (fields.size() != 2) bad_item(item, "expected pool:P");
      auto p = parse_positive(fields[1]);
      if (!p) bad_item(item, "pool size must be a positive integer");
      parsed.items.push_back(PoolItem{*p});
    } else if (kind == "dropout") {
      float rate = -1.0f;
      if (fields.size() == 2) {
        try {
          std::size_t used = 0;
          rate = std::stof(fields[1], &used);
          if (used != fields[1].size()) rate = -1.0f;
        } catch (const std::exception&) {
          rate = -1.0f;
        }
      }
      if (!(rate >= 0.0f && rate < 1.0f)) bad_item(item, "expected dropout:R with 0 <= R < 1");
      parsed.items.push_back(DropoutItem{rate});
    } else {
      bad_item(item, "unknown item kind '" + kind + "'");
    }
  }
  return parsed;
}

/// Appends layers, naming them Keras-style and initialising weights.
class Builder {
 public:
  Builder(Network& net, const BuildOptions& options) : net_(net), options_(options) {}
  LayerNamer& namer() { return namer_; }

  void flatten_if_image() {
    if (net_.output_shape().rank() > 1) net_.add(std::make_unique<FlattenLayer>(namer_.next("flatten"), net_.output_shape()));
  }
  DenseLayer& dense(int units) {
    flatten_if_image();
    const auto in = net_.output_shape().size();
    auto layer = std::make_unique<DenseLayer>(namer_.next("dense"), in, units);
    glorot_uniform(layer->kernel, in, units, options_.seed, kInitStreamBase + next_stream_++);
    auto& ref = *layer;
    net_.add(std::move(layer));
    return ref;
  }
  void conv(int filters, int kernel, ann::Padding padding) {
    if (net_.output_shape().rank() != 3)
      throw InputError("--arch: conv after a flattened (dense) layer; convolutions must come first");
    const auto in = net_.output_shape();
    auto layer = std::make_unique<Conv2DLayer>(namer_.next("conv2d"), in, filters, kernel, kernel, 1, padding);
    const std::int64_t area = static_cast<std::int64_t>(kernel) * kernel;
    glorot_uniform(layer->kernel, area * in[2], area * filters, options_.seed, kInitStreamBase + next_stream_++);
    net_.add(std::move(layer));
  }
  void pool(int size) {
    if (net_.output_shape().rank() != 3) throw InputError("--arch: pool after a flattened (dense) layer");
    net_.add(std::make_unique<MaxPoolLayer>(namer_.next("max_pooling2d"), net_.output_shape(), size, size,
                                            ann::Padding::Valid));
  }
  void batch_norm() { net_.add(std::make_unique<BatchNormLayer>(namer_.next("batch_normalization"), net_.output_shape())); }
  void dropout(float rate) {
    net_.add(std::make_unique<DropoutLayer>(namer_.next("dropout"), net_.output_shape(), rate, 0xd0 + next_stream_++));
  }
  void spiking(float sharpness = 0.0f) {
    net_.add(std::make_unique<SpikingBReluLayer>(namer_.next("spiking_b_relu"), net_.output_shape(), sharpness));
  }
  void head(bool with_batch_norm) {
    dense(options_.key_width);
    if (with_batch_norm) batch_norm();
    spiking();
    net_.add(std::make_unique<SoftmaxDecodeLayer>(
        namer_.next("softmax__decode"),
        generate_key(options_.num_classes, options_.key_width, options_.overlapping_key, options_.seed)));
  }

 private:
  Network& net_;
  const BuildOptions& options_;
  LayerNamer namer_;
  std::uint64_t next_stream_ = 0;
};

std::string layer_context(const ann::Layer& layer) { return "layer '" + layer.name + "'"; }

/// The new Softmax_Decode head of a fine-tuned model starts from the replaced classifier instead
/// of random weights, so fine-tuning begins near the source model's accuracy rather than at chance
/// (a random head cost the Keras 3 MLP 0.98 -> 0.5 on 900 images). Neuron j of the head sees
/// alpha * sum_c key[c][j] * (z_c - mean(z)), z the old logits: it is driven up exactly when a
/// class whose code contains j wins. alpha scales typical logits (a few units) to the unit
/// range of the bounded ReLU; training adjusts it from there.
void warm_start_head(Network& net, const ann::Dense& old) {
  const auto& layers = net.layers();
  const auto* decode = dynamic_cast<const SoftmaxDecodeLayer*>(layers.back().get());
  DenseLayer* head = nullptr;
  for (auto it = layers.rbegin(); it != layers.rend() && !head; ++it) head = dynamic_cast<DenseLayer*>(it->get());
  if (!decode || !head || old.kernel.cols() != decode->key.rows() || old.kernel.rows() != head->kernel.rows()) return;
  constexpr float kAlpha = 0.25f;
  const Eigen::Index classes = old.kernel.cols();
  // Centre the old logits over the classes: z - mean(z) = z * (I - 1/C).
  const ann::Matrix centre = ann::Matrix::Identity(classes, classes).array() - 1.0f / static_cast<float>(classes);
  const ann::Matrix map = kAlpha * centre * decode->key;  // (classes, width)
  head->kernel = old.kernel * map;
  const ann::Vector old_bias = old.use_bias ? old.bias : ann::Vector::Zero(classes);
  head->bias = (old_bias.transpose() * map).transpose();
}

}  // namespace

std::string architecture_grammar() {
  return "--arch is a comma-separated list of items, input to output:\n"
         "  dense:N       a Dense layer of N units; bare numbers that follow add more Dense layers\n"
         "                (dense:256,64 = Dense(256), Dense(64))\n"
         "  conv:FxK      Conv2D with F filters of K x K, stride 1, padding 'same'\n"
         "  conv:FxK:valid  the same with padding 'valid'\n"
         "  pool:P        MaxPooling2D P x P, stride P\n"
         "  dropout:R     Dropout with rate R at this point\n"
         "  bn            put BatchNormalization between every Dense/Conv2D and its activation\n"
         "Every Dense/Conv2D is followed by Spiking_BRelu; Flatten is inserted before the first Dense\n"
         "after convolutions; the network always ends in Dense(--key-width) + Spiking_BRelu +\n"
         "Softmax_Decode. Examples: dense:100,100   dense:256,64   conv:32x5,pool:2,conv:64x5,pool:2,dense:500";
}

Network build_from_spec(const std::string& spec, const BuildOptions& options) {
  const ParsedSpec parsed = parse_spec(spec);
  const bool images = std::any_of(parsed.items.begin(), parsed.items.end(), [](const Item& it) {
    return std::holds_alternative<ConvItem>(it) || std::holds_alternative<PoolItem>(it);
  });
  Network net(images ? options.image_shape : Shape{options.image_shape.size()});
  Builder build(net, options);
  for (const auto& item : parsed.items) {
    if (const auto* d = std::get_if<DenseItem>(&item)) {
      build.dense(d->units);
      if (parsed.batch_norm) build.batch_norm();
      build.spiking();
    } else if (const auto* c = std::get_if<ConvItem>(&item)) {
      build.conv(c->filters, c->kernel, c->padding);
      if (parsed.batch_norm) build.batch_norm();
      build.spiking();
    } else if (const auto* p = std::get_if<PoolItem>(&item)) {
      build.pool(p->size);
    } else if (const auto* r = std::get_if<DropoutItem>(&item)) {
      build.dropout(r->rate);
    }
  }
  build.head(parsed.batch_norm);
  return net;
}

Network build_from_model(const ann::Model& model, const BuildOptions& options) {
  // The chain from the input to the output.
  std::vector<int> chain;
  for (int at = model.output; at >= 0;) {
    chain.push_back(at);
    const auto& layer = model.layers.at(static_cast<std::size_t>(at));
    if (layer.is<ann::InputLayer>()) break;
    require_input(layer.inputs.size() == 1, model.source.path + ": " + layer_context(layer),
                  "inputs: only single-input chains (Sequential models) can be sharpened");
    at = layer.inputs[0];
  }
  std::reverse(chain.begin(), chain.end());
  const auto& first = model.layers.at(static_cast<std::size_t>(chain.front()));
  require_input(first.is<ann::InputLayer>(), model.source.path, "the output does not lead back to the input layer");

  const bool has_decode = model.layers.at(static_cast<std::size_t>(model.output)).is<ann::SoftmaxDecode>();
  std::size_t keep_until = chain.size();  // layers [1, keep_until) are converted
  if (!has_decode) {
    std::size_t last_dense = 0;
    for (std::size_t i = 1; i < chain.size(); ++i)
      if (model.layers[static_cast<std::size_t>(chain[i])].is<ann::Dense>()) last_dense = i;
    require_input(last_dense > 0, model.source.path, "no Dense layer to replace by the Softmax_Decode head");
    keep_until = last_dense;
  }

  Network net(first.output_shape);
  Builder build(net, options);
  for (const auto& layer : model.layers) build.namer().reserve(layer.name);
  for (std::size_t i = 1; i < keep_until; ++i) {
    const ann::Layer& layer = model.layers[static_cast<std::size_t>(chain[i])];
    const std::string ctx = model.source.path + ": " + layer_context(layer);
    const Shape in = net.output_shape();
    // Saved layer names become HDF5 group names, so a name with '/' gets a fresh Keras-style one.
    const auto keep_name = [&](const char* base) {
      return layer.name.find('/') == std::string::npos ? layer.name : build.namer().next(base);
    };
    if (const auto* d = std::get_if<ann::Dense>(&layer.params)) {
      require_input(in.rank() == 1, ctx, "Dense on a rank-" + std::to_string(in.rank()) + " input is not supported");
      auto dense = std::make_unique<DenseLayer>(keep_name("dense"), d->kernel.rows(), d->kernel.cols());
      dense->kernel = d->kernel;
      dense->bias = d->use_bias ? d->bias : ann::Vector::Zero(d->kernel.cols());
      net.add(std::move(dense));
    } else if (const auto* c = std::get_if<ann::Conv2D>(&layer.params)) {
      require_input(c->dilation_h == 1 && c->dilation_w == 1, ctx, "dilation_rate: only 1 is supported");
      require_input(c->stride_h == c->stride_w, ctx, "strides: only equal strides are supported");
      require_input(c->kernel_h == c->kernel_w, ctx, "kernel_size: only square kernels are supported");
      auto conv = std::make_unique<Conv2DLayer>(keep_name("conv2d"), in, c->filters, c->kernel_h, c->kernel_w, c->stride_h,
                                                c->padding);
      conv->kernel = c->kernel;
      conv->bias = c->use_bias ? c->bias : ann::Vector::Zero(c->filters);
      net.add(std::move(conv));
    } else if (const auto* p = std::get_if<ann::Pool2D>(&layer.params)) {
      require_input(p->kind == ann::PoolKind::Max, ctx, "only max pooling can be sharpened (binary spikes)");
      require_input(p->pool_h == p->pool_w && p->stride_h == p->stride_w, ctx,
                    "pool_size/strides: only square pools are supported");
      net.add(std::make_unique<MaxPoolLayer>(keep_name("max_pooling2d"), in, p->pool_h, p->stride_h, p->padding));
    } else if (const auto* f = std::get_if<ann::Flatten>(&layer.params)) {
      require_input(f->order == ann::Flatten::Order::HWC || in.rank() < 3 || in[2] == 1, ctx,
                    "channels_first Flatten of a multi-channel tensor is not supported");
      net.add(std::make_unique<FlattenLayer>(keep_name("flatten"), in));
    } else if (const auto* r = std::get_if<ann::Reshape>(&layer.params)) {
      require_input(r->target.rank() == 1, ctx, "Reshape: only flattening reshapes are supported");
      net.add(std::make_unique<FlattenLayer>(keep_name("flatten"), in));
    } else if (const auto* bn = std::get_if<ann::BatchNorm>(&layer.params)) {
      auto norm = std::make_unique<BatchNormLayer>(keep_name("batch_normalization"), in, 0.99f, bn->epsilon);
      require_input(bn->gamma.size() == in.dims.back(), ctx, "gamma: size does not match the channels");
      norm->gamma = bn->gamma;
      norm->beta = bn->beta;
      norm->moving_mean = bn->moving_mean;
      norm->moving_variance = bn->moving_variance;
      net.add(std::move(norm));
    } else if (const auto* a = std::get_if<ann::Activation>(&layer.params)) {
      switch (a->kind) {
        case ann::ActivationKind::Linear: break;
        case ann::ActivationKind::ReLU:
          // Fused activations are named "<layer>/activation"; a '/' cannot be an HDF5 group name.
          net.add(std::make_unique<SpikingBReluLayer>(build.namer().next("spiking_b_relu"), in, 0.0f));
          break;
        case ann::ActivationKind::SpikingBRelu:
          net.add(std::make_unique<SpikingBReluLayer>(build.namer().next("spiking_b_relu"), in, a->sharpness));
          break;
        default:
          throw InputError(ctx + ": activation: only relu, linear and Spiking_BRelu can be sharpened");
      }
    } else if (std::holds_alternative<ann::Identity>(layer.params)) {
      // Dropout and friends: identity at inference; the rate is not in the IR, so no dropout here.
    } else if (const auto* sd = std::get_if<ann::SoftmaxDecode>(&layer.params)) {
      net.add(std::make_unique<SoftmaxDecodeLayer>(keep_name("softmax__decode"), sd->key));
    } else {
      throw InputError(ctx + ": class " + layer.keras_class + " cannot be sharpened");
    }
  }
  if (!has_decode) {
    build.head(false);
    warm_start_head(net, std::get<ann::Dense>(model.layers[static_cast<std::size_t>(chain[keep_until])].params));
  }
  require_input(!net.spiking_layers().empty(), model.source.path, "no activation to sharpen");
  return net;
}

}  // namespace grindstone::sharpen
