#include "converter/keras/model_config.hpp"

#include <cctype>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "converter/keras/hdf5_reader.hpp"

namespace grindstone::keras {

using nlohmann::json;

namespace {

std::string type_name(const json& value) { return value.type_name(); }

/// Keras 3 wraps objects as {"module", "class_name", "config", "registered_name"}; Keras 2 as
/// {"class_name", "config"}. Both give the class and the inner config.
std::pair<std::string, const json*> class_and_config(const json& node, const std::string& where) {
  require_input(node.is_object(), where, "layer entry: expected an object, got " + type_name(node));
  require_input(node.contains("class_name") && node["class_name"].is_string(), where, "layer entry: missing class_name");
  require_input(node.contains("config") && node["config"].is_object(), where,
                "layer '" + node["class_name"].get<std::string>() + "': config: missing or not an object");
  return {node["class_name"].get<std::string>(), &node["config"]};
}

std::string layer_name(const json& node, const json& config, const std::string& where) {
  if (config.contains("name") && config["name"].is_string()) return config["name"].get<std::string>();
  if (node.contains("name") && node["name"].is_string()) return node["name"].get<std::string>();
  throw InputError(where + ": layer entry: missing name");
}

/// A history reference ["layer", node_index, tensor_index(, kwargs)] (Keras 2 inbound nodes,
/// Keras 2/3 input_layers/output_layers).
std::string history_layer(const json& ref, const std::string& where, const std::string& field) {
  require_input(ref.is_array() && !ref.empty() && ref[0].is_string(), where,
                field + ": expected [\"layer\", node, tensor], got " + ref.dump());
  require_input(ref.size() < 2 || !ref[1].is_number_integer() || ref[1].get<std::int64_t>() == 0, where,
                field + ": layer '" + ref[0].get<std::string>() + "' used more than once (shared layers are unsupported)");
  return ref[0].get<std::string>();
}

/// Collects the keras_history layer names inside Keras 3 node arguments (tensors may sit in
/// nested lists for multi-input layers).
void collect_keras3_history(const json& value, std::vector<std::string>& out, const std::string& where) {
  if (value.is_array()) {
    for (const auto& v : value) collect_keras3_history(v, out, where);
  } else if (value.is_object()) {
    if (value.contains("class_name") && value["class_name"] == "__keras_tensor__") {
      const auto& cfg = value.value("config", json::object());
      require_input(cfg.contains("keras_history"), where, "inbound_nodes: keras tensor without keras_history");
      out.push_back(history_layer(cfg["keras_history"], where, "inbound_nodes"));
    }
  }
}

std::vector<std::string> parse_inbound_nodes(const json& node, const std::string& where) {
  std::vector<std::string> inbound;
  if (!node.contains("inbound_nodes") || node["inbound_nodes"].is_null()) return inbound;
  const auto& nodes = node["inbound_nodes"];
  require_input(nodes.is_array(), where, "inbound_nodes: expected a list");
  if (nodes.empty()) return inbound;
  require_input(nodes.size() == 1, where,
                "inbound_nodes: layer called " + std::to_string(nodes.size()) + " times (shared layers are unsupported)");
  const auto& call = nodes[0];
  if (call.is_object()) {  // Keras 3: {"args": [...], "kwargs": {...}}
    collect_keras3_history(call.value("args", json::array()), inbound, where);
  } else {  // Keras 2: [["name", 0, 0, {}], ...]
    require_input(call.is_array(), where, "inbound_nodes: unrecognised node " + call.dump());
    for (const auto& ref : call) inbound.push_back(history_layer(ref, where, "inbound_nodes"));
  }
  return inbound;
}

/// input_layers / output_layers: [["name", 0, 0], ...] or a single ["name", 0, 0].
std::vector<std::string> endpoint_layers(const json& value, const std::string& where, const std::string& field) {
  std::vector<std::string> names;
  require_input(value.is_array(), where, field + ": expected a list");
  if (!value.empty() && value[0].is_string()) {
    names.push_back(history_layer(value, where, field));
  } else {
    for (const auto& ref : value) names.push_back(history_layer(ref, where, field));
  }
  return names;
}

bool is_model_class(const std::string& cls) {
  return cls == "Sequential" || cls == "Functional" || cls == "Model";
}

void parse_sequential(const json& cfg, const std::string& where, ModelSpec& spec) {
  const json* layers = nullptr;
  if (cfg.is_array()) {  // Keras 2.0–2.1: "config": [ {layer}, ... ]
    layers = &cfg;
  } else {
    require_input(cfg.contains("layers") && cfg["layers"].is_array(), where, "config: layers: missing or not a list");
    layers = &cfg["layers"];
    if (cfg.contains("name") && cfg["name"].is_string()) spec.name = cfg["name"].get<std::string>();
  }
  require_input(!layers->empty(), where, "config: layers: the model has no layers");
  for (const auto& node : *layers) {
    auto [cls, lcfg] = class_and_config(node, where);
    require_input(!is_model_class(cls), where, "layer '" + layer_name(node, *lcfg, where) + "' (" + cls +
                                                   "): class_name: nested models are unsupported");
    LayerSpec layer{layer_name(node, *lcfg, where), cls, *lcfg, {}};
    if (!spec.layers.empty()) layer.inbound.push_back(spec.layers.back().name);
    spec.layers.push_back(std::move(layer));
  }
  if (spec.layers.front().class_name != "InputLayer") {
    // Keras builds an InputLayer named "<first>_input" from the first layer's input shape.
    const auto& first = spec.layers.front();
    json input_cfg = {{"name", first.name + "_input"}};
    for (const char* key : {"batch_input_shape", "batch_shape", "input_shape"})
      if (first.config.contains(key)) input_cfg[key] = first.config[key];
    if (input_cfg.size() == 1 && cfg.is_object() && cfg.contains("build_input_shape"))
      input_cfg["batch_input_shape"] = cfg["build_input_shape"];
    require_input(input_cfg.size() > 1, where,
                  "layer '" + first.name + "' (" + first.class_name +
                      "): batch_input_shape: the first layer of the Sequential model has no input shape");
    spec.layers.front().inbound = {input_cfg["name"].get<std::string>()};
    spec.layers.insert(spec.layers.begin(), LayerSpec{input_cfg["name"].get<std::string>(), "InputLayer", input_cfg, {}});
  }
  spec.output = spec.layers.back().name;
}

void parse_functional(const json& cfg, const std::string& where, ModelSpec& spec) {
  require_input(cfg.is_object() && cfg.contains("layers") && cfg["layers"].is_array(), where,
                "config: layers: missing or not a list");
  if (cfg.contains("name") && cfg["name"].is_string()) spec.name = cfg["name"].get<std::string>();
  for (const auto& node : cfg["layers"]) {
    auto [cls, lcfg] = class_and_config(node, where);
    const auto name = layer_name(node, *lcfg, where);
    require_input(!is_model_class(cls), where, "layer '" + name + "' (" + cls + "): class_name: nested models are unsupported");
    spec.layers.push_back(LayerSpec{name, cls, *lcfg, parse_inbound_nodes(node, where + ": layer '" + name + "'")});
  }
  require_input(!spec.layers.empty(), where, "config: layers: the model has no layers");
  require_input(cfg.contains("output_layers"), where, "config: output_layers: missing");
  const auto outputs = endpoint_layers(cfg["output_layers"], where, "config: output_layers");
  require_input(outputs.size() == 1, where,
                "config: output_layers: " + std::to_string(outputs.size()) + " outputs (only single-output models are supported)");
  spec.output = outputs.front();
  if (cfg.contains("input_layers")) {
    const auto inputs = endpoint_layers(cfg["input_layers"], where, "config: input_layers");
    require_input(inputs.size() == 1, where,
                  "config: input_layers: " + std::to_string(inputs.size()) + " inputs (only single-input models are supported)");
  }
}

}  // namespace

ModelSpec parse_model_config(const std::string& json_text, const std::string& where) {
  json document;
  try {
    document = json::parse(json_text);
  } catch (const json::exception& e) {
    throw InputError(where + ": model_config: not valid JSON (" + std::string(e.what()) + ")");
  }
  return parse_model_config(document, where);
}

ModelSpec parse_model_config(const json& document, const std::string& where) {
  require_input(document.is_object(), where, "model_config: expected a JSON object, got " + type_name(document));
  require_input(document.contains("class_name") && document["class_name"].is_string(), where,
                "model_config: class_name: missing");
  require_input(document.contains("config"), where, "model_config: config: missing");
  ModelSpec spec;
  spec.class_name = document["class_name"].get<std::string>();
  if (document.contains("keras_version") && document["keras_version"].is_string())
    spec.keras_version = document["keras_version"].get<std::string>();
  if (document.contains("backend") && document["backend"].is_string()) spec.backend = document["backend"].get<std::string>();
  try {
    if (spec.class_name == "Sequential") {
      parse_sequential(document["config"], where, spec);
    } else if (spec.class_name == "Functional" || spec.class_name == "Model") {
      parse_functional(document["config"], where, spec);
    } else {
      throw InputError(where + ": model_config: class_name: unsupported model class '" + spec.class_name + "'");
    }
  } catch (const json::exception& e) {
    throw InputError(where + ": model_config: unexpected structure (" + std::string(e.what()) + ")");
  }
  if (spec.name.empty()) spec.name = spec.class_name;
  return spec;
}

bool ConfigReader::has(const std::string& key) const {
  return config_.is_object() && config_.contains(key) && !config_[key].is_null();
}

const json& ConfigReader::raw(const std::string& key) const {
  if (!has(key)) fail(key, "missing");
  return config_[key];
}

void ConfigReader::fail(const std::string& field, const std::string& message) const {
  throw InputError(where_ + ": " + field + ": " + message);
}

void ConfigReader::unsupported(const std::string& field, const std::string& value) const {
  fail(field, "unsupported value " + value);
}

std::int64_t ConfigReader::integer(const std::string& key, std::optional<std::int64_t> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    fail(key, "missing");
  }
  const auto& v = config_[key];
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
  }
  fail(key, "expected an integer, got " + v.dump());
}

