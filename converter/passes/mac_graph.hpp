#pragma once
// Operator fusion for the SpiNNaker 2 large-CNN mapper (the seed's "parser"): ANN IR → MacGraph.
#include "converter/ann/model.hpp"
#include "snn_runtime/spinnaker2/cnn_graph.hpp"

namespace grindstone::passes {

/// Every Conv2D, DepthwiseConv2D and Dense becomes one MacOp. What its MAC array's write-out can apply is fused
/// into it: BatchNormalization, activations, Rescaling, max/average pooling and global pooling of
/// its result (when nothing else reads the tensor in between), and element-wise merges (Add, …) — fused into
/// the op that finishes last among the Add's inputs, the other operands counted as extra input
/// bytes. Flatten, Reshape, ZeroPadding2D, Concatenate, identities and Softmax_Decode are layout
/// only. Any other layer is refused (InputError naming it and its class).
snn::s2::MacGraph fuse_mac_operators(const ann::Model& model);

}  // namespace grindstone::passes
