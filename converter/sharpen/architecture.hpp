#pragma once
// Building a sharpening network: from an --arch specification or from an imported ANN model.
#include <cstdint>
#include <string>

#include "converter/ann/model.hpp"
#include "converter/sharpen/network.hpp"

namespace grindstone::sharpen {

struct BuildOptions {
  int num_classes = 10;
  /// Output neurons of the last spiking layer = columns of the Softmax_Decode key.
  int key_width = 100;
  /// Whetstone key_generator's `overlapping`.
  bool overlapping_key = true;
  /// Seeds the Glorot-uniform initialisation and the key.
  std::uint64_t seed = 1;
  /// One image, channels-last (H, W, C); dense-only specifications take it flattened.
  Shape image_shape{28, 28, 1};
};

/// The --arch grammar, for --help.
std::string architecture_grammar();

/// Parses an --arch specification (see architecture_grammar()) and builds the network with
/// Glorot-uniform kernels and zero biases. Every hidden Dense/Conv2D is followed by
/// [BatchNormalization] + Spiking_BRelu; the network always ends in Dense(key_width) +
/// Spiking_BRelu + Softmax_Decode(key). Throws InputError naming --arch and the item.
Network build_from_spec(const std::string& spec, const BuildOptions& options);

/// Fine-tuning network from an imported model (a chain from input to output): ReLU activations
/// become Spiking_BRelu (sharpness 0; existing Spiking_BRelu keep theirs), weights and
/// BatchNormalization statistics are kept, Dropout is dropped (its rate is not in the IR), and
/// unless the model already ends in Softmax_Decode, its last Dense and everything after it are
/// replaced by a new Glorot-initialised Dense(key_width) + Spiking_BRelu + Softmax_Decode.
/// Throws InputError naming the layer for anything that cannot be trained here.
Network build_from_model(const ann::Model& model, const BuildOptions& options);

}  // namespace grindstone::sharpen
