// `grindstone bench [--suite NAME] [--list] [-- ARGS…]`: runs the benchmark programs built from
// bench/<name>.cpp (at <build-dir>/bench/bench_<name>), whose measured figures are recorded in
// docs/benchmarks.md. The programs do the measuring; this command only finds and starts them.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "apps/cli_common.hpp"
#include "common/error.hpp"

namespace grindstone::cli {
namespace {

namespace fs = std::filesystem;

fs::path bench_dir() { return fs::read_symlink("/proc/self/exe").parent_path() / "bench"; }

std::vector<std::string> suites() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(bench_dir(), ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("bench_", 0) == 0 && e.is_regular_file() && ::access(e.path().c_str(), X_OK) == 0)
      names.push_back(n.substr(6));
  }
  std::sort(names.begin(), names.end());
  return names;
}

int run_program(const fs::path& program, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string p = program.string();
  argv.push_back(p.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw InternalError("bench: cannot start " + p);
  if (pid == 0) {
    ::execv(p.c_str(), argv.data());
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

void register_bench(CLI::App& app) {
  struct Options {
    CommonOptions common;
    std::string suite;
    bool list = false;
    std::vector<std::string> args;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("bench", "Run a benchmark program from bench/ (figures: docs/benchmarks.md)");
  add_common_options(*cmd, opt->common);
  cmd->add_option("--suite", opt->suite, "Benchmark to run (see --list)");
  cmd->add_flag("--list", opt->list, "List the benchmark programs of this build");
  cmd->add_option("args", opt->args, "Arguments passed to the benchmark program (after --)");
  cmd->callback([opt] {
    const auto names = suites();
    if (opt->list || opt->suite.empty()) {
      nlohmann::json j = {{"suites", names}, {"bench_dir", bench_dir().string()}};
      std::string human = "benchmark suites in " + bench_dir().string() + ":\n";
      for (const auto& n : names) human += "  " + n + "\n";
      if (names.empty()) human += "  (none: configure with -DGRINDSTONE_BENCH=ON)\n";
      emit(opt->common, j, human);
      return;
    }
    if (std::find(names.begin(), names.end(), opt->suite) == names.end())
      throw InputError("--suite: unknown benchmark '" + opt->suite + "' (see grindstone bench --list)");
    std::vector<std::string> args = opt->args;
    if (opt->common.threads > 0) {
      args.insert(args.begin(), std::to_string(opt->common.threads));
      args.insert(args.begin(), "--threads");
    }
    const int rc = run_program(bench_dir() / ("bench_" + opt->suite), args);
    if (rc != 0) throw InternalError("bench: " + opt->suite + " exited with code " + std::to_string(rc));
  });
}

}  // namespace grindstone::cli
