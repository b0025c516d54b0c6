#include "common/paths.hpp"

#include <cstdlib>

namespace grindstone {

std::filesystem::path source_dir() { return std::filesystem::path(GRINDSTONE_SOURCE_DIR); }

std::optional<std::filesystem::path> shared_dir() {
  std::error_code ec;
  // An override is never silently replaced by ../shared (tests point it at a missing folder to
  // check that they fail without the shared material).
  if (const char* env = std::getenv("GRINDSTONE_SHARED"); env && *env) {
    if (std::filesystem::is_directory(env, ec)) return std::filesystem::path(env);
    return std::nullopt;
  }
  auto p = source_dir().parent_path() / "shared";
  if (std::filesystem::is_directory(p, ec)) return std::filesystem::canonical(p, ec);
  return std::nullopt;
}

}  // namespace grindstone
