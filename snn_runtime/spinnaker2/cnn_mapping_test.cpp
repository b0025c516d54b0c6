// The large-CNN mapper: splitting (every task fits its PE), DRAM accounting (bytes moved = the
// bytes the tasks need, counted per task independently), data reuse, pipelining over chips.
#include <doctest/doctest.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/random.hpp"
#include "snn_runtime/spinnaker2/cnn_mapping.hpp"

using namespace grindstone;
using namespace grindstone::snn::s2;

namespace {

MacOp conv(std::string name, std::int64_t hw, std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t stride = 1) {
  MacOp op;
  op.name = std::move(name);
  op.in_h = op.in_w = hw;
  op.in_channels = cin;
  op.out_h = op.out_w = op.result_h = op.result_w = (hw + stride - 1) / stride;
  op.out_channels = cout;
  op.kernel_h = op.kernel_w = k;
  op.stride_h = op.stride_w = stride;
  return op;
}

MacOp dense(std::string name, std::int64_t in, std::int64_t out) {
  MacOp op;
  op.name = std::move(name);
  op.kind = MacOp::Kind::Dense;
  op.in_channels = in;
  op.out_channels = out;
  return op;
}

/// The input bytes every task of `op` needs, summed task by task (its window of rows and
/// columns, all channels), from the output ranges of the bands.
std::int64_t needed_input_bytes(const MacOp& op, const TaskSplit& s) {
  const auto reach = [](std::int64_t first, std::int64_t end, std::int64_t stride, std::int64_t k, std::int64_t image) {
    return std::min(image, (end - 1) * stride + k) - std::min(image, first * stride);
  };
  std::int64_t total = 0;
  for (std::int64_t o = 0; o < s.oc_parts; ++o)
    for (std::int64_t b = 0; b < s.row_parts; ++b)
      for (std::int64_t c = 0; c < s.col_parts; ++c) {
        const std::int64_t r0 = b * op.out_h / s.row_parts, r1 = (b + 1) * op.out_h / s.row_parts;
        const std::int64_t c0 = c * op.out_w / s.col_parts, c1 = (c + 1) * op.out_w / s.col_parts;
        if (r1 == r0 || c1 == c0) continue;
        total += reach(r0, r1, op.stride_h, op.kernel_h, op.in_h) * reach(c0, c1, op.stride_w, op.kernel_w, op.in_w) *
                 op.in_channels;
      }
  return total;
}

}  // namespace

TEST_CASE("splitting: every task fits its PE's SRAM, and there are enough tasks for the PEs") {
  const grindstone::hw::s2::ChipParams chip;
  const std::int64_t sram = chip.pe.usable_sram_bytes();
  for (std::uint64_t i = 0; i < 200; ++i) {
    const auto r = [&](std::uint64_t salt, std::int64_t lo, std::int64_t hi) {
      return lo + static_cast<std::int64_t>(mix64(i * 7919 + salt) % static_cast<std::uint64_t>(hi - lo + 1));
    };
    const MacOp op = i % 5 == 0 ? dense("d", r(1, 16, 30000), r(2, 10, 5000))
                                : conv("c", r(3, 7, 224), r(4, 3, 512), r(5, 16, 512), 1 + 2 * r(6, 0, 3), r(7, 1, 2));
    INFO(op.name << " in " << op.in_h << "x" << op.in_w << "x" << op.in_channels << " out " << op.out_channels
                 << " k" << op.kernel_h);
    const TaskSplit s = split_op(op, chip.pes, sram, 16);
    CHECK(s.sram_bytes_per_task <= sram);
    CHECK(task_sram_bytes(op, s.oc_per_task, s.rows_per_task, s.cols_per_task) == s.sram_bytes_per_task);
    CHECK(s.oc_per_task * s.oc_parts >= op.out_channels);
    CHECK(s.rows_per_task * s.row_parts >= op.out_h);
    CHECK(s.cols_per_task * s.col_parts >= op.out_w);
    // Fewer tasks than PEs only when neither the channels (at 16 per task) nor the rows split further.
    if (s.tasks() < chip.pes) CHECK((s.row_parts * 2 > op.out_h && (op.out_channels + s.oc_parts * 2 - 1) / (s.oc_parts * 2) < 16));
  }
  // A reduction that alone overflows a PE is refused, naming the op.
  MacOp huge = dense("fc_huge", 200000, 10);
  CHECK_THROWS_WITH_AS(split_op(huge, chip.pes, sram, 16), doctest::Contains("fc_huge"), InputError);
}

