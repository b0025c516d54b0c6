#pragma once
// Where the project's shared material lives: `../shared` relative to the source tree
// (ARCHITECTURE.md §3). Tests and the CLI use this; tests skip visibly when it is missing.
#include <filesystem>
#include <optional>

namespace grindstone {

/// `<source dir>/../shared` if it exists, else $GRINDSTONE_SHARED if set and existing.
std::optional<std::filesystem::path> shared_dir();

/// The source tree (compiled in).
std::filesystem::path source_dir();

}  // namespace grindstone
