#pragma once
// Parsing of a Keras model_config / to_json() / config.json document into a flat list of layer
// specs with their input links. Handles Sequential (Keras 2 list or dict form, Keras 3 with an
// explicit InputLayer) and Functional models (Keras 2 and Keras 3 `inbound_nodes` forms), and
// Keras 3's nested {"module", "class_name", "config"} objects.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace grindstone::keras {

struct LayerSpec {
  std::string name;
  std::string class_name;
  nlohmann::json config;              ///< the layer's own config object
  std::vector<std::string> inbound;   ///< names of the layers feeding this one (empty for InputLayer)
};

struct ModelSpec {
  std::string name;
  std::string class_name;             ///< "Sequential", "Functional", "Model"
  std::vector<LayerSpec> layers;      ///< as listed; Sequential gets a synthesised InputLayer if it has none
  std::string output;                 ///< name of the output layer
  std::string keras_version;          ///< top-level "keras_version" of a to_json() document, if any
  std::string backend;
};

/// Parses the JSON text; `where` (the file name) prefixes every error.
ModelSpec parse_model_config(const std::string& json_text, const std::string& where);
ModelSpec parse_model_config(const nlohmann::json& document, const std::string& where);

/// Typed access to one layer's config with errors of the form
/// "<where>: <field>: <problem>", where `where` is "<file>: layer '<name>' (<Class>)".
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& config, std::string where) : config_(config), where_(std::move(where)) {}

  bool has(const std::string& key) const;  ///< present and not null
  const nlohmann::json& raw(const std::string& key) const;  ///< InputError if missing
  std::int64_t integer(const std::string& key, std::optional<std::int64_t> fallback = {}) const;
  double number(const std::string& key, std::optional<double> fallback = {}) const;
  bool boolean(const std::string& key, std::optional<bool> fallback = {}) const;
  std::string string(const std::string& key, std::optional<std::string> fallback = {}) const;
  /// An int or a list of two ints (kernel_size, strides, pool_size, dilation_rate).
  std::pair<int, int> int_pair(const std::string& key, std::optional<std::pair<int, int>> fallback = {}) const;
  /// A list of ints (null entries are rejected); the whole value may not be null.
  std::vector<std::int64_t> int_list(const std::string& key) const;

  [[noreturn]] void fail(const std::string& field, const std::string& message) const;
  [[noreturn]] void unsupported(const std::string& field, const std::string& value) const;
  const std::string& where() const { return where_; }

 private:
  const nlohmann::json& config_;
  std::string where_;
};

/// Keras's naming.to_snake_case (used for the .keras weight paths: "Conv2D" → "conv2d",
/// "MaxPooling2D" → "max_pooling2d", "Spiking_BRelu" → "spiking_b_relu").
std::string to_snake_case(const std::string& class_name);

/// Reads the per-sample input shape from batch_input_shape / batch_shape (dropping the batch
/// axis) or input_shape; nullopt when the config has none. Dimensions must be positive and the
/// total below 2^31, else InputError naming the field.
std::optional<std::vector<std::int64_t>> input_shape_from_config(const ConfigReader& config);

}  // namespace grindstone::keras
