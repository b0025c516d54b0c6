#pragma once
// Where the project's shared material lives: `../shared` relative to the source tree
// (ARCHITECTURE.md §3). Tests and the CLI use this; what a test does when it is missing is
// decided in testing/shared.hpp (fail, or skip with GRINDSTONE_ALLOW_SKIP=1).
#include <filesystem>
#include <optional>

namespace grindstone {

/// $GRINDSTONE_SHARED when set (nullopt if it is not a folder), else `<source dir>/../shared`
/// if it exists, else nullopt.
std::optional<std::filesystem::path> shared_dir();

/// The source tree (compiled in).
std::filesystem::path source_dir();

}  // namespace grindstone
