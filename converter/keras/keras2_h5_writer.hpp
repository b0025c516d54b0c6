#pragma once
// Writes the Keras 2 full-model HDF5 layout (what Keras 2's model.save() writes): root
// attributes keras_version, backend and model_config, group model_weights with attribute
// layer_names, one group per layer with attribute weight_names ("<layer>/<weight>:0") and the
// datasets at model_weights/<layer>/<layer>/<weight>:0. Weights are asked for one layer at a
// time so a large model never sits in memory whole. Written to a temporary file and renamed.
#include <hdf5.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace grindstone::keras {

/// The Keras version recorded in files we write: the Keras 2 layout we reproduce.
inline constexpr const char* kWrittenKerasVersion = "2.8.0";

struct SavedWeight {
  std::string name;           ///< "kernel", "bias", "gamma", …
  std::vector<hsize_t> dims;  ///< Keras's shape
  std::vector<float> values;  ///< row-major (C order), as Keras/h5py store them
};

/// `layer_names` in model order (every layer of the config, with or without weights);
/// `weights_of(i)` gives layer i's weights in Keras's order. Throws InputError naming the file.
void write_keras2_h5(const std::filesystem::path& path, const std::string& model_config,
                     const std::vector<std::string>& layer_names,
                     const std::function<std::vector<SavedWeight>(std::size_t)>& weights_of);

}  // namespace grindstone::keras
