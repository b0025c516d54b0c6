#pragma once
// Helpers for end-to-end tests: running the CLI. Locating ../shared and temp folders come from
// the test-support library (testing/).
#include <string>

#include "testing/shared.hpp"
#include "testing/temp_dir.hpp"

namespace grindstone::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Runs `<build>/grindstone <args>` (args are passed to /bin/sh, so quote paths) and captures
/// stdout, stderr and the exit code (128 + signal for a crash). `timeout_seconds` > 0 kills a
/// run that takes longer (coreutils `timeout -s KILL`: exit code 137).
CommandResult run_cli(const std::string& args, int timeout_seconds = 0);

}  // namespace grindstone::testing
