// The integer weight-unit rule (network/weight_units.hpp): multipliers, exact units, plane
// groups, and one error for a network that cannot be represented — the same from every engine.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "common/error.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "snn_runtime/network/weight_units.hpp"
#include "snn_runtime/spinnaker1/synapses.hpp"
#include "snn_runtime/spinnaker2/stages.hpp"

using namespace grindstone;
using namespace grindstone::snn;

namespace {

/// Eight bit-plane inputs (4 pixels) → hidden (3) → out (2), Q4.8. Plane k carries 2^k/255.
Network plane_network() {
  Network n;
  for (int k = 0; k < 8; ++k) {
    Population in;
    in.name = "in" + std::to_string(k);
    in.role = PopulationRole::Input;
    in.shape = Shape{4};
    in.input_bit = k;
    n.populations.push_back(in);
  }
  Population hidden;
  hidden.name = "hidden";
  hidden.shape = Shape{3};
  hidden.tick = 1;
  hidden.threshold = {0.5f, 1.25f, 0.00390625f};  // 1/256 = one Q4.8 unit
  n.populations.push_back(hidden);
  Population out = hidden;
  out.name = "out";
  out.role = PopulationRole::Output;
  out.shape = Shape{2};
  out.tick = 2;
  out.threshold = {1.0f, 0.75f};
  n.populations.push_back(out);
  Eigen::MatrixXf w1(4, 3);
  w1 << 0.5f, -0.25f, 1.0f, 0.0f, 0.125f, -2.0f, 0.75f, 0.5f, 0.25f, -1.0f, 0.0f, 0.00390625f;
  for (int k = 0; k < 8; ++k)
    n.projections.push_back({"in" + std::to_string(k) + "->hidden", k, 8, DenseConnector{w1},
                             std::ldexp(1.0f / 255.0f, k)});
  Eigen::MatrixXf w2(3, 2);
  w2 << 1.0f, -0.5f, 0.25f, 0.75f, -1.5f, 2.0f;
  n.projections.push_back({"hidden->out", 8, 9, DenseConnector{w2}, 1.0f});
  n.weights.is_float = false;
  n.weights.fixed = FixedPointFormat{4, 8};
  n.input = InputEncoding::Bitplanes;
  n.input_shape = Shape{4};
  n.decode.kind = Decode::Kind::SpikeCount;
  n.decode.classes = 2;
  n.output = 9;
  return n;
}

}  // namespace

TEST_CASE("weight units: ×255 only where bit planes arrive; multipliers 2^k; exact units") {
  const Network n = plane_network();
  const WeightUnits u = integer_weight_units(n, "net");
  CHECK(u.fraction_bits == 8);
  CHECK(u.population_multiplier[8] == 255);  // hidden: fed by the planes
  CHECK(u.population_multiplier[9] == 1);    // out: scale 1 only
  for (int k = 0; k < 8; ++k) CHECK(u.projection_multiplier[static_cast<std::size_t>(k)] == (std::int64_t{1} << k));
  CHECK(u.projection_multiplier[8] == 1);
  CHECK(u.weight(3, 0.5) == 128 * 8);  // 0.5 = 128 units, plane 3 → ×8
  CHECK(u.weight(8, -1.5) == -384);
  CHECK(u.threshold(8, 1.25) == 320 * 255);
  CHECK(u.threshold(9, 0.75) == 192);
  CHECK(u.units_per_weight(8) == 256.0 * 255.0);
  CHECK(weight_units(0.25, 8, 4) == 256);
  // Effective weights in units are exact: w·2^k/255 · 2^8·255 = w·2^8·2^k.
  for (int k = 0; k < 8; ++k) {
    const double effective = 0.125 * static_cast<double>(n.projections[static_cast<std::size_t>(k)].weight_scale);
    CHECK(std::abs(effective * u.units_per_weight(8) - static_cast<double>(u.weight(k, 0.125))) < 1e-3);
  }
  CHECK_THROWS_AS(u.weight(0, 0.001), InternalError);  // never asked of an unchecked value
}

