#pragma once
// Helpers for end-to-end tests: locating ../shared, running the CLI, temp folders.
#include <filesystem>
#include <optional>
#include <string>

namespace grindstone::testing {

/// ../shared relative to the source tree, or nullopt after printing a visible SKIP message
/// naming `what` (call as: `auto shared = require_shared("eval accuracies"); if (!shared) return;`).
std::optional<std::filesystem::path> require_shared(const std::string& what);

struct CommandResult {
  int exit_code = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Runs `<build>/grindstone <args>` (args are passed to /bin/sh, so quote paths) and captures
/// stdout, stderr and the exit code.
CommandResult run_cli(const std::string& args);

/// A fresh empty folder under the system temp folder, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace grindstone::testing
