#pragma once
// The `grindstone` commands as library functions: each takes its options and the already loaded
// model / samples and returns the report the CLI prints (the `--json` object and the readable
// text). The CLI (cmd_*.cpp) loads files and prints; the Python module (python/) passes numpy
// arrays and in-memory models to the same functions, so both give the same dicts.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli_common.hpp"
#include "converter/ann/model.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/network/network.hpp"

namespace grindstone::cli {

/// What a command reports: the `--json` object and the text printed without --json.
struct Report {
  nlohmann::json json;
  std::string human;
};

// ---- inspect ----------------------------------------------------------------------------------

/// `inspect`: the model's format, layers, shapes and parameter counts. `label` is the "model" key
/// (the file the model came from).
Report inspect_report(const ann::Model& model, const std::string& label);

// ---- eval -------------------------------------------------------------------------------------

struct EvalOptions {
  CommonOptions common;
  std::string model;         ///< the model file (also the report's "model")
  std::string architecture;  ///< JSON for a weights-only .h5
  std::string dataset = "mnist";
  std::string data_dir;
  std::int64_t limit = 0;
  std::string input = "real";  ///< real | binary
  UserDataOptions user;
};

/// `eval`: float reference accuracy of `model` on `data` (labelled; checked against the model's
/// input shape).
Report eval_report(const EvalOptions& options, const ann::Model& model, const datasets::Dataset& data);

// ---- convert ----------------------------------------------------------------------------------

struct ConvertCommandOptions {
  CommonOptions common;
  std::filesystem::path model;
  std::optional<std::filesystem::path> architecture;
  std::filesystem::path out;  ///< empty: not written (the Python module keeps it in memory)
  std::string weights = "float";
  std::string bias = "neurons";
  std::string input = "threshold";
  int temporal_groups = 1;
};

struct Converted {
  snn::Network network;
  Report report;
};

/// `convert`: the single-pass conversion pipeline on `model`; writes options.out when set.
Converted convert_model(const ConvertCommandOptions& options, const ann::Model& model);

// ---- compare ----------------------------------------------------------------------------------

struct CompareOptions {
  CommonOptions common;
  std::string model;      ///< ReLU model (its file, the report's "model")
  std::string sharpened;  ///< sharpened model file ("" = no single-pass side)
  std::string sharpened_input = "bitplanes";
  std::string dataset = "mnist";
  std::string data_dir;
  std::int64_t limit = 0;
  std::vector<int> timesteps{8, 16, 32, 64, 128, 256};
  std::string plot;
  UserDataOptions user;
};

/// `compare`: rate coding of `model` (normalised on `training`) vs the single-pass engine on
/// `sharpened` (optional), both on `test`.
Report compare_report(const CompareOptions& options, const ann::Model& model, const datasets::Dataset& test,
                      const datasets::Dataset& training, const ann::Model* sharpened);

}  // namespace grindstone::cli
