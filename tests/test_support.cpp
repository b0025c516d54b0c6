#include "tests/test_support.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "common/paths.hpp"

namespace grindstone::testing {

std::optional<std::filesystem::path> require_shared(const std::string& what) {
  auto dir = shared_dir();
  if (!dir) std::cout << "SKIP (" << what << "): ../shared not found beside the source tree\n";
  return dir;
}

static std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult run_cli(const std::string& args) {
  TempDir tmp("cli");
  const auto out = tmp / "out";
  const auto err = tmp / "err";
  const std::string cmd = std::string("'") + GRINDSTONE_CLI + "' " + args + " >'" + out.string() + "' 2>'" +
                          err.string() + "' </dev/null";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

TempDir::TempDir(const std::string& tag) {
  static int counter = 0;
  path_ = std::filesystem::temp_directory_path() /
          ("grindstone_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace grindstone::testing