TEST_CASE("DRAM accounting: without reuse the bytes read are the bytes every task needs; reuse reads each once") {
  CnnMappingParams off, on;
  off.input_row_reuse = off.weight_migration = false;
  for (const MacOp& op : {conv("conv1_1", 224, 3, 64, 3), conv("conv3_1", 56, 128, 256, 3), conv("s2", 56, 64, 128, 3, 2),
                          dense("fc1", 25088, 4096)}) {
    INFO(op.name);
    const MacGraph g{"one", {op}, op.input_bytes()};
    const auto e_off = estimate_cnn(g, off).ops.at(0);
    const auto e_on = estimate_cnn(g, on).ops.at(0);
    const TaskSplit& s = e_off.split;
    CHECK(e_off.dram_input_bytes == needed_input_bytes(op, s));
    CHECK(e_off.dram_weight_bytes == op.weight_bytes() * s.row_parts * s.col_parts);
    CHECK(e_off.noc_bytes == 0);
    // With reuse each band and each weight slice leaves DRAM once; the rest moves over the NoC.
    CHECK(e_on.dram_input_bytes == needed_input_bytes(op, s) / s.oc_parts);
    CHECK(e_on.dram_weight_bytes == op.weight_bytes());
    CHECK(e_on.dram_output_bytes == op.output_bytes());
    if (s.tasks() > 1) {
      CHECK(e_on.dram_bytes() < e_off.dram_bytes());
      CHECK(e_on.noc_bytes > 0);
    }
  }
}

TEST_CASE("the estimate follows the hardware parameters: DRAM bandwidth, clock, chips") {
  MacGraph g{"vgg-like", {}, 224 * 224 * 3};
  g.ops = {conv("c1", 224, 3, 64, 3), conv("c2", 224, 64, 64, 3), conv("c3", 112, 64, 128, 3), conv("c4", 56, 128, 256, 3),
           dense("fc1", 25088, 4096), dense("fc2", 4096, 1000)};
  CnnMappingParams base;
  const auto e = estimate_cnn(g, base);
  CHECK(e.fps > 0);
  CHECK(e.macs == g.macs());
  CHECK(e.pes <= base.chip.pes);
  CHECK(e.mac_utilisation > 0);
  CHECK(e.mac_utilisation <= 1.0);
  CHECK(e.energy.total() > 0);
  // fc1 (100 MB of weights per frame) is DRAM-bound: halving the bandwidth slows it.
  const auto fc1 = std::find_if(e.ops.begin(), e.ops.end(), [](const OpEstimate& o) { return o.name == "fc1"; });
  REQUIRE(fc1 != e.ops.end());
  CHECK(fc1->bound == "dram");
  CnnMappingParams slow_dram = base;
  slow_dram.chip.dram.bytes_per_second /= 2;
  CHECK(estimate_cnn(g, slow_dram).ops[4].seconds > fc1->seconds * 1.8);
  // A faster clock speeds up compute-bound ops only.
  CnnMappingParams fast = base;
  fast.chip.clock.hz *= 2;
  const auto e_fast = estimate_cnn(g, fast);
  for (std::size_t i = 0; i < e.ops.size(); ++i) CHECK(e_fast.ops[i].compute_seconds < e.ops[i].compute_seconds);
  // Data reuse off: more DRAM traffic, fewer frames per second.
  CnnMappingParams off = base;
  off.input_row_reuse = off.weight_migration = false;
  const auto e_off = estimate_cnn(g, off);
  CHECK(e_off.dram_bytes > e.dram_bytes);
  CHECK(e_off.fps < e.fps);
  // Pipelined over chips: contiguous stages, the slowest stage sets the frame rate.
  CnnMappingParams two = base;
  two.chips = 2;
  const auto e2 = estimate_cnn(g, two);
  CHECK(e2.chips == 2);
  CHECK(e2.fps >= e.fps);
  CHECK(e2.chip_link_bytes > 0);
  for (std::size_t i = 1; i < e2.ops.size(); ++i) CHECK(e2.ops[i].chip >= e2.ops[i - 1].chip);
  CHECK(e2.fps == doctest::Approx(1.0 / *std::max_element(e2.stage_seconds.begin(), e2.stage_seconds.end())));
}
