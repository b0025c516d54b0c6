#include "snn_runtime/spinnaker2/cnn_mapping.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "common/error.hpp"
#include "common/gnuplot.hpp"
#include "hw_model/spinnaker2/dram.hpp"
#include "hw_model/spinnaker2/mac_array.hpp"

namespace grindstone::snn::s2 {

namespace hw = grindstone::hw::s2;

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// Input rows (or columns) a window of `n` outputs reads: the kernel's reach, clipped to the image.
std::int64_t input_extent(std::int64_t n, std::int64_t stride, std::int64_t kernel, std::int64_t image) {
  return std::min(image, (n - 1) * stride + kernel);
}

/// Input elements along one axis that the `parts` output bands read together, counted band by
/// band (neighbouring bands overlap by the kernel's halo). Elements [first·stride,
/// (end−1)·stride + kernel) of the image; 'same' padding is zeros the MAC array does not read.
std::int64_t banded_extent(std::int64_t outputs, std::int64_t parts, std::int64_t stride, std::int64_t kernel,
                           std::int64_t image) {
  std::int64_t total = 0;
  for (std::int64_t b = 0; b < parts; ++b) {
    const std::int64_t first = b * outputs / parts, end = (b + 1) * outputs / parts;
    if (end > first) total += std::min(image, (end - 1) * stride + kernel) - std::min(image, first * stride);
  }
  return total;
}

/// All input bytes the tasks of one output-channel slice read.
std::int64_t banded_input_bytes(const MacOp& op, const TaskSplit& split) {
  return banded_extent(op.out_h, split.row_parts, op.stride_h, op.kernel_h, op.in_h) *
         banded_extent(op.out_w, split.col_parts, op.stride_w, op.kernel_w, op.in_w) * op.in_channels;
}

}  // namespace

std::int64_t MacOp::input_channels_per_output(std::int64_t outputs) const {
  if (groups <= 1) return in_channels;
  const std::int64_t per_group = std::max<std::int64_t>(out_channels / groups, 1);
  return std::min(in_channels, ceil_div(outputs, per_group) * (in_channels / groups));
}

std::int64_t MacGraph::macs() const {
  std::int64_t total = 0;
  for (const auto& op : ops) total += op.macs();
  return total;
}

std::int64_t MacGraph::weight_bytes() const {
  std::int64_t total = 0;
  for (const auto& op : ops) total += op.weight_bytes();
  return total;
}

std::int64_t task_sram_bytes(const MacOp& op, std::int64_t oc, std::int64_t rows, std::int64_t cols) {
  const std::int64_t weights = (op.reduction() * hw::kOperandBytes + hw::kBiasBytes) * oc;
  const std::int64_t inputs = hw::kOperandBytes * input_extent(rows, op.stride_h, op.kernel_h, op.in_h) *
                              input_extent(cols, op.stride_w, op.kernel_w, op.in_w) * op.input_channels_per_output(oc);
  const std::int64_t outputs = rows * cols * oc * hw::kOperandBytes;
  return weights + inputs + outputs;
}

TaskSplit split_op(const MacOp& op, int pes, std::int64_t sram_bytes, int oc_granularity) {
  TaskSplit s;
  const auto fits = [&] {
    return task_sram_bytes(op, ceil_div(op.out_channels, s.oc_parts), ceil_div(op.out_h, s.row_parts),
                           ceil_div(op.out_w, s.col_parts)) <= sram_bytes;
  };
  const auto enough = [&] { return s.tasks() >= pes; };
  // no(1): more tasks by splitting the output channels, as long as a task keeps a full MAC row.
  while ((!enough() || !fits()) && ceil_div(op.out_channels, s.oc_parts * 2) >= oc_granularity) s.oc_parts *= 2;
  // no(2): the channels cannot be split further — split the output rows.
  while ((!enough() || !fits()) && s.row_parts * 2 <= op.out_h) s.row_parts *= 2;
  while (!fits() && s.oc_parts < op.out_channels) s.oc_parts = std::min(op.out_channels, s.oc_parts * 2);
  while (!fits() && s.row_parts < op.out_h) s.row_parts = std::min(op.out_h, s.row_parts * 2);
  while (!fits() && s.col_parts < op.out_w) s.col_parts = std::min(op.out_w, s.col_parts * 2);
  s.oc_per_task = ceil_div(op.out_channels, s.oc_parts);
  s.rows_per_task = ceil_div(op.out_h, s.row_parts);
  s.cols_per_task = ceil_div(op.out_w, s.col_parts);
  s.sram_bytes_per_task = task_sram_bytes(op, s.oc_per_task, s.rows_per_task, s.cols_per_task);
  if (s.sram_bytes_per_task > sram_bytes)
    throw InputError("spinnaker2 estimate: op '" + op.name + "': one output value's task needs " +
                     std::to_string(s.sram_bytes_per_task) + " bytes, more than a PE's " + std::to_string(sram_bytes) +
                     " bytes of SRAM");
  return s;
}

