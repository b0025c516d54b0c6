#include "converter/keras/keras2_h5_writer.hpp"

#include <algorithm>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/hdf5_handle.hpp"
#include "converter/keras/import.hpp"

namespace grindstone::keras {

namespace {

/// A handle whose creation must succeed ("cannot create <what>" otherwise).
struct Handle : Hdf5Handle {
  Handle(hid_t id, Closer close, const std::string& what) : Hdf5Handle(id, close) {
    if (!valid()) throw InputError("HDF5: cannot create " + what);
  }
};

void check(herr_t status, const std::string& what) {
  if (status < 0) throw InputError("HDF5: cannot write " + what);
}

/// Fixed-length, null-padded ASCII strings, as h5py stores numpy bytes (Keras 2).
Handle string_type(std::size_t length) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  check(H5Tset_size(type.get(), std::max<std::size_t>(length, 1)), "string type");
  check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), "string type");
  return type;
}

void write_string_attribute(hid_t location, const std::string& name, const std::string& value) {
  Handle type = string_type(value.size());
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "dataspace");
  Handle attribute(H5Acreate2(location, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                   "attribute " + name);
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  check(H5Awrite(attribute.get(), type.get(), padded.data()), "attribute " + name);
}

void write_string_array_attribute(hid_t location, const std::string& name, const std::vector<std::string>& values) {
  std::size_t length = 1;
  for (const auto& v : values) length = std::max(length, v.size());
  Handle type = string_type(length);
  const hsize_t count = values.size();
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose, "dataspace");
  Handle attribute(H5Acreate2(location, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                   "attribute " + name);
  std::vector<char> buffer(values.size() * length, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) std::copy(values[i].begin(), values[i].end(), buffer.begin() + static_cast<std::ptrdiff_t>(i * length));
  if (!values.empty()) check(H5Awrite(attribute.get(), type.get(), buffer.data()), "attribute " + name);
}

void write_float_dataset(hid_t group, const std::string& name, const std::vector<hsize_t>& dims, const float* data) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, "dataspace");
  Handle dataset(H5Dcreate2(group, name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose, "dataset " + name);
  check(H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "dataset " + name);
}

}  // namespace

void write_keras2_h5(const std::filesystem::path& path, const std::string& model_config,
                     const std::vector<std::string>& layer_names,
                     const std::function<std::vector<SavedWeight>(std::size_t)>& weights_of) {
  write_file_atomically(path, [&](const std::filesystem::path& tmp) {
    Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "file creation properties");
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "file access properties");
    // Attributes above 64 KiB (a wide Softmax_Decode key, a ResNet config) need dense attribute
    // storage (HDF5 1.8+).
    if (model_config.size() > 60000) {
      check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), "file properties");
      check(H5Pset_attr_phase_change(fcpl.get(), 0, 0), "file properties");
    }
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), H5Fclose, path.string());
    write_string_attribute(file.get(), "keras_version", kWrittenKerasVersion);
    write_string_attribute(file.get(), "backend", "tensorflow");
    write_string_attribute(file.get(), "model_config", model_config);
    // Marks the file as ours for the importer (format "grindstone"); Keras ignores extra attributes.
    write_string_attribute(file.get(), kGrindstoneMarkerAttribute, "0.1");
    Handle weights(H5Gcreate2(file.get(), "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                   "group model_weights");
    write_string_array_attribute(weights.get(), "layer_names", layer_names);
    write_string_attribute(weights.get(), "backend", "tensorflow");
    write_string_attribute(weights.get(), "keras_version", kWrittenKerasVersion);
    for (std::size_t i = 0; i < layer_names.size(); ++i) {
      const auto& name = layer_names[i];
      const std::vector<SavedWeight> layer_weights = weights_of(i);
      Handle group(H5Gcreate2(weights.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                   "group " + name);
      std::vector<std::string> weight_names;
      for (const auto& w : layer_weights) weight_names.push_back(name + "/" + w.name + ":0");
      write_string_array_attribute(group.get(), "weight_names", weight_names);
      if (layer_weights.empty()) continue;
      Handle inner(H5Gcreate2(group.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                   "group " + name + "/" + name);
      for (const auto& w : layer_weights) write_float_dataset(inner.get(), w.name + ":0", w.dims, w.values.data());
    }
  });
}

}  // namespace grindstone::keras
