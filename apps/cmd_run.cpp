// `grindstone run`: parses engine options and dispatches to apps/run_<engine>.cpp.
#include <memory>

#include "apps/run_command.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "datasets/npy.hpp"
#include "datasets/user_data.hpp"
#include "snn_runtime/network/snn_file.hpp"

namespace grindstone::cli {

snn::Network load_run_network(const RunOptions& options) {
  return options.network_model ? *options.network_model : snn::load_network(options.network);
}

datasets::Dataset load_run_data(const RunOptions& options) {
  datasets::DataSource source;
  source.dataset = options.dataset;
  source.data_dir = options.data_dir;
  source.inputs = options.inputs;
  source.labels = options.labels;
  source.limit = options.limit;
  return datasets::load_source(source, datasets::Split::Test, /*require_labels=*/false);
}

RunResult run_network(const RunOptions& options, const datasets::Dataset& data) {
  require_input(!options.outputs || options.outputs->extension() == ".npy", "--outputs",
                "'" + (options.outputs ? options.outputs->string() : std::string()) + "' must name a .npy file");
  require_input(!options.keep_outputs || options.engine == "single-pass" || options.engine == "rate", "--outputs",
                "the " + options.engine + " engine keeps no per-sample read-out (use single-pass or rate)");
  RunResult r;
  if (options.engine == "single-pass") r = run_single_pass(options, data);
  else if (options.engine == "rate") r = run_rate(options, data);
  else if (options.engine == "spinnaker1") r = run_spinnaker1(options, data);
  else if (options.engine == "spinnaker2") r = run_spinnaker2(options, data);
  else throw InputError("--engine: '" + options.engine + "' is not one of single-pass, rate, spinnaker1, spinnaker2");
  if (options.inputs) r.report["inputs"] = options.inputs->string();
  if (!data.labelled) {  // no labels: accuracies would count matches against nothing
    for (auto& [key, value] : r.report.items())
      if (key.starts_with("accuracy")) value = nullptr;
    r.report["labelled"] = false;
  }
  return r;
}

void register_run(CLI::App& app) {
  auto opt = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run a converted network (.snn.h5) on an engine");
  add_common_options(*cmd, opt->common);
  cmd->add_option("network", opt->network, "Converted network (.snn.h5)")->required();
  cmd->add_option("--engine", opt->engine, "single-pass | rate | spinnaker1 | spinnaker2")
      ->required()
      ->check(CLI::IsMember({"single-pass", "rate", "spinnaker1", "spinnaker2"}));
  cmd->add_option("--dataset", opt->dataset, "mnist | fashion-mnist")->check(CLI::IsMember({"mnist", "fashion-mnist"}));
  cmd->add_option("--data-dir", opt->data_dir, "Folder holding the dataset's IDX files");
  cmd->add_option("--limit", opt->limit, "Use only the first N test samples (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--inputs", opt->inputs, "Your own inputs instead of --dataset: .npy, .npz (arrays x, y) or IDX")
      ->check(CLI::ExistingFile);
  cmd->add_option("--labels", opt->labels, "Labels of --inputs (.npy, .npz 'y' or IDX); optional for run")
      ->check(CLI::ExistingFile);
  cmd->add_option("--outputs", opt->outputs,
                  "Write each sample's read-out to this .npy (single-pass: decode scores; rate: output spike counts)");
  cmd->add_option("--seed", opt->seed, "Seed for Poisson inputs and random packet drops");
  auto* rate = "Rate engine";
  cmd->add_option("--timesteps", opt->timesteps, "Rate: timesteps per sample")->check(CLI::Range(1, 100000))->group(rate);
  cmd->add_option("--rate-input", opt->rate_input, "Rate: current | poisson")
      ->check(CLI::IsMember({"current", "poisson"}))->group(rate);
  cmd->add_option("--rate-readout", opt->rate_readout,
                  "Rate: spike-count (SNN Toolbox) | accumulated-input (non-spiking read-out of the last layer)")
      ->check(CLI::IsMember({"spike-count", "accumulated-input"}))->group(rate);
  cmd->add_option("--input-rate", opt->input_rate_hz, "Rate: Poisson rate (Hz) of a full-intensity pixel")
      ->check(CLI::Range(0.001, 1e6))->group(rate);
  auto* s1 = "SpiNNaker 1";
  cmd->add_option("--tiles", opt->tiles, "SpiNNaker 1: copies of the network streaming samples")->check(CLI::Range(1, 100000))->group(s1);
  cmd->add_option("--boards", opt->boards, "SpiNNaker 1: SpiNN-5 boards (1 = one 48-chip board)")->check(CLI::Range(1, 1200))->group(s1);
  cmd->add_option("--between-sample-ms", opt->between_sample_ms, "SpiNNaker 1: simulated ms between samples on a tile")
      ->check(CLI::Range(0.0, 1e6))->group(s1);
  cmd->add_option("--time-scale-factor", opt->time_scale_factor, "SpiNNaker 1: slow-down factor, or 'auto'")->group(s1);
  cmd->add_option("--timestep-ms", opt->timestep_ms, "SpiNNaker 1: simulated ms per tick")->check(CLI::Range(0.001, 1000.0))->group(s1);
  cmd->add_option("--drop-probability", opt->drop_probability, "SpiNNaker 1: probability a router drops a packet")
      ->check(CLI::Range(0.0, 1.0))->group(s1);
  cmd->add_option("--emergency-wait-cycles", opt->emergency_wait_cycles,
                  "SpiNNaker 1: router wait2 — cycles a packet blocked on one link may wait for its emergency detour "
                  "(0 = emergency routing off, as sPyNNaker sets it)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 20))->group(s1);
  cmd->add_option("--dead-link", opt->dead_links, "SpiNNaker 1: X,Y,L — link L (0-5) of chip (X,Y) is dead")->group(s1);
  cmd->add_option("--dead-chip", opt->dead_chips, "SpiNNaker 1: X,Y — chip (X,Y) is dead")->group(s1);
  cmd->add_option("--plots", opt->plots_dir, "SpiNNaker 1: write router-load and raster PNGs here")->group(s1);
  auto* s2 = "SpiNNaker 2";
  cmd->add_option("--clock-mhz", opt->clock_mhz, "SpiNNaker 2: PE clock (MHz)")->check(CLI::Range(1.0, 1000.0))->group(s2);
  cmd->add_option("--chips", opt->chips, "SpiNNaker 2: chips available")->check(CLI::Range(1, 100000))->group(s2);
  cmd->add_option("--s2-mode", opt->s2_mode, "SpiNNaker 2: hybrid (spiking layers on ARM cores) | ann (all on MAC arrays)")
      ->check(CLI::IsMember({"hybrid", "ann"}))->group(s2);
  cmd->callback([opt] {
    ThreadLimit threads(opt->common.threads);
    require_input(!opt->labels || opt->inputs, "--labels", "needs --inputs");
    opt->keep_outputs = opt->outputs.has_value();
    const datasets::Dataset data = load_run_data(*opt);
    RunResult r = run_network(*opt, data);
    if (opt->outputs) {
      const std::vector<std::int64_t> shape = {static_cast<std::int64_t>(r.predictions.size()), r.output_width};
      datasets::write_bytes_atomically(*opt->outputs, datasets::encode_npy(std::span<const std::int32_t>(r.outputs), shape));
      r.report["outputs"] = opt->outputs->string();
      if (!r.human.empty() && r.human.back() != '\n') r.human += '\n';
      r.human += "  outputs             " + opt->outputs->string() + " (" + std::to_string(shape[0]) + " x " +
                 std::to_string(shape[1]) + " int32)";
    }
    emit(opt->common, r.report, r.human);
  });
}

}  // namespace grindstone::cli
