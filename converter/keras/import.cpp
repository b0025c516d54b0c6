#include "converter/keras/import.hpp"
#include "common/contained.hpp"
#include "converter/nir/nir_import.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "converter/keras/hdf5_reader.hpp"
#include "converter/keras/layer_registry.hpp"
#include "converter/keras/model_config.hpp"
#include "common/zip_archive.hpp"

namespace grindstone::keras {

namespace {

/// Where a layer's weights live in an HDF5 file.
class WeightSource {
 public:
  /// Keras 2 / Keras 3 legacy: a group per layer (named after it) below `root`, listing its
  /// datasets (paths relative to the group) in the `weight_names` attribute.
  static WeightSource by_weight_names(const H5File& file, std::string root) {
    WeightSource s(file);
    s.root_ = std::move(root);
    return s;
  }

  /// Keras 3 (.keras / .weights.h5): layers/<snake_case(class)>[_k]/vars/<0..n-1>, where k
  /// counts earlier layers of the same class (Keras addresses layers by class, not by name).
  static WeightSource by_vars(const H5File& file, const ModelSpec& spec) {
    WeightSource s(file);
    s.by_vars_ = true;
    std::map<std::string, int> used;
    for (const auto& layer : spec.layers) {
      std::string key = to_snake_case(layer.class_name);
      const int count = used[key]++;
      if (count > 0) key += "_" + std::to_string(count);
      s.vars_paths_[layer.name] = "layers/" + key + "/vars";
    }
    return s;
  }

  LayerWeights load(const LayerSpec& layer) const {
    const std::string where = "layer '" + layer.name + "' (" + layer.class_name + ")";
    LayerWeights w;
    if (by_vars_) {
      w.location = vars_paths_.at(layer.name);
      if (!file_.is_group(file_.root(), w.location)) return w;
      w.found = true;
      const auto group = file_.open_group(file_.root(), w.location);
      const auto names = file_.child_names(group.get(), where + ": weights");
      for (std::size_t i = 0; i < names.size(); ++i) {
        const auto name = std::to_string(i);
        if (!file_.exists(group.get(), name))
          throw InputError(file_.label() + ": " + where + ": weights: '" + w.location + "' has no variable '" + name +
                           "' (variables must be numbered 0.." + std::to_string(names.size() - 1) + ")");
        auto tensor = file_.float_dataset(group.get(), name, where + ": weights");
        tensor.name = w.location + "/" + name;
        w.tensors.push_back(std::move(tensor));
      }
      return w;
    }
    w.location = root_.empty() ? layer.name : root_ + "/" + layer.name;
    if (!file_.is_group(file_.root(), w.location)) return w;
    w.found = true;
    const auto group = file_.open_group(file_.root(), w.location);
    for (const auto& name : file_.string_list_attribute(group.get(), "weight_names", where)) {
      auto tensor = file_.float_dataset(group.get(), name, where + ": weight_names");
      tensor.name = name;
      w.tensors.push_back(std::move(tensor));
    }
    return w;
  }

