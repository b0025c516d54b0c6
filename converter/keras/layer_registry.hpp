#pragma once
// The Keras layer-class → factory registry (frugally-deep style). Each layer kind lives in its
// own layer_<kind>.cpp with a register_<kind>() function; make_layer_registry() calls them all.
// A factory reads one layer's config and weights and returns the IR parameters, the fused
// activation (split off by the importer into "<layer>/activation") and the Keras layout of its
// output tensor.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/shape.hpp"
#include "converter/ann/model.hpp"
#include "converter/keras/hdf5_reader.hpp"
#include "converter/keras/model_config.hpp"

namespace grindstone::keras {

/// A tensor between layers: our channels-last shape plus the layout Keras gives it. Keras
/// sees a rank-3 tensor as (C, H, W) when channels_first is true; we always store (H, W, C).
struct TensorInfo {
  Shape shape;
  bool channels_first = false;
};

/// The weights the file holds for one layer, in Keras's order (kernel, bias; gamma, beta, …).
struct LayerWeights {
  bool found = false;         ///< the file has a weight group for the layer
  std::string location;       ///< e.g. "model_weights/dense" (for messages)
  std::vector<Tensor> tensors;
};

struct LayerContext {
  const LayerSpec& spec;
  ConfigReader config;              ///< errors: "<file>: layer '<name>' (<Class>): <field>: …"
  std::optional<TensorInfo> input;  ///< nullopt for InputLayer
  const LayerWeights& weights;
  std::string backend;              ///< "tensorflow", "theano", … ("" if unknown)
  bool model_channels_first = false;  ///< the model's image layers use channels_first
  std::vector<TensorInfo> inputs;     ///< every inbound tensor in order (merge layers); `input` is the first

  const std::string& where() const { return config.where(); }
  [[noreturn]] void fail(const std::string& field, const std::string& message) const { config.fail(field, message); }
  /// The input tensor (InputError if the layer has none).
  const TensorInfo& in() const;
  /// Exactly `names.size()` weights, checked finite; errors name the layer and the weight.
  std::vector<Tensor> take_weights(const std::vector<std::string>& names) const;
};

struct BuiltLayer {
  ann::LayerParams params;
  std::optional<ann::Activation> activation;  ///< fused activation (not linear), split off
  std::optional<Shape> output_shape;          ///< InputLayer only: its shape
  std::optional<bool> channels_first;         ///< output layout; default: the input's
  /// Layers placed before the main one, each reading the previous (the first reads the
  /// layer's input): (name suffix, params), e.g. SeparableConv2D's "/depthwise" step.
  std::vector<std::pair<std::string, ann::LayerParams>> leading = {};
};

using LayerFactory = std::function<BuiltLayer(const LayerContext&)>;
using LayerRegistry = std::map<std::string, LayerFactory>;

/// All supported Keras layer classes.
LayerRegistry make_layer_registry();

void register_input_layer(LayerRegistry& registry);
void register_dense(LayerRegistry& registry);
void register_conv2d(LayerRegistry& registry);
void register_pooling(LayerRegistry& registry);
void register_zero_padding(LayerRegistry& registry);
void register_flatten(LayerRegistry& registry);
void register_reshape(LayerRegistry& registry);
void register_identity_layers(LayerRegistry& registry);
void register_batch_norm(LayerRegistry& registry);
void register_activation_layers(LayerRegistry& registry);
void register_whetstone(LayerRegistry& registry);
void register_merge_layers(LayerRegistry& registry);
void register_depthwise_conv(LayerRegistry& registry);
void register_rescaling(LayerRegistry& registry);

// Helpers shared by the factories.

/// Maps a Keras activation (a name, or Keras 3's serialised {"class_name"/"config"} form) to
/// the IR; only linear, relu, sigmoid, tanh and softmax are accepted.
ann::Activation parse_activation(const LayerContext& ctx, const std::string& field, const nlohmann::json& value);
/// The fused `activation` of Dense/Conv2D: nullopt for linear.
std::optional<ann::Activation> fused_activation(const LayerContext& ctx);
/// 'valid' or 'same'.
ann::Padding parse_padding(const LayerContext& ctx);
/// Reads `data_format` for a layer working on images and checks it against the input
/// tensor's layout (mixed layouts are unsupported). Returns true for channels_first.
bool image_data_format(const LayerContext& ctx);
/// Fails unless the input is a rank-3 image tensor.
void require_image_input(const LayerContext& ctx);
/// Reads a Keras (kh, kw, cin, m) depthwise kernel into the IR's (kh·kw, cin·m) layout.
ann::Matrix depthwise_kernel_matrix(const LayerContext& ctx, const Tensor& kernel, int kh, int kw, std::int64_t cin,
                                    std::int64_t multiplier, const std::string& field);
/// Softmax over the last axis is only well defined for us if that axis is also Keras's last.
void check_last_axis_op(const LayerContext& ctx, const std::string& what);

}  // namespace grindstone::keras
