#pragma once
// The one place that decides what a test does when ../shared (the real models and MNIST) is
// missing: it FAILS, unless GRINDSTONE_ALLOW_SKIP=1, when it skips with a visible message.
// Every test that needs ../shared calls require_shared (ARCHITECTURE.md §3, README "Tests").
#include <filesystem>
#include <optional>
#include <string>

namespace grindstone::testing {

/// shared_dir() (common/paths.hpp: $GRINDSTONE_SHARED, else ../shared beside the source tree).
/// When it is missing: a doctest failure naming `what` (throws, ending the test case), or with
/// GRINDSTONE_ALLOW_SKIP=1 a printed "SKIP (<what>)" line and nullopt. Call as
///   auto shared = require_shared("eval accuracies");
///   if (!shared) return;
std::optional<std::filesystem::path> require_shared(const std::string& what);

/// True when GRINDSTONE_ALLOW_SKIP is "1".
bool skipping_allowed();

}  // namespace grindstone::testing
