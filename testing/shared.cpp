#include "testing/shared.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>

#include "common/paths.hpp"

namespace grindstone::testing {

namespace {

/// Counts the skipped cases and says so once more at exit, after doctest's own summary, so a
/// run that skipped cannot be mistaken for a full one.
struct SkipTally {
  int skipped = 0;
  ~SkipTally() {
    if (skipped > 0)
      std::cout << "SKIPPED " << skipped << " test case(s) that need ../shared (GRINDSTONE_ALLOW_SKIP=1)\n";
  }
};

SkipTally& tally() {
  static SkipTally t;
  return t;
}

}  // namespace

bool skipping_allowed() {
  const char* allow = std::getenv("GRINDSTONE_ALLOW_SKIP");
  return allow && std::string(allow) == "1";
}

std::optional<std::filesystem::path> require_shared(const std::string& what) {
  if (auto dir = shared_dir()) return dir;
  const char* env = std::getenv("GRINDSTONE_SHARED");
  const std::string where = env && *env ? "$GRINDSTONE_SHARED (" + std::string(env) + ") is not a folder"
                                        : (source_dir().parent_path() / "shared").string() + " not found";
  if (!skipping_allowed())
    FAIL(what << ": " << where << " — the end-to-end tests need the real models and MNIST "
              << "(set GRINDSTONE_ALLOW_SKIP=1 to skip them)");
  ++tally().skipped;
  std::cout << "SKIP (" << what << "): " << where << '\n';
  return std::nullopt;
}

}  // namespace grindstone::testing
