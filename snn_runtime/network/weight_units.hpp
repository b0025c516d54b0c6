#pragma once
// Integer weight units of a fixed-point network: the one rule by which every engine (single-pass,
// SpiNNaker 1 ring buffers, SpiNNaker 2 MAC arrays and ARM cores) turns stored weights, weight
// scales and thresholds into exact integers, and the one place that refuses a network that
// cannot be represented so.
//
// A fixed-point network (WeightFormat::is_float false) stores every weight and threshold as an
// exact multiple of 2^-n. A projection scales its weights by weight_scale: 1, or 2^k/255 for the
// bit-plane input population k (Σ_k bit_k·w·2^k/255 = w·pixel/255). Effective weights are then
// integers only in a finer unit, so every post population p counts in units of 2^-n / M_p, with
// M_p the smallest of {1, 255} for which every incoming weight_scale·M_p is an integer m ≥ 1:
//     weight units = (w·2^n)·m        threshold units = (θ·2^n)·M_p
// Scaling one population's sums and thresholds by the same factor never changes a spike, so all
// engines take the same integer decisions.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "snn_runtime/network/network.hpp"

namespace grindstone::snn {

/// Units of stored weight w in a projection of multiplier m: (w·2^n)·m. The caller guarantees
/// that w is a multiple of 2^-n (integer_weight_units checked every weight of the network);
/// inline because engines call it per synapse.
inline std::int64_t weight_units(double w, int fraction_bits, std::int64_t multiplier) {
  return static_cast<std::int64_t>(w * static_cast<double>(std::int64_t{1} << fraction_bits)) * multiplier;
}

/// The units of a fixed-point network (see the file comment); built by integer_weight_units().
struct WeightUnits {
  int fraction_bits = 0;
  /// M_p per population: 255 when an incoming weight_scale is k/255 but not an integer, else 1.
  std::vector<std::int64_t> population_multiplier;
  /// m per projection: weight_scale · M_post, an integer ≥ 1.
  std::vector<std::int64_t> projection_multiplier;

  /// Integer units per unit of effective weight (or threshold) value in population p: 2^n·M_p.
  double units_per_weight(int population) const;
  /// Units of stored weight w of projection k, (w·2^n)·m_k. Exact for every weight of the
  /// network (integer_weight_units checked them); InternalError for any other value.
  std::int64_t weight(int projection, double w) const;
  /// Units of threshold θ of population p, (θ·2^n)·M_p (exact, as weight()).
  std::int64_t threshold(int population, double theta) const;
};

/// Decides the units of a fixed-point network and checks that every weight, weight_scale and
/// threshold is exact in them. InputError "<context>: projection '<name>': weight_scale: …",
/// "…: weights: … is not a multiple of 2^-n …" or "<context>: population '<name>': threshold: …"
/// otherwise; InternalError for a float network.
WeightUnits integer_weight_units(const Network& network, const std::string& context);

/// The eight bit-plane projections into one population: projection[k] reads input bit k.
struct PlaneGroup {
  std::array<int, 8> projection{};
};

/// The bit-plane projections into population `post` when they form one group: one projection
/// from each bit-plane Input population k = 0…7, all with the same connector and weights, at
/// weight_scale 2^k·s0 (so the eight deliveries fuse into one pixel-weighted delivery). nullopt
/// otherwise, with `why_not` (if given) saying why — empty when `post` reads no bit plane.
std::optional<PlaneGroup> plane_group(const Network& network, int post, std::string* why_not = nullptr);

}  // namespace grindstone::snn
