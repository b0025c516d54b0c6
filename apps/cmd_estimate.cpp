// `grindstone estimate MODEL --hardware spinnaker2`: frame rate, latency, PEs, DRAM and NoC traffic
// and energy of a CNN (VGG-16, ResNet-50, …) mapped onto SpiNNaker 2 as int8, batch 1 — no
// dataset needed. Operator fusion is converter/passes/mac_graph, the mapping
// snn_runtime/spinnaker2/cnn_mapping.
#include <memory>
#include <optional>

#include "apps/cli_common.hpp"
#include "common/error.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/ann_passes.hpp"
#include "converter/passes/mac_graph.hpp"
#include "snn_runtime/spinnaker2/cnn_mapping.hpp"

namespace grindstone::cli {

namespace {

struct EstimateOptions {
  CommonOptions common;
  std::string model;
  std::string architecture;
  std::string hardware = "spinnaker2";
  std::string data_reuse = "on";
  std::string input_row_reuse, weight_migration;  ///< "" = as --data-reuse
  int chips = 1;
  double clock_mhz = 0;  ///< 0 = the chip's default (hw_model)
  std::string roofline;  ///< PNG path, "" = none
};

bool on_off(const std::string& value, const std::string& option) {
  if (value == "on") return true;
  if (value == "off") return false;
  throw InputError(option + ": '" + value + "' is not on or off");
}

void run_estimate(const EstimateOptions& opt) {
  require_input(opt.hardware == "spinnaker2", "--hardware", "only spinnaker2 is estimated (got '" + opt.hardware + "')");
  std::optional<std::filesystem::path> architecture;
  if (!opt.architecture.empty()) architecture = opt.architecture;
  ann::Model model = keras::load_model(opt.model, architecture);
  passes::drop_identities(model);
  auto graph = passes::fuse_mac_operators(model);
  graph.name = std::filesystem::path(opt.model).stem().string();
  snn::s2::CnnMappingParams params;
  const bool reuse = on_off(opt.data_reuse, "--data-reuse");
  params.input_row_reuse = opt.input_row_reuse.empty() ? reuse : on_off(opt.input_row_reuse, "--input-row-reuse");
  params.weight_migration = opt.weight_migration.empty() ? reuse : on_off(opt.weight_migration, "--weight-migration");
  params.chips = opt.chips;
  if (opt.clock_mhz > 0) params.chip.clock.hz = opt.clock_mhz * 1e6;
  const auto estimate = snn::s2::estimate_cnn(graph, params);
  if (!opt.roofline.empty()) snn::s2::write_roofline(opt.roofline, estimate, params);
  auto report = snn::s2::estimate_json(estimate, params);
  report["model"] = opt.model;
  emit(opt.common, report, snn::s2::estimate_summary(estimate, params));
}

}  // namespace

void register_estimate(CLI::App& app) {
  auto opt = std::make_shared<EstimateOptions>();
  auto* cmd = app.add_subcommand("estimate",
                                 "Frame rate, latency, PEs, DRAM/NoC traffic and energy of a CNN on SpiNNaker 2 (int8, "
                                 "batch 1; no dataset needed)");
  add_common_options(*cmd, opt->common);
  cmd->add_option("model", opt->model, "Keras model (.h5/.hdf5/.keras)")->required();
  cmd->add_option("--architecture", opt->architecture, "Architecture JSON (model.to_json()) for a weights-only .h5");
  cmd->add_option("--hardware", opt->hardware, "Target hardware (spinnaker2)");
  cmd->add_option("--data-reuse", opt->data_reuse,
                  "on: input rows multicast over the NoC and weights migrated between PEs (the seed's data reuse); "
                  "off: every task reads its inputs and weights from DRAM");
  cmd->add_option("--input-row-reuse", opt->input_row_reuse, "on|off: only the input-row multicast (default: --data-reuse)");
  cmd->add_option("--weight-migration", opt->weight_migration, "on|off: only the weight migration (default: --data-reuse)");
  cmd->add_option("--chips", opt->chips, "Chips the layers are pipelined over")->check(CLI::Range(1, 1024));
  cmd->add_option("--clock-mhz", opt->clock_mhz, "PE clock in MHz (default: the hw_model chip's)")
      ->check(CLI::Range(1.0, 1000.0));
  cmd->add_option("--roofline", opt->roofline, "Write the roofline plot (PNG, needs gnuplot) to this file");
  cmd->callback([opt] { run_estimate(*opt); });
}

}  // namespace grindstone::cli
