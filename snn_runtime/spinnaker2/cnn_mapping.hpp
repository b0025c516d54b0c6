#pragma once
// Large CNNs (VGG-16, ResNet-50) on SpiNNaker 2, as the seed maps them (Kelber et al., NICE 2021,
// seed 000_9273486a794bc3be): fused operators (cnn_graph.hpp) are split into tasks until each
// task's weights, input rows and outputs fit one PE's SRAM (splitting output channels first,
// then output rows: the seed's "no(1)/no(2)" rule), tasks are placed on the PE hierarchy
// (hierarchy.hpp) and run layer after layer, the DRAM and the NoC shared by all PEs.
//
// Data reuse (each switchable):
//   * input-row reuse: a band of input rows is read from DRAM once and multicast over the NoC to
//     every PE computing other output channels of the same rows (once per QPE block it reaches);
//     without it every task reads its own rows from DRAM;
//   * weight migration ("paired PE shift"): a task's weight slice is read from DRAM once and
//     handed between PEs over the NoC to the tasks of the other row bands; without it every task
//     reads its slice from DRAM.
// Time of one op: its tasks run in waves of at most the chip's PEs. Loads of the next wave overlap
// the compute of the current one (decoupled access/execute, seed [V]), so
//     t = max(compute, dram, noc) + min(compute, max(dram, noc)) / waves
// — fully overlapped with many waves, serial with one (the first wave's data must arrive first).
// With several chips the ops are pipelined: contiguous groups of ops, one group per chip, chosen
// to minimise the slowest stage; the activations crossing a chip boundary use the chip links.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw_model/spinnaker2/chip.hpp"
#include "hw_model/spinnaker2/hierarchy.hpp"
#include "snn_runtime/spinnaker2/cnn_graph.hpp"

namespace grindstone::snn::s2 {

struct CnnMappingParams {
  /// One chip: PEs, SRAM per PE, clock, MAC array, NoC, DRAM, energy (hw_model, with sources).
  hw::ChipParams chip;
  hw::HierarchyParams hierarchy;
  /// Chips the ops are pipelined over (--chips).
  int chips = 1;
  bool input_row_reuse = true;
  bool weight_migration = true;
};

/// How one op is divided: oc_parts × row_parts × col_parts tasks.
struct TaskSplit {
  std::int64_t oc_parts = 1, row_parts = 1, col_parts = 1;
  std::int64_t oc_per_task = 1;       ///< output channels of the largest task
  std::int64_t rows_per_task = 1;     ///< output rows of the largest task
  std::int64_t cols_per_task = 1;     ///< output columns of the largest task
  std::int64_t sram_bytes_per_task = 0;  ///< weights + input window + outputs of the largest task
  std::int64_t tasks() const { return oc_parts * row_parts * col_parts; }
};

/// SRAM bytes a task of `oc` output channels, `rows` output rows and `cols` output columns of
/// `op` needs.
std::int64_t task_sram_bytes(const MacOp& op, std::int64_t oc, std::int64_t rows, std::int64_t cols);
/// The seed's splitter: output channels are halved (keeping at least `oc_granularity` per task,
/// the MAC array's columns) until there are `pes` tasks or the channels run out, then output
/// rows until the task fits `sram_bytes` and there are `pes` tasks; if it still does not fit,
/// channels below the granularity, then output columns (an input row wider than a PE). Throws InputError naming the op when one output value's
/// task cannot fit.
TaskSplit split_op(const MacOp& op, int pes, std::int64_t sram_bytes, int oc_granularity);

struct OpEstimate {
  std::string name;
  TaskSplit split;
  int chip = 0;
  int pes = 0;               ///< PEs busy in the op
  std::int64_t waves = 0;
  std::int64_t task_cycles = 0;  ///< PE cycles of the largest task (MAC array cycle model)
  double compute_seconds = 0, dram_seconds = 0, noc_seconds = 0, seconds = 0;
  std::int64_t dram_weight_bytes = 0, dram_input_bytes = 0, dram_output_bytes = 0;
  std::int64_t noc_bytes = 0;
  std::int64_t macs = 0;
  std::int64_t mac_slots = 0;  ///< busy MAC-array cycles × 64, all tasks
  std::string bound;           ///< "compute", "dram" or "noc": the largest of the three times
  std::int64_t dram_bytes() const { return dram_weight_bytes + dram_input_bytes + dram_output_bytes; }
  /// MACs / (MACs the chip's PEs could do in the op's time).
  double mac_utilisation(const hw::ChipParams& chip) const;
};

struct CnnEstimate {
  std::string name;
  std::vector<OpEstimate> ops;
  std::vector<double> stage_seconds;  ///< per chip
  double latency_seconds = 0;         ///< one frame through all stages (batch 1)
  double fps = 0;                     ///< 1 / slowest stage
  int pes = 0, chips = 1;
  std::int64_t macs = 0, dram_bytes = 0, noc_bytes = 0, chip_link_bytes = 0;
  double mac_utilisation = 0;         ///< MACs / (MACs all used chips could do in the latency)
  hw::EnergyBreakdown energy;     ///< per frame
};

/// Splits, places and schedules every op of `graph`.
CnnEstimate estimate_cnn(const MacGraph& graph, const CnnMappingParams& params);

/// The `estimate --json` report: the totals, the data-reuse settings and one row per op.
nlohmann::json estimate_json(const CnnEstimate& estimate, const CnnMappingParams& params);
/// A readable table of the same.
std::string estimate_summary(const CnnEstimate& estimate, const CnnMappingParams& params);

/// The roofline (PNG, log-log): each op at (operational intensity = 2·MACs / DRAM bytes, attained
/// ops/s = 2·MACs / its time) under the roofs min(peak ops/s, intensity · DRAM bandwidth).
void write_roofline(const std::filesystem::path& path, const CnnEstimate& estimate, const CnnMappingParams& params);

}  // namespace grindstone::snn::s2
