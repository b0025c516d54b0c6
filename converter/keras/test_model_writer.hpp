#pragma once
// Test-only helpers (header-only, so no library links them): write small Keras-layout HDF5
// files and .keras zips with the HDF5 C API and libzip, to build fixtures and malformed inputs.
#include <hdf5.h>
#include <zip.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace grindstone::keras::test_writer {

struct WeightSpec {
  std::string name;                 ///< path below the layer group, e.g. "dense/kernel:0"
  std::vector<hsize_t> dims;
  std::vector<float> values;        ///< row-major; filled with a ramp if empty
};

struct LayerWeightSpec {
  std::string layer;
  std::vector<WeightSpec> weights;
  std::vector<std::string> listed_names;  ///< weight_names attribute; defaults to the weights' names
  bool list_override = false;
};

inline void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("test_writer: " + what);
}

/// A writable HDF5 file (created or truncated).
class H5Writer {
 public:
  explicit H5Writer(const std::filesystem::path& path) {
    file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    check(file_ >= 0, "create " + path.string());
    lcpl_ = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl_, 1);
  }
  ~H5Writer() {
    H5Pclose(lcpl_);
    H5Fclose(file_);
  }
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  hid_t root() const { return file_; }

  /// Creates (or opens) group `path`; the caller closes it with H5Gclose.
  hid_t group(const std::string& path) {
    if (H5Lexists(file_, path.c_str(), H5P_DEFAULT) > 0) return H5Gopen2(file_, path.c_str(), H5P_DEFAULT);
    const hid_t g = H5Gcreate2(file_, path.c_str(), lcpl_, H5P_DEFAULT, H5P_DEFAULT);
    check(g >= 0, "group " + path);
    return g;
  }

  static void string_attribute(hid_t object, const std::string& name, const std::string& value, bool variable) {
    string_list_attribute(object, name, {value}, variable, true);
  }

  /// Fixed-length (Keras 2, null-padded) or variable-length UTF-8 (Keras 3) strings.
  static void string_list_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values,
                                    bool variable, bool scalar = false) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    hsize_t n = values.size();
    const hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
    hid_t attr = -1;
    if (variable) {
      H5Tset_size(type, H5T_VARIABLE);
      H5Tset_cset(type, H5T_CSET_UTF8);
      std::vector<const char*> ptrs;
      for (const auto& v : values) ptrs.push_back(v.c_str());
      attr = H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
      check(attr >= 0 && H5Awrite(attr, type, ptrs.data()) >= 0, "attribute " + name);
    } else {
      std::size_t width = 1;
      for (const auto& v : values) width = std::max(width, v.size());
      H5Tset_size(type, width);
      H5Tset_strpad(type, H5T_STR_NULLPAD);
      std::vector<char> buffer(width * std::max<std::size_t>(values.size(), 1), '\0');
      for (std::size_t i = 0; i < values.size(); ++i) std::copy(values[i].begin(), values[i].end(), buffer.begin() + i * width);
      attr = H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
      check(attr >= 0 && H5Awrite(attr, type, buffer.data()) >= 0, "attribute " + name);
    }
    H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
  }

  /// Keras 2 writes np.array([]) — an empty float64 array — for layers without weights.
  static void empty_attribute(hid_t object, const std::string& name) {
    hsize_t zero = 0;
    const hid_t space = H5Screate_simple(1, &zero, nullptr);
    const hid_t attr = H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    check(attr >= 0, "attribute " + name);
    H5Aclose(attr);
    H5Sclose(space);
  }

  void dataset(hid_t base, const std::string& path, const std::vector<hsize_t>& dims, std::vector<float> values) {
    std::size_t n = 1;
    for (auto d : dims) n *= d;
    if (values.empty())
      for (std::size_t i = 0; i < n; ++i) values.push_back(0.01f * static_cast<float>(i % 97) - 0.3f);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t ds = H5Dcreate2(base, path.c_str(), H5T_IEEE_F32LE, space, lcpl_, H5P_DEFAULT, H5P_DEFAULT);
    check(ds >= 0, "dataset " + path);
    if (n > 0) check(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0, "write " + path);
    H5Dclose(ds);
    H5Sclose(space);
  }

 private:
  hid_t file_ = -1;
  hid_t lcpl_ = -1;
};

/// Writes the weight groups (Keras 2 layout: group per layer + weight_names) below `root`.
inline void write_weight_groups(H5Writer& w, const std::string& root, const std::vector<LayerWeightSpec>& layers,
                                bool variable_strings) {
  std::vector<std::string> layer_names;
  for (const auto& l : layers) layer_names.push_back(l.layer);
  const hid_t top = root.empty() ? H5Gopen2(w.root(), "/", H5P_DEFAULT) : w.group(root);
  H5Writer::string_list_attribute(top, "layer_names", layer_names, variable_strings);
  for (const auto& l : layers) {
    const hid_t g = w.group(root.empty() ? l.layer : root + "/" + l.layer);
    std::vector<std::string> names = l.listed_names;
    if (!l.list_override)
      for (const auto& ws : l.weights) names.push_back(ws.name);
    if (names.empty()) {
      H5Writer::empty_attribute(g, "weight_names");
    } else {
      H5Writer::string_list_attribute(g, "weight_names", names, variable_strings);
    }
    for (const auto& ws : l.weights) w.dataset(g, ws.name, ws.dims, ws.values);
    H5Gclose(g);
  }
  H5Gclose(top);
}