TEST_CASE("weight units: integer weight scales keep unit 2^-n; float networks have no units") {
  Network n = plane_network();
  for (int k = 0; k < 8; ++k) n.projections[static_cast<std::size_t>(k)].weight_scale = 1.0f;
  n.projections[8].weight_scale = 3.0f;
  const WeightUnits u = integer_weight_units(n, "net");
  CHECK(u.population_multiplier[8] == 1);
  CHECK(u.projection_multiplier[8] == 3);
  CHECK(u.weight(8, 0.25) == 192);
  n.weights.is_float = true;
  CHECK_THROWS_AS(integer_weight_units(n, "net"), InternalError);
}

TEST_CASE("weight units: one error naming the field for networks that are not exact") {
  auto message = [](const Network& n) {
    try {
      integer_weight_units(n, "net.snn.h5");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Network n = plane_network();
  n.projections[8].weight_scale = 0.5f;
  CHECK(message(n) == "net.snn.h5: projection 'hidden->out': weight_scale: 0.500000 is neither a positive integer nor "
                      "k/255 (the sums of a fixed-point network must stay integers)");
  n = plane_network();
  std::get<DenseConnector>(n.projections[8].connector).weights(1, 1) = 0.001f;
  CHECK(message(n).find("net.snn.h5: projection 'hidden->out': weights: 0.001000 is not a multiple of 2^-8") == 0);
  n = plane_network();
  n.populations[9].threshold[1] = 0.3f;
  CHECK(message(n).find("net.snn.h5: population 'out': threshold: 0.300000 is not a multiple of 2^-8") == 0);
}

TEST_CASE("weight units: single-pass, SpiNNaker 1 and SpiNNaker 2 refuse the same network with the same message") {
  Network n = plane_network();
  n.projections[8].weight_scale = 0.5f;
  std::string expected;
  try {
    integer_weight_units(n, "x");
  } catch (const InputError& e) {
    expected = std::string(e.what()).substr(1);  // drop the context "x"
  }
  REQUIRE(!expected.empty());
  auto tail_of = [](const std::string& what) { return what.substr(what.find(": projection")); };
  const std::string want = tail_of("x" + expected);
  try {
    SinglePassEngine engine(n, "net");
    FAIL("single-pass accepted it");
  } catch (const InputError& e) {
    CHECK(tail_of(e.what()) == want);
  }
  try {
    spinnaker1::choose_weight_encodings(n, "net");
    FAIL("SpiNNaker 1 accepted it");
  } catch (const InputError& e) {
    CHECK(tail_of(e.what()) == want);
  }
  try {
    std::int64_t events = 0;
    s2::bias_activity(n, events);
    FAIL("SpiNNaker 2 accepted it");
  } catch (const InputError& e) {
    CHECK(tail_of(e.what()) == want);
  }
}

TEST_CASE("plane groups: eight planes of one kernel, or the reason they are not") {
  Network n = plane_network();
  std::string why = "?";
  const auto group = plane_group(n, 8, &why);
  REQUIRE(group.has_value());
  for (int k = 0; k < 8; ++k) CHECK(group->projection[static_cast<std::size_t>(k)] == k);
  CHECK_FALSE(plane_group(n, 9, &why).has_value());  // reads no plane
  CHECK(why.empty());

  Network missing = n;
  missing.projections.erase(missing.projections.begin() + 5);
  CHECK_FALSE(plane_group(missing, 8, &why).has_value());
  CHECK(why == "does not read all eight bit planes");

  Network other_kernel = n;
  std::get<DenseConnector>(other_kernel.projections[2].connector).weights(0, 0) = 0.25f;
  CHECK_FALSE(plane_group(other_kernel, 8, &why).has_value());
  CHECK(why.find("projection 'in2->hidden'") == 0);

  Network wrong_scale = n;
  wrong_scale.projections[4].weight_scale *= 3.0f;
  CHECK_FALSE(plane_group(wrong_scale, 8, &why).has_value());

  Network twice = n;
  twice.populations[3].input_bit = 2;
  CHECK_FALSE(plane_group(twice, 8, &why).has_value());
  CHECK(why == "reads bit plane 2 twice");
}
