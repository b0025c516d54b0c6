#pragma once
// ANN → SpiNNaker 2 MAC program (`run MODEL.h5 --engine spinnaker2 --s2-mode ann`), as three named
// steps: lowering (Dense/Conv2D + ReLU become MAC steps, MaxPooling2D an ARM step, a channels_first
// Flatten a layout step), calibration (activation ranges from the float reference inference), and
// int8 quantisation with the one int8 quantiser of the S2 path (snn::s2::quantise_int8, shared
// with the spiking MAC stages of float networks, which is why it sits in snn_runtime):
//  - weights int8, one scale per layer: 127 / max|W|;
//  - activations after ReLU uint7 (0–127) with scale 127 / max over the calibration images;
//  - the first layer takes the raw 8-bit pixels (scale 255 per unit of pixel/255);
//  - bias int32 at the accumulator's scale; the write-out requantises hidden layers
//    (multiplier·2^−shift, rounded), applies ReLU and clamps to [0, 127]; the last layer's
//    accumulators + bias are the int32 scores.
#include <cstdint>
#include <string>
#include <vector>

#include "converter/ann/model.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/spinnaker2/ann_program.hpp"

namespace grindstone::passes {

struct AnnToMacOptions {
  /// Training images whose activation maxima set the activation scales (the first N).
  std::int64_t calibration_images = 500;
};

/// A lowered program and where its steps came from in the model.
struct AnnLowering {
  snn::s2::AnnProgram program;  ///< structure only until quantise_ann_program
  /// Per step: the model layer holding its kernel and bias (MAC steps) or the layer itself.
  std::vector<int> layer_of_step;
  /// Per step: the model layer whose output range is the step's output (its ReLU, else itself).
  std::vector<int> range_layer_of_step;
};

/// The program's steps without weights. InputError naming the layer for anything the MAC arrays
/// cannot run (non-chain graphs, average pooling, non-ReLU hidden activations, dense layers not
/// fed by a flatten, no dense or conv layer at all).
AnnLowering lower_ann_to_mac(const ann::Model& model);

/// Per layer of `model`, the maximum of its output over the calibration images (pixel/255
/// inputs), from the float reference inference (converter/ann/inference).
std::vector<float> activation_maxima(const ann::Model& model, const datasets::Dataset& calibration);

/// Fills weights, biases and write-outs of `lowering.program` given `layer_max`
/// (activation_maxima of the same model); `calibration` names the images in the program's
/// quantisation description. InputError naming the layer when a hidden MAC step has no ReLU.
void quantise_ann_program(AnnLowering& lowering, const ann::Model& model, const std::vector<float>& layer_max,
                          const std::string& calibration);

/// The three steps: lower, calibrate on `calibration`, quantise.
snn::s2::AnnProgram ann_to_mac(const ann::Model& model, const datasets::Dataset& calibration);

}  // namespace grindstone::passes
