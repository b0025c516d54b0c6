#include "snn_runtime/network/weight_units.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "snn_runtime/network/connector_geometry.hpp"

namespace grindstone::snn {
namespace {

/// Bit-plane input scales are k/255; 255 is the only finer unit the converter writes.
constexpr std::int64_t kPlaneDenominator = 255;

/// weight_scale·M as an integer ≥ 1 (relative tolerance 1e-4 for the float rounding of 2^k/255),
/// or 0.
std::int64_t integer_multiplier(float scale, std::int64_t M) {
  const double v = static_cast<double>(scale) * static_cast<double>(M);
  const auto m = std::llround(v);
  return m >= 1 && std::abs(v - static_cast<double>(m)) <= 1e-4 * static_cast<double>(m) ? m : 0;
}

/// v·2^n when it is an integer (n ≤ 30, FixedPointFormat::parse; the product is exact).
std::optional<std::int64_t> exact_units(double v, int fraction_bits) {
  const double u = v * static_cast<double>(std::int64_t{1} << fraction_bits);
  if (u != std::nearbyint(u) || std::abs(u) >= 9.0e15) return std::nullopt;
  return static_cast<std::int64_t>(u);
}

/// f(w) for every stored weight of a connector (zeros included; conv kernels, not their image).
template <class F>
void for_each_stored_weight(const Connector& connector, F&& f) {
  if (const auto* d = std::get_if<DenseConnector>(&connector)) {
    for (Eigen::Index i = 0; i < d->weights.size(); ++i) f(d->weights.data()[i]);
  } else if (const auto* c = std::get_if<ConvConnector>(&connector)) {
    for (Eigen::Index i = 0; i < c->kernel.size(); ++i) f(c->kernel.data()[i]);
  } else if (const auto* p = std::get_if<PoolConnector>(&connector)) {
    f(p->weight);
  } else {
    f(std::get<OneToOneConnector>(connector).weight);
  }
}

std::string format_name(const Network& network) { return network.weights.fixed.to_string(); }

}  // namespace

double WeightUnits::units_per_weight(int population) const {
  return std::ldexp(static_cast<double>(population_multiplier.at(static_cast<std::size_t>(population))), fraction_bits);
}

std::int64_t WeightUnits::weight(int projection, double w) const {
  const auto u = exact_units(w, fraction_bits);
  if (!u) throw InternalError("weight units: " + std::to_string(w) + " is not a multiple of 2^-" + std::to_string(fraction_bits));
  return *u * projection_multiplier.at(static_cast<std::size_t>(projection));
}

std::int64_t WeightUnits::threshold(int population, double theta) const {
  const auto u = exact_units(theta, fraction_bits);
  if (!u)
    throw InternalError("weight units: threshold " + std::to_string(theta) + " is not a multiple of 2^-" +
                        std::to_string(fraction_bits));
  return *u * population_multiplier.at(static_cast<std::size_t>(population));
}

WeightUnits integer_weight_units(const Network& network, const std::string& context) {
  if (network.weights.is_float) throw InternalError(context + ": integer weight units asked of a float network");
  WeightUnits units;
  units.fraction_bits = network.weights.fixed.fraction_bits;
  require_input(units.fraction_bits >= 0 && units.fraction_bits <= 30, context,
                "weights: format " + format_name(network) + " has fraction bits outside 0..30");
  const auto n_pops = network.populations.size();
  units.population_multiplier.assign(n_pops, 1);
  units.projection_multiplier.assign(network.projections.size(), 0);
  const std::string unit = "2^-" + std::to_string(units.fraction_bits);
  // M_p: 255 as soon as one incoming scale is not an integer (checked below to be k/255).
  for (const Projection& pr : network.projections)
    if (integer_multiplier(pr.weight_scale, 1) == 0)
      units.population_multiplier.at(static_cast<std::size_t>(pr.post)) = kPlaneDenominator;
  for (std::size_t k = 0; k < network.projections.size(); ++k) {
    const Projection& pr = network.projections[k];
    const std::string where = context + ": projection '" + pr.name + "'";
    const std::int64_t M = units.population_multiplier[static_cast<std::size_t>(pr.post)];
    const std::int64_t m = integer_multiplier(pr.weight_scale, M);
    require_input(m >= 1, where,
                  "weight_scale: " + std::to_string(pr.weight_scale) +
                      " is neither a positive integer nor k/255 (the sums of a fixed-point network must stay integers)");
    units.projection_multiplier[k] = m;
    // The message is built only on failure: this runs once per stored weight.
    for_each_stored_weight(pr.connector, [&](float w) {
      if (!exact_units(w, units.fraction_bits))
        throw InputError(where + ": weights: " + std::to_string(w) + " is not a multiple of " + unit +
                         " in a fixed-point (" + format_name(network) + ") network");
    });
  }
  for (const Population& pop : network.populations)
    for (float theta : pop.threshold)
      if (!exact_units(theta, units.fraction_bits))
        throw InputError(context + ": population '" + pop.name + "': threshold: " + std::to_string(theta) +
                         " is not a multiple of " + unit + " in a fixed-point (" + format_name(network) + ") network");
  return units;
}

std::optional<PlaneGroup> plane_group(const Network& network, int post, std::string* why_not) {
  const auto fail = [&](std::string reason) -> std::optional<PlaneGroup> {
    if (why_not) *why_not = std::move(reason);
    return std::nullopt;
  };
  PlaneGroup group;
  group.projection.fill(-1);
  bool any = false;
  for (std::size_t k = 0; k < network.projections.size(); ++k) {
    const Projection& pr = network.projections[k];
    if (pr.post != post) continue;
    const Population& pre = network.populations.at(static_cast<std::size_t>(pr.pre));
    if (pre.role != PopulationRole::Input || pre.input_bit < 0) continue;
    any = true;
    int& slot = group.projection[static_cast<std::size_t>(pre.input_bit)];
    if (slot >= 0) return fail("reads bit plane " + std::to_string(pre.input_bit) + " twice");
    slot = static_cast<int>(k);
  }
  if (!any) return fail("");
  if (std::find(group.projection.begin(), group.projection.end(), -1) != group.projection.end())
    return fail("does not read all eight bit planes");
  const Projection& base = network.projections[static_cast<std::size_t>(group.projection[0])];
  for (int bit = 1; bit < 8; ++bit) {
    const Projection& pr = network.projections[static_cast<std::size_t>(group.projection[static_cast<std::size_t>(bit)])];
    if (!same_connector(pr.connector, base.connector) || pr.weight_scale != std::ldexp(base.weight_scale, bit))
      return fail("projection '" + pr.name + "': bit planes must share one kernel at scales 2^k·s0 (2^k/255)");
  }
  return group;
}

}  // namespace grindstone::snn