double ConfigReader::number(const std::string& key, std::optional<double> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    fail(key, "missing");
  }
  const auto& v = config_[key];
  if (!v.is_number()) fail(key, "expected a number, got " + v.dump());
  const double d = v.get<double>();
  if (!std::isfinite(d)) fail(key, "not a finite number");
  return d;
}

bool ConfigReader::boolean(const std::string& key, std::optional<bool> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    fail(key, "missing");
  }
  const auto& v = config_[key];
  if (!v.is_boolean()) fail(key, "expected true or false, got " + v.dump());
  return v.get<bool>();
}

std::string ConfigReader::string(const std::string& key, std::optional<std::string> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    fail(key, "missing");
  }
  const auto& v = config_[key];
  if (!v.is_string()) fail(key, "expected a string, got " + v.dump());
  return v.get<std::string>();
}

std::pair<int, int> ConfigReader::int_pair(const std::string& key, std::optional<std::pair<int, int>> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    fail(key, "missing");
  }
  const auto& v = config_[key];
  auto to_int = [&](const json& x) -> int {
    if (!x.is_number_integer()) fail(key, "expected integers, got " + v.dump());
    const auto i = x.get<std::int64_t>();
    if (i <= 0 || i > (1 << 20)) fail(key, "value " + std::to_string(i) + " out of range");
    return static_cast<int>(i);
  };
  if (v.is_number_integer()) {
    const int i = to_int(v);
    return {i, i};
  }
  if (!v.is_array() || v.size() != 2) fail(key, "expected an integer or a pair, got " + v.dump());
  return {to_int(v[0]), to_int(v[1])};
}

