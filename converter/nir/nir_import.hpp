#pragma once
// NIR import (issue 15): a NIR graph (nir_graph.hpp) given the meaning of the NIR specification
// (neuromorphs/NIR, nir/ir/*.py), for the primitives binary and rate networks use.
//
// Stateless graphs — Threshold neurons (z = H(x − θ), no state) — are binary single-pass
// networks, so they become an ann::Model that the Keras pipeline then evaluates, converts and
// runs like any Whetstone model:
//   Input (C, H, W) | (N)      → InputLayer (H, W, C) | (N)   (NIR is channels-first)
//   Affine W (out, in), b      → Dense kernel Wᵀ, bias b;  Linear → Dense without bias
//   Conv2d W (Cout, Cin, kH, kW), stride, padding (pH, pW), dilation, groups 1, bias
//                              → ZeroPadding2D (pH, pW) + Conv2D 'valid' (kernel to HWIO)
//   Flatten of a (C, H, W) tensor → Flatten in NIR's (C, H, W) element order
//   Scale s after Affine/Conv2d → folded into that layer's outputs (per unit / per channel)
//   Threshold θ after a linear node → Spiking_BRelu at sharpness 1 (fires x ≥ 0.5) with
//                                 0.5 − θ⁺ added to the bias, θ⁺ the next float above θ, so
//                                 it fires iff x > θ exactly as NIR says
//   SumPool2d k (AvgPool2d k) followed by Threshold θ, on binary spikes, 0 < θ < 1 (θ < 1/k²)
//                              → MaxPooling2D (an OR of the window, exact on spikes)
//   Output                     → the model output; graph metadata decode = n_hot_key with a
//                                key (Grindstone's export) adds Softmax_Decode
// Anything else (nested graphs, branches, CubaLIF, pooling not followed by an OR threshold,
// grouped convolutions, …) is refused naming the node and field.
#include <filesystem>

#include "converter/ann/model.hpp"
#include "converter/nir/nir_graph.hpp"

namespace grindstone::nir {

/// The ann::Model of a stateless (Threshold) NIR graph. InputError naming the node otherwise.
ann::Model to_ann_model(const NirGraph& graph);

/// read_graph + to_ann_model; the model's source records the file ("nir" format, its version).
ann::Model load_ann_model(const std::filesystem::path& path);

}  // namespace grindstone::nir