double OpEstimate::mac_utilisation(const hw::ChipParams& chip) const {
  const double possible = seconds * chip.peak_macs_per_second();
  return possible > 0 ? static_cast<double>(macs) / possible : 0.0;
}

namespace {

OpEstimate estimate_op(const MacOp& op, const CnnMappingParams& p) {
  const hw::ChipParams& chip = p.chip;
  const hw::MacArray mac(chip.pe.mac);
  OpEstimate e;
  e.name = op.name;
  e.macs = op.macs();
  e.split = split_op(op, chip.pes, chip.pe.usable_sram_bytes(), mac.columns(hw::OperandWidth::Bits8));
  const TaskSplit& s = e.split;
  e.pes = static_cast<int>(std::min<std::int64_t>(s.tasks(), chip.pes));
  e.waves = ceil_div(s.tasks(), chip.pes);
  // The largest task: rows × cols output positions, each a reduction over its input channels.
  const hw::MatmulShape task{s.rows_per_task * s.cols_per_task, op.reduction(), s.oc_per_task};
  e.task_cycles = mac.matmul_cycles(task, hw::OperandWidth::Bits8, 1).count;
  e.compute_seconds = chip.clock.duration(hw::Cycles(e.task_cycles * e.waves)).value;
  const std::int64_t compute_cycles_all = e.task_cycles * s.tasks();
  e.mac_slots = compute_cycles_all * mac.macs_per_cycle(hw::OperandWidth::Bits8);

  // DRAM: weights, input rows (with their halos) and residual operands in; results out.
  const std::int64_t weights = op.weight_bytes();
  // A depthwise op's tasks read disjoint channels, so its input is read once either way.
  const std::int64_t inputs = banded_input_bytes(op, s);
  e.dram_weight_bytes = p.weight_migration ? weights : weights * s.row_parts * s.col_parts;
  e.dram_input_bytes = (p.input_row_reuse || op.groups > 1 ? inputs : inputs * s.oc_parts) + op.extra_input_bytes;
  e.dram_output_bytes = op.output_bytes();
  // NoC: multicasts of input bands (one injection per QPE block the band's tasks span) and the
  // weight slices handed to the other row bands' PEs.
  const int pes_per_block = chip.pes_per_qpe * p.hierarchy.qpes_per_block;
  const std::int64_t blocks_per_band = ceil_div(std::min<std::int64_t>(s.oc_parts, chip.pes), pes_per_block);
  if (p.input_row_reuse && s.oc_parts > 1 && op.groups <= 1) e.noc_bytes += inputs * blocks_per_band;
  if (p.weight_migration && s.row_parts * s.col_parts > 1) e.noc_bytes += weights * (s.row_parts * s.col_parts - 1);

  const hw::Dram dram(chip.dram);
  e.dram_seconds = dram.read_time(e.dram_bytes()).value;
  const int qpes_busy = static_cast<int>(ceil_div(e.pes, chip.pes_per_qpe));
  const double noc_bytes_per_second =
      static_cast<double>(qpes_busy) * (chip.noc.flit_bits / 8) * chip.noc.flits_per_cycle * chip.noc_clock().hz;
  e.noc_seconds = static_cast<double>(e.noc_bytes) / noc_bytes_per_second;
  const double access = std::max(e.dram_seconds, e.noc_seconds);
  e.seconds = std::max(e.compute_seconds, access) + std::min(e.compute_seconds, access) / static_cast<double>(e.waves);
  e.bound = e.compute_seconds >= access ? "compute" : (e.dram_seconds >= e.noc_seconds ? "dram" : "noc");
  return e;
}

/// Contiguous groups of ops, one per chip, minimising the slowest stage (exact, by dynamic
/// programming over split points). Returns the first op index of each stage.
std::vector<std::size_t> pipeline_stages(const std::vector<double>& seconds, int chips) {
  const std::size_t n = seconds.size();
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(std::max(chips, 1)), std::max<std::size_t>(n, 1));
  std::vector<double> prefix(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + seconds[i];
  const double inf = std::numeric_limits<double>::infinity();
  // best[c][i]: slowest stage when the first i ops are split into c stages.
  std::vector<std::vector<double>> best(k + 1, std::vector<double>(n + 1, inf));
  std::vector<std::vector<std::size_t>> cut(k + 1, std::vector<std::size_t>(n + 1, 0));
  best[0][0] = 0.0;
  for (std::size_t c = 1; c <= k; ++c)
    for (std::size_t i = 1; i <= n; ++i)
      for (std::size_t j = c - 1; j < i; ++j) {
        const double v = std::max(best[c - 1][j], prefix[i] - prefix[j]);
        if (v < best[c][i]) {
          best[c][i] = v;
          cut[c][i] = j;
        }
      }
  std::vector<std::size_t> starts(k);
  for (std::size_t c = k, i = n; c >= 1; --c) {
    starts[c - 1] = cut[c][i];
    i = cut[c][i];
  }
  return starts;
}

}  // namespace

