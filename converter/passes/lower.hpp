#pragma once
// Lowering: ann::Model (after the ANN passes) → SnnState, for single-pass (Whetstone) networks.
#include "converter/ann/model.hpp"
#include "converter/passes/pipeline.hpp"

namespace grindstone::passes {

/// Threshold of a fully sharpened activation on the pre-activation z = W·x + b:
/// Spiking_BRelu at sharpness exactly 1 → 0.5, Spiking_Sigmoid at exactly 1 → 0. nullopt for
/// anything not sharpened (ReLU, sigmoid, softmax, Spiking_* with s < 1, …).
std::optional<float> sharpened_threshold(const ann::Activation& activation);

/// Walks the model's layers in topological order and emits: one Input population
/// (threshold-encoded, tick 0); for each sharpened activation of a pre-activation a step-neuron
/// population (threshold θ, tick = one after its latest input) fed by one projection per term of
/// that pre-activation — a Dense/Conv2D connector (never expanded) per spike input, and for a
/// residual Add a further term per addend: an identity shortcut enters one-to-one with weight 1,
/// a 1×1 projection shortcut as its own conv connector; the biases add and are left in
/// `pending_bias`. An Add of spike tensors stays a sum (the next Dense/Conv2D reads each; a step
/// on it is an OR neuron). MaxPooling2D → OR neurons (maxpool_to_or); Flatten/Reshape are no-ops
/// on our HWC layout; a trailing Softmax_Decode goes to `decode_key`. The model output's
/// population is the Output. A Dense/Conv2D → MaxPooling2D → step order is accepted (max and the
/// step commute). Refuses with InputError naming THE FIRST unsharpened layer (e.g. a ReLU), and
/// any layer a binary network cannot express (AveragePooling2D, Softmax, Subtract, a max pool
/// of a sum of spike tensors, Concatenate for now, …). The network decodes by spike count over
/// the output until decode_output applies the key.
SnnState lower_activations(const ann::Model& model);

/// The kernel connector of a Conv2D whose (unpadded) input image is `in` and output `out`;
/// `extra_pad_top/left` are zero rows/columns a preceding ZeroPadding2D added. Keras's 'same'
/// padding is computed on the padded input. The kernel is copied unscaled.
snn::ConvConnector conv_connector(const ann::Conv2D& conv, const Shape& in, const Shape& out, int extra_pad_top = 0,
                                  int extra_pad_left = 0);

/// The pooling window of `pool` from `in` to `out` (Keras 'same' padding split as Keras does),
/// every synapse of weight `weight`.
snn::PoolConnector pool_connector(const ann::Pool2D& pool, const Shape& in, const Shape& out, float weight);

/// MaxPooling2D on binary spikes = OR: appends a population of `shape` fed from `pre` through
/// a PoolConnector with weight 1 ≥ threshold 0.5, one tick later. Returns its index.
int maxpool_to_or(SnnState& state, int pre, const ann::Pool2D& pool, const Shape& shape, const std::string& layer_name);

}  // namespace grindstone::passes
