#include "apps/cli_common.hpp"

#include <iostream>

namespace grindstone::cli {

void add_common_options(CLI::App& cmd, CommonOptions& common) {
  cmd.add_flag("--json", common.json, "Print one JSON object on stdout and nothing else there");
  cmd.add_option("--threads", common.threads, "Worker threads (0 = all hardware threads)")
      ->check(CLI::Range(0, 1024));
  cmd.add_flag("--verbose,-v", common.verbose, "More detail on stderr");
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