/// A full-model file: root attributes model_config, keras_version, backend + model_weights.
inline void write_full_model(const std::filesystem::path& path, const std::string& model_config,
                             const std::vector<LayerWeightSpec>& layers, const std::string& keras_version = "2.4.0",
                             bool variable_strings = false) {
  H5Writer w(path);
  H5Writer::string_attribute(w.root(), "model_config", model_config, true);
  H5Writer::string_attribute(w.root(), "keras_version", keras_version, variable_strings);
  H5Writer::string_attribute(w.root(), "backend", "tensorflow", variable_strings);
  write_weight_groups(w, "model_weights", layers, variable_strings);
}

/// A weights-only file (model.save_weights in Keras 2): layer groups at the root.
inline void write_weights_only(const std::filesystem::path& path, const std::vector<LayerWeightSpec>& layers) {
  H5Writer w(path);
  H5Writer::string_attribute(w.root(), "keras_version", "2.3.0-tf", false);
  H5Writer::string_attribute(w.root(), "backend", "tensorflow", false);
  write_weight_groups(w, "", layers, false);
}

/// Keras 3 weights layout (model.weights.h5): layers/<key>/vars/<i>.
inline void write_keras3_weights(const std::filesystem::path& path,
                                 const std::vector<std::pair<std::string, std::vector<WeightSpec>>>& layers) {
  H5Writer w(path);
  for (const auto& [key, weights] : layers) {
    const hid_t g = w.group("layers/" + key + "/vars");
    for (std::size_t i = 0; i < weights.size(); ++i) w.dataset(g, std::to_string(i), weights[i].dims, weights[i].values);
    H5Gclose(g);
  }
}

/// A zip archive holding `members` (name → bytes).
inline void write_zip(const std::filesystem::path& path, const std::map<std::string, std::string>& members) {
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  check(archive != nullptr, "zip_open " + path.string());
  for (const auto& [name, bytes] : members) {
    zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    check(source != nullptr && zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE) >= 0, "zip add " + name);
  }
  check(zip_close(archive) == 0, "zip_close " + path.string());
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::string bytes(std::filesystem::file_size(path), '\0');
  std::FILE* f = std::fopen(path.c_str(), "rb");
  check(f != nullptr, "open " + path.string());
  const auto n = std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  check(n == bytes.size(), "read " + path.string());
  return bytes;
}

// ---- Small model configs -------------------------------------------------------------------

/// Keras 2 Sequential: Dense(units, relu) on a flat input of `inputs` features.
inline nlohmann::json dense_layer(const std::string& name, std::int64_t units, const std::string& activation = "relu") {
  return {{"class_name", "Dense"},
          {"config", {{"name", name}, {"units", units}, {"activation", activation}, {"use_bias", true}}}};
}

inline nlohmann::json input_layer(const std::string& name, const std::vector<nlohmann::json>& batch_input_shape) {
  return {{"class_name", "InputLayer"}, {"config", {{"name", name}, {"batch_input_shape", batch_input_shape}}}};
}

inline nlohmann::json sequential(const std::vector<nlohmann::json>& layers) {
  return {{"class_name", "Sequential"}, {"config", {{"name", "sequential"}, {"layers", layers}}}};
}

/// A Functional-model layer entry reading `inbound`, in the Keras 2 form
/// (inbound_nodes [[["a", 0, 0, {}], ...]]) or the Keras 3 form (args of __keras_tensor__s, a
/// nested list for merge layers).
inline nlohmann::json functional_layer(const std::string& cls, const std::string& name, nlohmann::json config,
                                       const std::vector<std::string>& inbound, bool keras3) {
  config["name"] = name;
  nlohmann::json nodes = nlohmann::json::array();
  if (!inbound.empty()) {
    if (keras3) {
      nlohmann::json tensors = nlohmann::json::array();
      for (const auto& in : inbound)
        tensors.push_back({{"class_name", "__keras_tensor__"},
                           {"config", {{"dtype", "float32"}, {"keras_history", {in, 0, 0}}}}});
      nlohmann::json args = inbound.size() == 1 ? tensors : nlohmann::json::array({tensors});
      nodes.push_back({{"args", args}, {"kwargs", nlohmann::json::object()}});
    } else {
      nlohmann::json call = nlohmann::json::array();
      for (const auto& in : inbound) call.push_back({in, 0, 0, nlohmann::json::object()});
      nodes.push_back(call);
    }
  }
  nlohmann::json entry = {{"class_name", cls}, {"name", name}, {"config", config}, {"inbound_nodes", nodes}};
  if (keras3) entry["module"] = "keras.layers";
  return entry;
}

/// A single-input, single-output Functional model config.
inline nlohmann::json functional(const std::string& name, const std::vector<nlohmann::json>& layers,
                                 const std::string& input, const std::string& output, bool keras3) {
  const nlohmann::json in = keras3 ? nlohmann::json::array({input, 0, 0}) : nlohmann::json::array({{input, 0, 0}});
  const nlohmann::json out = keras3 ? nlohmann::json::array({output, 0, 0}) : nlohmann::json::array({{output, 0, 0}});
  return {{"class_name", keras3 ? "Functional" : "Model"},
          {"config", {{"name", name}, {"layers", layers}, {"input_layers", in}, {"output_layers", out}}}};
}

inline WeightSpec weight(const std::string& name, std::vector<hsize_t> dims, std::vector<float> values = {}) {
  return WeightSpec{name, std::move(dims), std::move(values)};
}

}  // namespace grindstone::keras::test_writer
