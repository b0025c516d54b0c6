#include "snn_runtime/spinnaker1/synapses.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "snn_runtime/network/weight_units.hpp"

namespace grindstone::snn::spinnaker1 {
namespace {

/// 16-bit unsigned ring-buffer entries (reference §1: weight_t = uint16_t).
constexpr std::int64_t kRingBufferMax = 0xFFFF;

}  // namespace

std::vector<PopulationWeightEncoding> choose_weight_encodings(const Network& network, const std::string& context) {
  const auto n_pops = network.populations.size();
  std::vector<PopulationWeightEncoding> out(n_pops);
  // Fixed point: the network's integer weight units (network/weight_units.hpp), which refuse a
  // network they cannot represent exactly.
  const std::optional<WeightUnits> units = network.weights.is_float
                                               ? std::nullopt
                                               : std::optional<WeightUnits>(integer_weight_units(network, context));

  for (std::size_t p = 0; p < n_pops; ++p) {
    const Population& pop = network.populations[p];
    if (pop.is_source()) continue;
    const bool integer_path = units.has_value();
    // Worst case per receptor and neuron: every excitatory (inhibitory) synapse active at once.
    std::vector<double> exc(static_cast<std::size_t>(pop.size()), 0.0), inh(exc.size(), 0.0);
    std::vector<std::int64_t> fan_in(exc.size(), 0);
    for (std::size_t k = 0; k < network.projections.size(); ++k) {
      const Projection& pr = network.projections[k];
      if (pr.post != static_cast<int>(p)) continue;
      for_each_synapse(network, pr, [&](std::int64_t, std::int64_t i, float w) {
        const double v = integer_path ? static_cast<double>(units->weight(static_cast<int>(k), w))
                                      : static_cast<double>(w) * static_cast<double>(pr.weight_scale);
        (v >= 0 ? exc : inh)[static_cast<std::size_t>(i)] += std::abs(v);
        ++fan_in[static_cast<std::size_t>(i)];
      });
    }
    const double worst = std::max(*std::max_element(exc.begin(), exc.end()), *std::max_element(inh.begin(), inh.end()));
    const std::int64_t max_fan_in = *std::max_element(fan_in.begin(), fan_in.end());
    PopulationWeightEncoding& enc = out[p];
    if (integer_path) {
      enc.units_per_weight = units->units_per_weight(static_cast<int>(p));
      // Smallest shift whose rounded worst case fits 16 bits (rounding adds ≤ ½ per synapse).
      int s = 0;
      while (s < 40) {
        const double bound = s == 0 ? worst : std::ceil(worst / std::ldexp(1.0, s)) + 0.5 * static_cast<double>(max_fan_in);
        if (bound <= static_cast<double>(kRingBufferMax)) break;
        ++s;
      }
      enc.shift = s;
      enc.worst_case_stored = static_cast<std::int64_t>(std::ceil(worst / std::ldexp(1.0, s)));
      const std::int64_t M = units->population_multiplier[p];
      enc.description = network.weights.fixed.to_string() + (M > 1 ? " x" + std::to_string(M) : "") + ", shift " + std::to_string(s);
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
      enc.threshold_units[i] = integer_path ? units->threshold(static_cast<int>(p), pop.threshold[i])
                                            : static_cast<std::int64_t>(std::ceil(t - 1e-9));
    }
    require_input(pop.v_reset.empty(), "spinnaker1: population '" + pop.name + "'",
                  "v_reset: reset to a value is not modelled on SpiNNaker 1 (only reset by subtraction)");
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
