#pragma once
// ANN → ANN passes (run before lowering). Each returns the number of layers it changed, so
// tests and --verbose can see whether it did anything.
#include "converter/ann/model.hpp"

namespace grindstone::passes {

/// Removes inference-time identities (Dropout, GaussianNoise, … = ann::Identity) and Linear
/// activations, rewiring their consumers to their input.
int drop_identities(ann::Model& model);

/// Folds each BatchNormalization that directly follows a Dense/Conv2D (whose output nothing
/// else reads) into it with Keras's exact formula W' = W·γ/sqrt(var+ε),
/// b' = γ·(b−μ)/sqrt(var+ε) + β (computed in double), and removes the BatchNorm layer.
/// A BatchNorm that follows anything else is folded forward into the next Dense when only
/// Flatten/Reshape lie between (exact: the Dense is affine); otherwise InputError naming it.
int fold_batch_norm(ann::Model& model);

/// A Flatten in CHW order (channels_first Keras models) feeding a Dense: permutes the Dense
/// kernel rows from CHW to our HWC element order and makes the Flatten HWC (a no-op on our
/// layout). InputError naming the Flatten when no Dense follows it.
int canonicalise_flatten(ann::Model& model);

/// Average pooling of spikes is not binary, so it cannot be a layer of step neurons; but it is
/// linear, so an AveragePooling2D / GlobalAveragePooling2D followed (through HWC Flatten layers
/// only) by a Dense is folded into that Dense: W'[pre-pool element] = Σ over the pooled outputs
/// that average it of W[output]/(window elements inside the image) — Keras averages 'same'
/// windows over their in-image elements only. Exact. The pool layer becomes an HWC Flatten (a no-op
/// on our layout). Pools not followed by a Dense are left (lowering refuses them).
int fold_average_pool(ann::Model& model);

/// Removes layer `index`, rewiring every reader of it to its (single) input. Exposed for tests.
void remove_layer(ann::Model& model, int index);

}  // namespace grindstone::passes