CnnEstimate estimate_cnn(const MacGraph& graph, const CnnMappingParams& params) {
  require_input(params.chips >= 1, "spinnaker2 estimate", "--chips must be at least 1");
  require_input(!graph.ops.empty(), "spinnaker2 estimate: " + graph.name, "no Conv2D or Dense layer to map");
  CnnEstimate est;
  est.name = graph.name;
  std::vector<double> seconds;
  for (const auto& op : graph.ops) {
    est.ops.push_back(estimate_op(op, params));
    seconds.push_back(est.ops.back().seconds);
  }
  const auto starts = pipeline_stages(seconds, params.chips);
  est.chips = static_cast<int>(starts.size());
  est.stage_seconds.assign(starts.size(), 0.0);
  double link_seconds = 0.0;
  for (std::size_t c = 0; c < starts.size(); ++c) {
    const std::size_t end = c + 1 < starts.size() ? starts[c + 1] : est.ops.size();
    for (std::size_t i = starts[c]; i < end; ++i) {
      est.ops[i].chip = static_cast<int>(c);
      est.stage_seconds[c] += est.ops[i].seconds;
    }
    if (c > 0) {
      // The previous stage's result crosses one chip link (written to this chip's DRAM, which
      // the first op of the stage then reads as usual).
      const std::int64_t bytes = graph.ops[starts[c] - 1].output_bytes();
      est.chip_link_bytes += bytes;
      const double crossing = params.chip.noc.chip_link_latency.value +
                              static_cast<double>(bytes) / params.chip.noc.chip_link_bytes_per_second;
      est.stage_seconds[c] += crossing;
      link_seconds += crossing;
    }
  }
  hw::Activity activity;
  for (const auto& op : est.ops) {
    est.latency_seconds += op.seconds;
    est.macs += op.macs;
    est.dram_bytes += op.dram_bytes();
    est.noc_bytes += op.noc_bytes;
    est.pes = std::max(est.pes, op.pes);
    activity.mac_slots += op.mac_slots;
    activity.dram_bytes += op.dram_bytes();
    activity.noc_byte_hops += static_cast<std::int64_t>(static_cast<double>(op.noc_bytes) * params.hierarchy.mean_hops_in_block);
  }
  est.latency_seconds += link_seconds;
  const double slowest = *std::max_element(est.stage_seconds.begin(), est.stage_seconds.end());
  est.fps = slowest > 0 ? 1.0 / slowest : 0.0;
  const double possible = est.latency_seconds * params.chip.peak_macs_per_second() * est.chips;
  est.mac_utilisation = possible > 0 ? static_cast<double>(est.macs) / possible : 0.0;
  activity.chip_link_bytes = est.chip_link_bytes;
  activity.elapsed = hw::Seconds(slowest);  // a chip is busy one slowest stage per frame
  activity.chips = est.chips;
  est.energy = hw::energy(params.chip.energy, activity);
  return est;
}

nlohmann::json estimate_json(const CnnEstimate& e, const CnnMappingParams& p) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& op : e.ops)
    layers.push_back({{"name", op.name},
                      {"chip", op.chip},
                      {"pes", op.pes},
                      {"tasks", op.split.tasks()},
                      {"oc_parts", op.split.oc_parts},
                      {"row_parts", op.split.row_parts},
                      {"col_parts", op.split.col_parts},
                      {"waves", op.waves},
                      {"sram_bytes_per_task", op.split.sram_bytes_per_task},
                      {"cycles", static_cast<std::int64_t>(std::llround(op.seconds * p.chip.clock.hz))},
                      {"seconds", op.seconds},
                      {"compute_seconds", op.compute_seconds},
                      {"dram_seconds", op.dram_seconds},
                      {"noc_seconds", op.noc_seconds},
                      {"bound", op.bound},
                      {"macs", op.macs},
                      {"dram_bytes", op.dram_bytes()},
                      {"dram_weight_bytes", op.dram_weight_bytes},
                      {"dram_input_bytes", op.dram_input_bytes},
                      {"dram_output_bytes", op.dram_output_bytes},
                      {"noc_bytes", op.noc_bytes},
                      {"operational_intensity", op.dram_bytes() ? 2.0 * static_cast<double>(op.macs) / static_cast<double>(op.dram_bytes()) : 0.0},
                      {"mac_utilisation", op.mac_utilisation(p.chip)}});
  return {{"model", e.name},
          {"hardware", "spinnaker2"},
          {"precision", "int8"},
          {"batch", 1},
          {"data_reuse", {{"input_row_reuse", p.input_row_reuse}, {"weight_migration", p.weight_migration}}},
          {"clock_hz", p.chip.clock.hz},
          {"fps", e.fps},
          {"latency_seconds", e.latency_seconds},
          {"pes", e.pes},
          {"chips", e.chips},
          {"stage_seconds", e.stage_seconds},
          {"macs", e.macs},
          {"dram_bytes", e.dram_bytes},
          {"noc_bytes", e.noc_bytes},
          {"chip_link_bytes", e.chip_link_bytes},
          {"mac_utilisation", e.mac_utilisation},
          {"peak_ops_per_second", 2.0 * p.chip.peak_macs_per_second()},
          {"dram_bytes_per_second", p.chip.dram.bytes_per_second},
          {"energy_joules", e.energy.total()},
          {"energy",
           {{"mac", e.energy.mac_joules}, {"noc", e.energy.noc_joules}, {"chip_link", e.energy.chip_link_joules},
            {"dram", e.energy.dram_joules}, {"baseline", e.energy.baseline_joules}}},
          {"layers", layers}};
}

