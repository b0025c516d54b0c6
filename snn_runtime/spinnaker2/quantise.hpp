#pragma once
// The one int8 quantiser of the SpiNNaker 2 path: symmetric int8 weights (scale 127 / max|w| per
// tensor or per output column) and the write-out's requantisation multiplier/shift. It lives in
// snn_runtime/spinnaker2 because both users need it and the dependency order is
// converter → snn_runtime → hw_model: the spiking MAC stages (stages.cpp, float networks) and the
// ANN → MAC lowering pass (converter/passes/ann_to_mac.cpp) both call it. It is not in hw_model,
// which models the array's integer arithmetic and knows nothing of real-valued weights.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace grindstone::snn::s2 {

/// Which weights share one scale.
enum class ScaleGroup {
  Tensor,  ///< one scale for the whole k×n matrix (ANN layers)
  Column,  ///< one scale per output column (spiking MAC stages of float networks)
};

struct Int8Weights {
  std::vector<std::int8_t> values;  ///< k×n row-major, in [−127, 127]
  std::vector<double> scales;       ///< int8 units per real unit: 1 (Tensor) or n (Column) values
  double scale_of_column(std::int64_t column) const {
    return scales.size() == 1 ? scales[0] : scales[static_cast<std::size_t>(column)];
  }
};

/// Quantises a k×n row-major real matrix: value = clamp(round(w · scale), −127, 127) with
/// scale = 127 / max|w| over the group (1 when the group is all zeros).
Int8Weights quantise_int8(std::span<const double> weights, std::int64_t k, std::int64_t n, ScaleGroup group);

/// The write-out's fixed-point rescale of an accumulator by a real `ratio` > 0:
/// out ≈ acc · multiplier · 2^−shift.
struct Requantisation {
  std::int32_t multiplier = 1;
  int shift = 0;
};

/// Picks shift so that the multiplier keeps about 15 significant bits (shift in 0–31) and
/// multiplier = round(ratio · 2^shift). Throws InputError when ratio is not positive and finite.
Requantisation requantisation(double ratio);

/// round(value) (half away from zero) as an int32 write-out bias; InputError naming `context`
/// when it does not fit.
std::int32_t round_to_int32(double value, const std::string& context);

}  // namespace grindstone::snn::s2
