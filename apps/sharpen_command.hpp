#pragma once
// `grindstone sharpen` as a library function (the CLI and the Python module share it).
#include <optional>
#include <string>
#include <vector>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "converter/sharpen/schedule.hpp"
#include "datasets/dataset.hpp"

namespace grindstone::cli {

struct SharpenOptions {
  CommonOptions common;
  std::string dataset = "mnist";
  std::string data_dir;
  std::string arch;
  std::string from;
  std::string architecture;  ///< JSON for a weights-only --from model
  std::string out;
  std::string recipe = "auto";
  double validation_split = 0.1;
  // Training flags: unset ones come from the recipe.
  std::optional<int> epochs;
  std::optional<std::string> schedule;
  bool uniform = false;
  int key_width = 100;
  bool disjoint = false;
  std::uint64_t seed = 1;
  std::string input = "real";
  std::optional<std::string> optimizer;
  std::optional<double> lr;
  std::optional<int> batch_size;
  std::optional<int> augment_shift;
  std::int64_t limit = 0;
  std::int64_t test_limit = 0;
  bool keep_batch_norm = false;
  // adaptive (min_init_epochs: the recipe's unless given)
  sharpen::AdaptiveConfig adaptive;
  std::optional<int> min_init_epochs;
  // simple
  std::optional<int> start_epoch;
  std::optional<int> steps;
  // scheduled
  int start = 5;
  int duration = 4;
  int intermission = 2;
  UserDataOptions user;  ///< training samples
  UserDataOptions test;  ///< test samples (--test-inputs/--test-labels)
};

/// Binds every `sharpen` flag to `options` (the CLI's subcommand and the Python module's parser).
void add_sharpen_options(CLI::App& cmd, SharpenOptions& options);

/// Trains, saves options.out and reports. `train`/`test`: the samples (users' arrays); null = per
/// the options (--dataset or --inputs/--test-inputs). Both or neither.
Report sharpen_report(const SharpenOptions& options, const datasets::Dataset* train, const datasets::Dataset* test);

}  // namespace grindstone::cli
