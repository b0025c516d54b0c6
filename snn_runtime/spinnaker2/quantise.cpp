#include "snn_runtime/spinnaker2/quantise.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.hpp"

namespace grindstone::snn::s2 {

Int8Weights quantise_int8(std::span<const double> weights, std::int64_t k, std::int64_t n, ScaleGroup group) {
  if (static_cast<std::int64_t>(weights.size()) != k * n)
    throw InternalError("quantise_int8: " + std::to_string(weights.size()) + " weights for a " + std::to_string(k) + "×" +
                        std::to_string(n) + " matrix");
  const auto at = [&](std::int64_t r, std::int64_t c) { return weights[static_cast<std::size_t>(r * n + c)]; };
  const std::int64_t groups = group == ScaleGroup::Tensor ? 1 : n;
  std::vector<double> max_abs(static_cast<std::size_t>(groups), 0.0);
  for (std::int64_t r = 0; r < k; ++r)
    for (std::int64_t c = 0; c < n; ++c) {
      double& m = max_abs[static_cast<std::size_t>(group == ScaleGroup::Tensor ? 0 : c)];
      m = std::max(m, std::abs(at(r, c)));
    }
  Int8Weights q;
  for (double m : max_abs) q.scales.push_back(m > 0 ? 127.0 / m : 1.0);
  q.values.resize(weights.size());
  for (std::int64_t r = 0; r < k; ++r)
    for (std::int64_t c = 0; c < n; ++c)
      q.values[static_cast<std::size_t>(r * n + c)] =
          static_cast<std::int8_t>(std::clamp<long long>(std::llround(at(r, c) * q.scale_of_column(c)), -127, 127));
  return q;
}

Requantisation requantisation(double ratio) {
  require_input(ratio > 0 && std::isfinite(ratio), "spinnaker2 requantisation",
                "scale ratio " + std::to_string(ratio) + " is not positive and finite");
  Requantisation r;
  r.shift = std::clamp(14 - static_cast<int>(std::floor(std::log2(ratio))), 0, 31);
  const long long m = std::llround(ratio * std::ldexp(1.0, r.shift));
  require_input(m <= std::numeric_limits<std::int32_t>::max(), "spinnaker2 requantisation", "scale ratio " + std::to_string(ratio) + " exceeds the 32-bit multiplier");
  r.multiplier = static_cast<std::int32_t>(m);
  return r;
}

std::int32_t round_to_int32(double value, const std::string& context) {
  require_input(std::isfinite(value) && std::abs(value) < 2147483647.0, context,
                "value " + std::to_string(value) + " does not fit the 32-bit write-out bias");
  return static_cast<std::int32_t>(std::llround(value));
}

}  // namespace grindstone::snn::s2