std::string estimate_summary(const CnnEstimate& e, const CnnMappingParams& p) {
  std::ostringstream out;
  out << std::fixed;
  out << e.name << " on SpiNNaker 2 (int8, batch 1, " << e.chips << " chip" << (e.chips > 1 ? "s" : "") << ", "
      << std::setprecision(0) << p.chip.clock.hz / 1e6 << " MHz; input-row reuse "
      << (p.input_row_reuse ? "on" : "off") << ", weight migration " << (p.weight_migration ? "on" : "off") << ")\n";
  out << std::left << std::setw(28) << "layer" << std::right << std::setw(6) << "pes" << std::setw(7) << "tasks"
      << std::setw(10) << "ms" << std::setw(12) << "DRAM MB" << std::setw(11) << "NoC MB" << std::setw(8) << "MAC %"
      << "  bound\n";
  for (const auto& op : e.ops)
    out << std::left << std::setw(28) << op.name.substr(0, 27) << std::right << std::setw(6) << op.pes << std::setw(7)
        << op.split.tasks() << std::setw(10) << std::setprecision(3) << op.seconds * 1e3 << std::setw(12)
        << std::setprecision(2) << static_cast<double>(op.dram_bytes()) / 1e6 << std::setw(11)
        << static_cast<double>(op.noc_bytes) / 1e6 << std::setw(8) << std::setprecision(1)
        << 100.0 * op.mac_utilisation(p.chip) << "  " << op.bound << '\n';
  out << std::setprecision(2) << "fps " << e.fps << ", latency " << std::setprecision(3) << e.latency_seconds * 1e3
      << " ms, " << e.pes << " PEs, DRAM " << std::setprecision(1) << static_cast<double>(e.dram_bytes) / 1e6
      << " MB, NoC " << static_cast<double>(e.noc_bytes) / 1e6 << " MB, MAC utilisation " << 100.0 * e.mac_utilisation
      << " %, energy " << std::setprecision(2) << e.energy.total() * 1e3 << " mJ per frame";
  return out.str();
}

void write_roofline(const std::filesystem::path& path, const CnnEstimate& e, const CnnMappingParams& p) {
  const double peak = 2.0 * p.chip.peak_macs_per_second();
  const double bandwidth = p.chip.dram.bytes_per_second;
  std::ostringstream plot;
  plot << std::setprecision(9);
  plot << "set title '" << e.name << " on SpiNNaker 2: roofline (input-row reuse " << (p.input_row_reuse ? "on" : "off")
       << ", weight migration " << (p.weight_migration ? "on" : "off") << ")'\n"
       << "set logscale xy\nset xlabel 'operational intensity (int8 ops per DRAM byte)'\n"
       << "set ylabel 'attained ops/s'\nset key bottom right\nset grid\n"
       << "set xrange [0.1:100000]\nset yrange [1e8:" << peak * 2 << "]\n"
       << "roof(x) = (x * " << bandwidth << " < " << peak << ") ? x * " << bandwidth << " : " << peak << "\n"
       << "plot roof(x) with lines lw 2 title 'roof: min(peak, intensity x DRAM bandwidth)', "
       << "'-' using 1:2 with points pt 7 ps 1.2 title 'layers'\n";
  for (const auto& op : e.ops) {
    if (op.dram_bytes() == 0 || op.seconds <= 0) continue;
    plot << 2.0 * static_cast<double>(op.macs) / static_cast<double>(op.dram_bytes()) << ' '
         << 2.0 * static_cast<double>(op.macs) / op.seconds << '\n';
  }
  plot << "e\n";
  plot_png(path, plot.str());
}

}  // namespace grindstone::snn::s2
