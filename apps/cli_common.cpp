#include "apps/cli_common.hpp"

#include <iostream>

#include "common/error.hpp"

namespace grindstone::cli {

void add_common_options(CLI::App& cmd, CommonOptions& common) {
  cmd.add_flag("--json", common.json, "Print one JSON object on stdout and nothing else there");
  cmd.add_option("--threads", common.threads, "Worker threads (0 = all hardware threads)")
      ->check(CLI::Range(0, 1024));
  cmd.add_flag("--verbose,-v", common.verbose, "More detail on stderr");
}

void add_user_data_options(CLI::App& cmd, UserDataOptions& user, const std::string& what) {
  cmd.add_option("--inputs", user.inputs,
                 "Your own inputs instead of --dataset (" + what + "): .npy, .npz (arrays x, y) or IDX; "
                 "N×H×W, N×H×W×C or N×D, uint8 pixels or floats")
      ->check(CLI::ExistingFile);
  cmd.add_option("--labels", user.labels, "Integer labels of --inputs: .npy, .npz ('y') or IDX")->check(CLI::ExistingFile);
}

datasets::DataSource data_source(const std::string& dataset, const std::string& data_dir, std::int64_t limit,
                                 const UserDataOptions& user) {
  require_input(!user.labels || user.inputs, "--labels", "needs --inputs");
  datasets::DataSource source;
  source.dataset = dataset;
  if (!data_dir.empty()) source.data_dir = data_dir;
  source.inputs = user.inputs;
  source.labels = user.labels;
  source.limit = limit;
  return source;
}

void emit(const CommonOptions& common, const nlohmann::json& report, const std::string& human) {
  if (common.json) {
    std::cout << report.dump() << std::endl;
  } else if (!human.empty()) {
    std::cout << human;
    if (human.back() != '\n') std::cout << '\n';
    std::cout.flush();
  }
}

}  // namespace grindstone::cli
