#include "snn_runtime/spinnaker1/synapses.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace grindstone::snn::spinnaker1 {
namespace {

/// 16-bit unsigned ring-buffer entries (reference §1: weight_t = uint16_t).
constexpr std::int64_t kRingBufferMax = 0xFFFF;

/// Integer multiplier that makes `scale`·M an integer for the population's common M, or 0.
std::int64_t integer_multiplier(double scale, std::int64_t common) {
  const double v = scale * static_cast<double>(common);
  const double r = std::nearbyint(v);
  return (r >= 1.0 && std::abs(v - r) < 1e-4 * r) ? static_cast<std::int64_t>(r) : 0;
}

}  // namespace

std::vector<PopulationWeightEncoding> choose_weight_encodings(const Network& network, const std::string& context) {
  const auto n_pops = network.populations.size();
  std::vector<PopulationWeightEncoding> out(n_pops);
  const bool fixed = !network.weights.is_float;
  const int fraction_bits = network.weights.fixed.fraction_bits;
  const double unit = std::ldexp(1.0, fraction_bits);

  for (std::size_t p = 0; p < n_pops; ++p) {
    const Population& pop = network.populations[p];
    if (pop.is_source()) continue;
    const std::string ctx = context + ": population '" + pop.name + "'";
    // Common multiplier M: 1 when every incoming weight_scale is an integer, 255 when bit-plane
    // scales 2^k/255 arrive; otherwise the population falls back to the float encoding.
    std::int64_t common = 0;
    if (fixed) {
      for (std::int64_t candidate : {std::int64_t{1}, std::int64_t{255}}) {
        bool all = true;
        for (const Projection& pr : network.projections)
          if (pr.post == static_cast<int>(p) && integer_multiplier(pr.weight_scale, candidate) == 0) all = false;
        if (all) { common = candidate; break; }
      }
    }
    const bool integer_path = fixed && common > 0;
    // Worst case per receptor and neuron: every excitatory (inhibitory) synapse active at once.
    std::vector<double> exc(static_cast<std::size_t>(pop.size()), 0.0), inh(exc.size(), 0.0);
    std::vector<std::int64_t> fan_in(exc.size(), 0);
    for (const Projection& pr : network.projections) {
      if (pr.post != static_cast<int>(p)) continue;
      const double scale = integer_path ? static_cast<double>(integer_multiplier(pr.weight_scale, common))
                                        : static_cast<double>(pr.weight_scale);
      const std::int64_t pre_size = network.populations[static_cast<std::size_t>(pr.pre)].size();
      for (std::int64_t j = 0; j < pre_size; ++j) {
        for_each_synapse(network, pr, j, [&](std::int64_t i, float w) {
          double v = static_cast<double>(w) * scale;
          if (integer_path) {
            const double u = static_cast<double>(w) * unit;
            require_input(std::abs(u - std::nearbyint(u)) < 1e-3, ctx,
                          "weights: projection '" + pr.name + "' has a weight that is not a multiple of 2^-" +
                              std::to_string(fraction_bits));
            v = std::nearbyint(u) * scale;
          }
          (v >= 0 ? exc : inh)[static_cast<std::size_t>(i)] += std::abs(v);
          ++fan_in[static_cast<std::size_t>(i)];
        });
      }
    }
    const double worst = std::max(*std::max_element(exc.begin(), exc.end()), *std::max_element(inh.begin(), inh.end()));
    const std::int64_t max_fan_in = *std::max_element(fan_in.begin(), fan_in.end());
    PopulationWeightEncoding& enc = out[p];
    if (integer_path) {
      enc.units_per_weight = unit * static_cast<double>(common);
      // Smallest shift whose rounded worst case fits 16 bits (rounding adds ≤ ½ per synapse).
      int s = 0;
      while (s < 40) {
        const double bound = s == 0 ? worst : std::ceil(worst / std::ldexp(1.0, s)) + 0.5 * static_cast<double>(max_fan_in);
        if (bound <= static_cast<double>(kRingBufferMax)) break;
        ++s;
      }
      enc.shift = s;
      enc.worst_case_stored = static_cast<std::int64_t>(std::ceil(worst / std::ldexp(1.0, s)));
      enc.description = network.weights.fixed.to_string() + (common > 1 ? " x255" : "") + ", shift " + std::to_string(s);
    } else {
      // sPyNNaker's get_ring_buffer_shifts: shift = max(0, ceil(log2 max_w)), +1 if 2^shift <= max_w.
      int shift = worst > 0 ? std::max(0, static_cast<int>(std::ceil(std::log2(worst)))) : 0;
      if (std::ldexp(1.0, shift) <= worst) ++shift;
      enc.units_per_weight = std::ldexp(1.0, 15 - shift);
      enc.shift = 0;
      enc.worst_case_stored = static_cast<std::int64_t>(std::ceil(worst * enc.units_per_weight));
      enc.description = "s16.15 auto, ring-buffer shift " + std::to_string(shift);
    }
    enc.threshold_units.resize(exc.size());
    for (std::size_t i = 0; i < exc.size(); ++i) {
      const double t = static_cast<double>(pop.threshold[i]) * enc.units_per_weight;
      enc.threshold_units[i] = integer_path ? static_cast<std::int64_t>(std::nearbyint(t))
                                            : static_cast<std::int64_t>(std::ceil(t - 1e-9));
    }
    if (!pop.bias_current.empty()) {
      enc.bias_units.resize(exc.size());
      for (std::size_t i = 0; i < exc.size(); ++i)
        enc.bias_units[i] =
            static_cast<std::int64_t>(std::nearbyint(static_cast<double>(pop.bias_current[i]) * enc.units_per_weight));
    }
  }
  return out;
}

std::uint32_t stored_weight(const PopulationWeightEncoding& encoding, float weight, float weight_scale) {
  // Integer units first (exact for fixed point: w·2^n·M is an integer up to float rounding of
  // the bit-plane scale), then the population's right shift with rounding to nearest.
  const double units = std::nearbyint(
      std::abs(static_cast<double>(weight) * static_cast<double>(weight_scale) * encoding.units_per_weight));
  const double stored = encoding.shift == 0 ? units : std::nearbyint(units / std::ldexp(1.0, encoding.shift));
  return static_cast<std::uint32_t>(std::min<double>(stored, static_cast<double>(kRingBufferMax)));
}

}  // namespace grindstone::snn::spinnaker1