std::vector<std::int64_t> ConfigReader::int_list(const std::string& key) const {
  const auto& v = raw(key);
  if (!v.is_array()) fail(key, "expected a list, got " + v.dump());
  std::vector<std::int64_t> out;
  for (const auto& x : v) {
    if (!x.is_number_integer()) fail(key, "expected integers, got " + v.dump());
    out.push_back(x.get<std::int64_t>());
  }
  return out;
}

std::string to_snake_case(const std::string& class_name) {
  // naming.to_snake_case: drop non-word characters, then "_" before an upper-case letter
  // followed by lower-case ones (when something precedes it), then between a lower-case
  // letter and an upper-case one; lower-case everything.
  std::string word;
  for (char c : class_name)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') word += c;
  auto upper = [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; };
  auto lower = [](char c) { return std::islower(static_cast<unsigned char>(c)) != 0; };
  std::string step1;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (i > 0 && upper(word[i]) && i + 1 < word.size() && lower(word[i + 1])) step1 += '_';
    step1 += word[i];
  }
  std::string out;
  for (std::size_t i = 0; i < step1.size(); ++i) {
    if (i > 0 && lower(step1[i - 1]) && upper(step1[i])) out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(step1[i])));
  }
  return out;
}

std::optional<std::vector<std::int64_t>> input_shape_from_config(const ConfigReader& config) {
  std::string key;
  bool has_batch_axis = true;
  if (config.has("batch_input_shape")) {
    key = "batch_input_shape";
  } else if (config.has("batch_shape")) {
    key = "batch_shape";
  } else if (config.has("input_shape")) {
    key = "input_shape";
    has_batch_axis = false;
  } else {
    return std::nullopt;
  }
  const auto& v = config.raw(key);
  if (!v.is_array() || v.empty()) config.fail(key, "expected a list of dimensions, got " + v.dump());
  std::vector<std::int64_t> dims;
  std::int64_t total = 1;
  for (std::size_t i = has_batch_axis ? 1 : 0; i < v.size(); ++i) {
    if (v[i].is_null()) config.fail(key, "variable dimension (null) in " + v.dump() + " is unsupported");
    if (!v[i].is_number_integer()) config.fail(key, "expected integer dimensions, got " + v.dump());
    const auto d = v[i].get<std::int64_t>();
    if (d <= 0) config.fail(key, "dimension " + std::to_string(d) + " must be positive in " + v.dump());
    if (d > kMaxTensorElements || total > kMaxTensorElements / d)
      config.fail(key, "absurd size " + v.dump() + " (more than 2^31 elements)");
    total *= d;
    dims.push_back(d);
  }
  if (dims.empty()) config.fail(key, "no per-sample dimensions in " + v.dump());
  return dims;
}

}  // namespace grindstone::keras