 private:
  explicit WeightSource(const H5File& file) : file_(file) {}
  const H5File& file_;
  bool by_vars_ = false;
  std::string root_;
  std::map<std::string, std::string> vars_paths_;
};

/// Classes whose data_format decides how the model's input image is laid out.
bool decides_image_layout(const std::string& cls) {
  static const std::set<std::string> classes = {"Conv2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D",
                                                "AvgPool2D", "GlobalAveragePooling2D", "GlobalAvgPool2D",
                                                "ZeroPadding2D", "DepthwiseConv2D", "SeparableConv2D",
                                                "GlobalMaxPooling2D", "GlobalMaxPool2D"};
  return classes.count(cls) > 0;
}

/// Layers in an order where every layer follows its inputs (Kahn's algorithm, stable).
std::vector<const LayerSpec*> topological_order(const ModelSpec& spec, const std::string& label) {
  std::map<std::string, const LayerSpec*> by_name;
  for (const auto& l : spec.layers)
    require_input(by_name.emplace(l.name, &l).second, label, "model_config: duplicate layer name '" + l.name + "'");
  for (const auto& l : spec.layers)
    for (const auto& in : l.inbound)
      require_input(by_name.count(in) > 0, label,
                    "layer '" + l.name + "' (" + l.class_name + "): inbound_nodes: unknown layer '" + in + "'");
  require_input(by_name.count(spec.output) > 0, label, "model_config: output_layers: unknown layer '" + spec.output + "'");
  std::vector<const LayerSpec*> order;
  std::set<std::string> placed;
  while (order.size() < spec.layers.size()) {
    bool progress = false;
    for (const auto& l : spec.layers) {
      if (placed.count(l.name)) continue;
      bool ready = true;
      for (const auto& in : l.inbound) ready = ready && placed.count(in) > 0;
      if (!ready) continue;
      order.push_back(&l);
      placed.insert(l.name);
      progress = true;
    }
    require_input(progress, label, "model_config: inbound_nodes: the layer graph has a cycle");
  }
  return order;
}

ann::Model build_model(const ModelSpec& spec, const WeightSource& weights, const std::string& label,
                       const std::string& backend) {
  const auto registry = make_layer_registry();
  bool channels_first = false;
  for (const auto& l : spec.layers) {
    if (!decides_image_layout(l.class_name) || !l.config.contains("data_format") || !l.config["data_format"].is_string())
      continue;
    channels_first = l.config["data_format"] == "channels_first";
    break;
  }

  ann::Model model;
  model.name = spec.name;
  std::map<std::string, int> ir_index;  // Keras layer → index of its last IR layer
  std::map<std::string, TensorInfo> tensors;
  for (const LayerSpec* layer : topological_order(spec, label)) {
    const std::string where = label + ": layer '" + layer->name + "' (" + layer->class_name + ")";
    const auto factory = registry.find(layer->class_name);
    if (factory == registry.end()) throw InputError(where + ": class_name: unsupported layer class");
    std::optional<TensorInfo> input;
    std::vector<TensorInfo> input_tensors;
    std::vector<int> inputs;
    if (layer->class_name != "InputLayer") {
      require_input(!layer->inbound.empty(), where, "inbound_nodes: the layer has no input");
      for (const auto& name : layer->inbound) {
        input_tensors.push_back(tensors.at(name));
        inputs.push_back(ir_index.at(name));
      }
      input = input_tensors.front();
    }
    const LayerWeights layer_weights = weights.load(*layer);
    const LayerContext ctx{*layer,         ConfigReader(layer->config, where), input, layer_weights, backend,
                           channels_first, input_tensors};
    BuiltLayer built = factory->second(ctx);
    require_input(inputs.size() <= 1 || ann::is_multi_input(built.params), where,
                  "inbound_nodes: " + std::to_string(inputs.size()) + " inputs, but a " + layer->class_name +
                      " layer takes one");
    try {
      // Steps the factory puts before the layer (SeparableConv2D's depthwise step).
      for (auto& [suffix, params] : built.leading) {
        ann::Layer step{layer->name + suffix, layer->class_name, std::move(params), inputs, {}};
        std::vector<Shape> step_shapes;
        for (int i : inputs) step_shapes.push_back(model.layers[static_cast<std::size_t>(i)].output_shape);
        step.output_shape = ann::infer_output_shape(step, step_shapes);
        model.layers.push_back(std::move(step));
        inputs = {static_cast<int>(model.layers.size()) - 1};
      }
    } catch (...) {
      rethrow_with_context(label);
    }
    std::vector<Shape> in_shapes;
    for (int i : inputs) in_shapes.push_back(model.layers[static_cast<std::size_t>(i)].output_shape);
    ann::Layer ir{layer->name, layer->class_name, std::move(built.params), inputs, {}};
    try {
      ir.output_shape = built.output_shape ? *built.output_shape : ann::infer_output_shape(ir, in_shapes);
    } catch (...) {
      rethrow_with_context(label);
    }
    const Shape out_shape = ir.output_shape;
    model.layers.push_back(std::move(ir));
    int last = static_cast<int>(model.layers.size()) - 1;
    if (built.activation) {
      model.layers.push_back(ann::Layer{layer->name + "/activation", "Activation", *built.activation, {last}, out_shape});
      last += 1;
    }
    ir_index[layer->name] = last;
    tensors[layer->name] = TensorInfo{out_shape, built.channels_first.value_or(input ? input->channels_first : false)};
  }
  model.output = ir_index.at(spec.output);
  try {
    model.validate();
  } catch (...) {
    rethrow_with_context(label);
  }
  return model;
}

std::string read_text_file(const std::filesystem::path& path, const std::string& what) {
  std::error_code ec;
  require_input(std::filesystem::is_regular_file(path, ec), path.string(), what + ": no such file");
  const auto size = std::filesystem::file_size(path, ec);
  require_input(!ec && size < (std::uintmax_t{1} << 30), path.string(), what + ": unreadable or absurdly large");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  require_input(in.good() || in.eof(), path.string(), what + ": cannot be read");
  return text.str();
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

/// A root attribute as a string, or "" when absent.
std::string optional_attribute(const H5File& file, hid_t object, const std::string& name) {
  if (!file.has_attribute(object, name)) return "";
  return file.string_attribute(object, name, "");
}

ann::Model load_keras_zip(const std::filesystem::path& path, const std::optional<std::filesystem::path>& architecture) {
  const std::string label = path.string();
  require_input(!architecture, label, "--architecture: a .keras file contains its own config.json");
  const ZipArchive archive(path, "a Keras 3 .keras file is a zip");
  const auto config = archive.read("config.json");
  require_input(config.has_value(), label, "config.json: missing from the .keras archive");
  const auto weights_bytes = archive.read("model.weights.h5");
  require_input(weights_bytes.has_value(), label, "model.weights.h5: missing from the .keras archive");
  const ModelSpec spec = parse_model_config(*config, label + "!config.json");
  const H5File weights_file = H5File::open_image(*weights_bytes, label + "!model.weights.h5");
  ann::Model model = build_model(spec, WeightSource::by_vars(weights_file, spec), label, "");
  model.source.format = "keras3-zip";
  if (const auto metadata = archive.read("metadata.json")) {
    try {
      const auto meta = nlohmann::json::parse(*metadata);
      model.source.keras_version = meta.value("keras_version", "");
    } catch (const nlohmann::json::exception& e) {
      throw InputError(label + "!metadata.json: not valid JSON (" + std::string(e.what()) + ")");
    }
  }
  return model;
}

ann::Model load_hdf5(const std::filesystem::path& path, const std::optional<std::filesystem::path>& architecture) {
  const std::string label = path.string();
  const H5File file = H5File::open(path);
  const hid_t root = file.root();
  ann::ModelSource source;
  source.keras_version = optional_attribute(file, root, "keras_version");
  source.backend = optional_attribute(file, root, "backend");

  if (file.has_attribute(root, "model_config")) {
    require_input(!architecture, label, "--architecture: the file is a full model with its own model_config");
    const auto config_text = file.string_attribute(root, "model_config", "model_config");
    const ModelSpec spec = parse_model_config(config_text, label);
    require_input(file.is_group(root, "model_weights"), label, "model_weights: group missing in a full-model file");
    if (source.keras_version.empty())
      source.keras_version = optional_attribute(file, file.open_group(root, "model_weights").get(), "keras_version");
    if (file.has_attribute(root, kGrindstoneMarkerAttribute)) {
      source.format = "grindstone";
    } else {
      source.format = starts_with(source.keras_version, "3") ? "keras3-legacy-h5" : "keras2-h5";
    }
    ann::Model model = build_model(spec, WeightSource::by_weight_names(file, "model_weights"), label, source.backend);
    model.source = source;
    return model;
  }

  const bool keras2_weights = file.has_attribute(root, "layer_names");
  const bool keras3_weights = file.is_group(root, "layers");
  require_input(keras2_weights || keras3_weights, label,
                "model_config: not a Keras model file (no model_config or layer_names attribute, no layers group)");
  require_input(architecture.has_value(), label,
                "model_config: weights-only file (no model_config attribute); pass --architecture ARCH.json");
  const std::string arch_label = architecture->string();
  const ModelSpec spec = parse_model_config(read_text_file(*architecture, "architecture JSON"), arch_label);
  if (source.keras_version.empty()) source.keras_version = spec.keras_version;
  if (source.backend.empty()) source.backend = spec.backend;
  ann::Model model;
  if (keras2_weights) {
    model = build_model(spec, WeightSource::by_weight_names(file, ""), label, source.backend);
    source.format = "keras2-weights+json";
  } else {
    model = build_model(spec, WeightSource::by_vars(file, spec), label, source.backend);
    source.format = "keras3-weights+json";
  }
  model.source = source;
  return model;
}

bool has_zip_signature(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
}

}  // namespace

ann::Model load_model_in_process(const std::filesystem::path& model,
                                 const std::optional<std::filesystem::path>& architecture_json) {
  std::error_code ec;
  require_input(std::filesystem::exists(model, ec), model.string(), "no such file");
  require_input(std::filesystem::is_regular_file(model, ec), model.string(), "not a regular file");
  const bool keras_extension = model.extension() == ".keras";
  ann::Model result;
  if (model.extension() == ".nir" || (!keras_extension && !has_zip_signature(model) && nir::is_nir_file(model))) {
    require_input(!architecture_json, "--architecture", "a NIR graph carries its own architecture");
    return nir::load_ann_model(model);
  }
  if (keras_extension || has_zip_signature(model)) {
    result = load_keras_zip(model, architecture_json);
  } else {
    result = load_hdf5(model, architecture_json);
  }
  result.source.path = model.string();
  return result;
}

ann::Model load_model(const std::filesystem::path& model, const std::optional<std::filesystem::path>& architecture_json) {
  // libhdf5 can crash or hang on damaged metadata: read once in a child process first.
  run_contained(model.string(), [&] { (void)load_model_in_process(model, architecture_json); });
  return load_model_in_process(model, architecture_json);
}

}  // namespace grindstone::keras
