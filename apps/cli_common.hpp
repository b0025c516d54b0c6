#pragma once
// Shared pieces of the `grindstone` subcommands: the options every command takes, and output.
// Commands are thin: they parse, call the libraries, and print (JSON with --json, text otherwise).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "datasets/user_data.hpp"

namespace grindstone::cli {

/// Options every command takes (ARCHITECTURE.md §3).
struct CommonOptions {
  bool json = false;     ///< one JSON object on stdout, nothing else there
  int threads = 0;       ///< 0 = all hardware threads
  bool verbose = false;  ///< more detail on stderr (e.g. the passes applied)
};

/// Adds --json, --threads and --verbose to `cmd`, bound to `common`.
void add_common_options(CLI::App& cmd, CommonOptions& common);

/// --inputs FILE and --labels FILE: users' own data instead of --dataset.
struct UserDataOptions {
  std::optional<std::filesystem::path> inputs;
  std::optional<std::filesystem::path> labels;
};

/// Adds --inputs and --labels to `cmd`, bound to `user`; `what` says what the inputs are for.
void add_user_data_options(CLI::App& cmd, UserDataOptions& user, const std::string& what);

/// The command's data source: --dataset/--data-dir, or --inputs/--labels when given
/// (InputError when --labels comes without --inputs).
datasets::DataSource data_source(const std::string& dataset, const std::string& data_dir, std::int64_t limit,
                                 const UserDataOptions& user);

/// Prints `report` as one JSON object on stdout when --json, else `human` (if non-empty).
void emit(const CommonOptions& common, const nlohmann::json& report, const std::string& human);

/// Each command file defines one of these; main.cpp calls them all.
void register_inspect(CLI::App& app);
void register_eval(CLI::App& app);
void register_sharpen(CLI::App& app);
void register_convert(CLI::App& app);
void register_run(CLI::App& app);
void register_compare(CLI::App& app);
void register_export(CLI::App& app);
void register_bench(CLI::App& app);
void register_estimate(CLI::App& app);
void register_zoo(CLI::App& app);
void register_sweep(CLI::App& app);

}  // namespace grindstone::cli
