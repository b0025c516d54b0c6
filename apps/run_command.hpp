#pragma once
// `grindstone run NET.snn.h5 --engine …`: the options of every engine, and one entry point per
// engine (each in its own apps/run_<engine>.cpp). cmd_run.cpp parses and dispatches.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli_common.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker1/simulation.hpp"

namespace grindstone::cli {

struct RunOptions {
  CommonOptions common;
  std::filesystem::path network;  ///< NET.snn.h5 (its file name labels the report)
  /// An in-memory network to run instead of reading `network` (the Python module's).
  std::shared_ptr<const snn::Network> network_model;
  std::string engine;             ///< single-pass | rate | spinnaker1 | spinnaker2
  std::string dataset = "mnist";
  std::optional<std::filesystem::path> data_dir;
  std::int64_t limit = 0;         ///< 0 = whole test set
  std::optional<std::filesystem::path> inputs;   ///< users' inputs (.npy/.npz/IDX) instead of the dataset
  std::optional<std::filesystem::path> labels;   ///< users' labels (optional for run)
  std::optional<std::filesystem::path> outputs;  ///< --outputs FILE.npy: per-sample read-outs
  bool keep_outputs = false;      ///< fill RunResult::outputs (set by --outputs and the Python module)
  std::uint64_t seed = 1;         ///< Poisson inputs, drop probability

  // rate
  int timesteps = 64;
  std::string rate_input = "current";  ///< current | poisson
  std::string rate_readout = "spike-count";  ///< spike-count | accumulated-input (snn::RateReadout)
  double input_rate_hz = 1000.0;       ///< Poisson input: max rate

  // spinnaker1
  int tiles = 1;
  int boards = 1;
  double between_sample_ms = 2.0;
  std::string time_scale_factor = "1";  ///< a number or "auto"
  double timestep_ms = 1.0;
  double drop_probability = 0.0;
  std::int64_t emergency_wait_cycles = 0;  ///< router wait2; 0 = no emergency routing (sPyNNaker)
  std::vector<std::string> dead_links;  ///< "X,Y,L"
  std::vector<std::string> dead_chips;  ///< "X,Y"
  std::optional<std::filesystem::path> plots_dir;

  // spinnaker2
  double clock_mhz = 300.0;
  int chips = 1;
  std::string s2_mode = "hybrid";  ///< hybrid | ann
};

/// What one run produces.
struct RunResult {
  nlohmann::json report;          ///< the `run --json` object (keys per ARCHITECTURE.md §3)
  std::string human;              ///< the readable summary
  std::vector<int> predictions;   ///< per sample (every engine)
  /// samples × output_width read-outs when RunOptions::keep_outputs: decode scores
  /// (single-pass), output spike counts at T (rate); engines without one leave it empty.
  std::vector<std::int32_t> outputs;
  std::int64_t output_width = 0;
};

/// options.network_model, or the network read from options.network.
snn::Network load_run_network(const RunOptions& options);

/// The samples a run uses: the dataset's test split or --inputs/--labels (labels optional).
datasets::Dataset load_run_data(const RunOptions& options);

/// Runs options.engine on `data` (InputError on bad input or when the samples do not fit the
/// network); unlabelled data reports accuracies as null.
RunResult run_network(const RunOptions& options, const datasets::Dataset& data);

/// One entry point per engine (apps/run_<engine>.cpp); run_network dispatches.
RunResult run_single_pass(const RunOptions& options, const datasets::Dataset& data);
RunResult run_rate(const RunOptions& options, const datasets::Dataset& data);
RunResult run_spinnaker1(const RunOptions& options, const datasets::Dataset& data);
/// The SpiNNaker 1 simulation options of `options` (machine, faults, timing; InputError on bad
/// values), shared by `run` and `sweep`.
snn::spinnaker1::SimulationOptions spinnaker1_options(const RunOptions& options);
RunResult run_spinnaker2(const RunOptions& options, const datasets::Dataset& data);

}  // namespace grindstone::cli
