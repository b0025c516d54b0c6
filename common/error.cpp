#include "common/error.hpp"

#include <exception>

namespace grindstone {

void rethrow_with_context(const std::string& context) {
  try {
    throw;
  } catch (const InputError& e) {
    throw InputError(context + ": " + e.what());
  }
}

}  // namespace grindstone
