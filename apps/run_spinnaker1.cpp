// Placeholder until the engine lands (replaced by the engine's owner).
#include "apps/run_command.hpp"
#include "common/error.hpp"

namespace grindstone::cli {

nlohmann::json run_spinnaker1(const RunOptions&, std::string&) {
  throw InputError("--engine: the spinnaker1 engine is not available in this build");
}

}  // namespace grindstone::cli
