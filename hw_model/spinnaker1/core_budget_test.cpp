#include <doctest/doctest.h>

#include "common/error.hpp"
#include "hw_model/spinnaker1/core_budget.hpp"

namespace s1 = grindstone::hw::s1;
using s1::CoreResource;

TEST_CASE("core budget: a full 255-neuron core with 16-tick delays fits") {
  const s1::CoreBudget budget;
  s1::CoreLoad load;
  load.n_neurons = 255;
  load.max_delay_ticks = 16;
  load.max_row_length = 256;
  load.n_pop_table_entries = 10;
  load.n_address_list_entries = 10;
  load.synaptic_matrix_bytes = 785 * s1::CoreBudget::row_bytes(255);
  const auto v = budget.check(load);
  CHECK(v.fits);
  CHECK(v.exceeded == CoreResource::None);
  CHECK(v.dtcm_ring_buffers == 32768);
  CHECK(v.dtcm_neuron_state == 255 * 48);
  CHECK(v.dtcm_pop_table == 10 * 20 + 10 * 4);
  CHECK(v.dtcm_fixed == 8192 + 2 * (259 * 4) + 1024);
  CHECK(v.dtcm_total() <= 65536);
}

TEST_CASE("core budget: names the exceeded resource") {
  const s1::CoreBudget budget;
  s1::CoreLoad load;
  load.n_neurons = 256;
  auto v = budget.check(load);
  CHECK_FALSE(v.fits);
  CHECK(v.exceeded == CoreResource::Neurons);
  CHECK(v.used == 256);
  CHECK(v.limit == 255);
  CHECK(v.reason == "neurons per core: needs 256 neurons, a core has 255");

  load.n_neurons = 100;
  load.max_row_length = 300;
  CHECK(budget.check(load).exceeded == CoreResource::RowLength);

  load.max_row_length = 100;
  load.n_neurons = 255;
  load.max_delay_ticks = 32;  // 255 neurons × 2 types leave 32 slots → max delay 31
  v = budget.check(load);
  CHECK(v.exceeded == CoreResource::Delay);
  CHECK(v.limit == 31);

  load.max_delay_ticks = 8;
  load.n_address_list_entries = 9000;
  CHECK(budget.check(load).exceeded == CoreResource::PopTableEntries);

  load.n_address_list_entries = 0;
  load.n_pop_table_entries = 2000;  // 40 KB of table
  v = budget.check(load);
  CHECK(v.exceeded == CoreResource::Dtcm);
  CHECK(v.used == v.dtcm_total());
  CHECK(v.reason.find("DTCM: needs") == 0);

  load.n_pop_table_entries = 10;
  load.synaptic_matrix_bytes = budget.sdram_per_core() + 1;
  CHECK(budget.check(load).exceeded == CoreResource::Sdram);

  load.n_neurons = 0;
  CHECK_THROWS_AS(budget.check(load), grindstone::InputError);
}

TEST_CASE("core budget: delay and neuron trade-off of the 2^14-entry ring buffer") {
  const s1::CoreBudget budget;
  CHECK(budget.max_native_delay(255) == 31);
  CHECK(budget.max_native_delay(128) == 63);
  CHECK(budget.max_native_delay(1) == (1 << 13) - 1);
  CHECK(budget.max_neurons_for_delay(16) == 255);
  CHECK(budget.max_neurons_for_delay(31) == 255);
  CHECK(budget.max_neurons_for_delay(32) == 128);
  CHECK(budget.max_neurons_for_delay(40) == 128);
  CHECK(s1::CoreBudget::row_bytes(256) == 259 * 4);
  // 16 application cores share a chip's usable SDRAM (ChipParams: 18 − SCAMP − extra monitor).
  CHECK(budget.sdram_per_core() == 123'469'792 / 16);
  s1::ChipParams spare;
  spare.n_reserved_cores = 3;
  CHECK(s1::CoreBudget({}, spare).sdram_per_core() == 123'469'792 / 15);
}
