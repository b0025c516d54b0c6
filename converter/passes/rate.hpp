#pragma once
// Rate-coded conversion of ordinary ReLU networks (SNN Toolbox method), for `run --engine rate`
// and `compare`: integrate-and-fire populations (threshold 1, reset by subtraction, constant
// bias current) with data-based normalisation.
//
// Normalisation (Rueckauer et al. 2017; SNN Toolbox conversion/utils.py): for each weighted
// layer l, λ_l = the `percentile`-th percentile (default 99.9, numpy's linear interpolation) of
// the layer's non-zero post-activation values over a subset of training images (pixel/255);
// W_l ← W_l·λ_{l−1}/λ_l, b_l ← b_l/λ_l, λ_input = 1; a final softmax layer is normalised by the
// same percentile of its logits (its pre-softmax values), not λ = 1 as in the toolbox: with λ = 1
// the outputs of a network with logits above 1 saturate and tie. A final linear/softmax layer is
// decoded by SpikeCount with ties broken by membrane potential (Decode::tie_break_by_potential).
//
// Pooling: AveragePooling2D → integrate-and-fire neurons with PoolConnector weight 1/window
// (λ unchanged: averaging rates cannot exceed their maximum). MaxPooling2D → a spiking max-pool
// (SNN Toolbox's spiking MaxPooling2D: each output forwards the spikes of the window's input with
// the largest cumulative spike count so far; see snn::RateEngineConfig). The IR has no max-pool
// connector, so the network holds the same PoolConnector (weight 1/window) and the projections to
// gate are returned in `max_pool_projections` — pass `engine_config()` to the RateEngine. With
// `spiking_max_pool = false`, or run without that config, max pooling is approximated by average
// pooling (the toolbox's `max2avg_pool`), and a note says so.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "converter/ann/model.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/rate.hpp"
#include "snn_runtime/network/network.hpp"

namespace grindstone::passes {

struct RateConversionOptions {
  double percentile = 99.9;                ///< of non-zero activations, per layer
  std::int64_t normalisation_samples = 1000;  ///< evenly spaced training images used for λ
  int threads = 0;                         ///< for the float inference (≤ 0: all)
  bool spiking_max_pool = true;            ///< false: MaxPooling2D as average pooling
};

struct RateConversion {
  snn::Network network;
  std::vector<std::string> layers;  ///< weighted layers, in order
  std::vector<double> lambdas;      ///< λ_l of each of them
  std::vector<std::string> notes;   ///< approximations made (e.g. max-pool as average)
  std::vector<int> max_pool_projections;  ///< projections realising MaxPooling2D (spiking max-pool)

  snn::RateEngineConfig engine_config() const { return {max_pool_projections}; }
};

/// Converts a chain model of Dense/Conv2D + ReLU layers (plus Flatten, Dropout, BatchNorm,
/// pooling) ending in a linear or softmax Dense/Conv2D. InputError naming the layer for
/// anything else (e.g. a Whetstone step layer, a sigmoid hidden layer).
RateConversion convert_for_rate(const ann::Model& model, const datasets::Dataset& training,
                                const RateConversionOptions& options = {}, std::ostream* log = nullptr);

/// numpy.percentile(values, p) with linear interpolation (values are reordered). 1 when empty.
double percentile_of(std::vector<float>& values, double p);

}  // namespace grindstone::passes
