// SpiNNaker 2 mapping: tiles fit a PE's SRAM, layers too large for the chip's SRAM are streamed
// from DRAM, layers too large for the machine are refused.
#include <doctest/doctest.h>

#include <string>

#include "common/error.hpp"
#include "snn_runtime/spinnaker2/mapping.hpp"


using namespace grindstone::snn::s2;

namespace {

MacLayerShape dense_shape(const std::string& name, std::int64_t k, std::int64_t n) {
  MacLayerShape s;
  s.name = name;
  s.per_sample = {1, k, n};
  return s;
}

}  // namespace

TEST_CASE("tiles fit the usable SRAM of a PE, and small layers are one tile") {
  const hw::PeParams pe;
  const TilePlan small = plan_tiles(dense_shape("small", 64, 100), 4, pe, 16);
  CHECK(small.tiles() == 1);
  CHECK(small.tile_sram_bytes <= pe.usable_sram_bytes());
  // 784×256 int8 = 200 KB of weights: split over output columns, no reduction needed
  const TilePlan l1 = plan_tiles(dense_shape("dense", 784, 256), 4, pe, 16);
  CHECK(l1.k_splits == 1);
  CHECK(l1.n_splits >= 3);
  CHECK(l1.n_tile % 16 == 0);
  CHECK(l1.n_tile * l1.n_splits >= 256);
  CHECK(l1.tile_sram_bytes <= pe.usable_sram_bytes());
  // a reduction dimension too long for one 16-column block: the input is split, partial sums reduced
  const TilePlan deep = plan_tiles(dense_shape("deep", 20000, 16), 4, pe, 16);
  CHECK(deep.k_splits > 1);
  CHECK(deep.tile_sram_bytes <= pe.usable_sram_bytes());
  CHECK(deep.k_tile * deep.k_splits >= 20000);
  // its partial sums are stored as hw::s2::MacArray::Params::partial_sum_bytes each
  hw::PeParams wide_sums = pe;
  wide_sums.mac.partial_sum_bytes = 8;
  const TilePlan deep8 = plan_tiles(dense_shape("deep", 20000, 16), 4, wide_sums, 16);
  REQUIRE(deep8.k_tile == deep.k_tile);
  CHECK(deep8.tile_sram_bytes - deep.tile_sram_bytes == deep.m_tile * deep.n_tile * (8 - pe.mac.partial_sum_bytes));
}

TEST_CASE("a layer too large for one chip's SRAM streams its weights from DRAM") {
  hw::MachineParams machine;  // one chip: 152 PEs × 96 KiB usable
  const MacLayerShape big = dense_shape("big", 4096, 4096);  // 16 MiB of int8 weights
  CHECK(big.weight_bytes() > machine.total_sram_bytes());
  const MachinePlan plan = place({dense_shape("first", 784, 256), big}, {}, 4, machine);
  REQUIRE(plan.mac.size() == 2);
  CHECK_FALSE(plan.mac[0].streamed);
  CHECK(plan.mac[1].streamed);
  CHECK(plan.mac[1].pes < plan.mac[1].tiles());
  CHECK(plan.mac[1].passes() > 1);
  CHECK(plan.streamed_weight_bytes == big.weight_bytes());
  CHECK(plan.pes_used <= machine.total_pes());
  // with enough chips it stays on chip
  hw::MachineParams two = machine;
  two.chips = 2;
  const MachinePlan resident = place({dense_shape("first", 784, 256), big}, {}, 4, two);
  CHECK_FALSE(resident.mac[1].streamed);
  CHECK(resident.chips_used == 2);
}

TEST_CASE("a layer larger than the machine can hold is refused with a clear message") {
  hw::MachineParams machine;
  const MacLayerShape huge = dense_shape("huge", 60000, 40000);  // 2.2 GiB of int8 weights > 2 GiB of DRAM
  try {
    place({huge}, {}, 4, machine);
    FAIL("expected InputError");
  } catch (const grindstone::InputError& e) {
    const std::string m = e.what();
    CHECK(m.find("layer 'huge'") != std::string::npos);
    CHECK(m.find("DRAM") != std::string::npos);
    CHECK(m.find("--chips") != std::string::npos);
  }
  machine.chips = 2;
  CHECK_NOTHROW(place({huge}, {}, 4, machine));
  // spiking layers need more cores than one chip has
  hw::MachineParams one;
  const ArmPlan arm = plan_arm("wide", 256 * 200, one.chip.pe.arm);
  CHECK(arm.cores == 200);
  CHECK_THROWS_AS(place({}, {arm}, 4, one), grindstone::InputError);
}
