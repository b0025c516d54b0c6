#pragma once
// Writes an ANN model as a Keras 2 HDF5 file laid out as Keras 2's model.save() writes it
// (the layout of Whetstone's saved models): root attributes keras_version, backend and
// model_config (a Sequential JSON config, Whetstone's Spiking_BRelu {"sharpness"} and
// Softmax_Decode {"key"} included), group model_weights with attribute layer_names, one group per
// layer with attribute weight_names ("dense_1/kernel:0", …) and datasets at
// model_weights/<layer>/<layer>/<weight>:0. Written to a temporary file and renamed.
#include <filesystem>
#include <string>

#include "converter/ann/model.hpp"
#include "converter/keras/keras2_h5_writer.hpp"

namespace grindstone::sharpen {

/// The Keras version recorded in files we write: the Keras 2 layout we reproduce.
inline constexpr const char* kWrittenKerasVersion = keras::kWrittenKerasVersion;

/// Saves a chain model (InputLayer, Dense, Conv2D, Pool2D, Flatten, BatchNorm, Activation incl.
/// Spiking_BRelu/Spiking_Sigmoid, SoftmaxDecode; Identity layers are skipped). Throws InputError
/// naming the layer for anything else, and InputError naming the file if it cannot be written.
void save_keras_h5(const ann::Model& model, const std::filesystem::path& path);

/// The model_config JSON that save_keras_h5 writes (exposed for tests).
std::string keras_model_config(const ann::Model& model);

}  // namespace grindstone::sharpen
