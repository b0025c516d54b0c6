#pragma once
// Typed errors with context. The CLI maps InputError to exit code 2 (bad input or usage) and
// everything else to exit code 1 (internal error). Messages are one line and name the file,
// layer and field involved, e.g. "model.h5: layer 'dense_1': kernel: shape (784,10) but units=20".
#include <stdexcept>
#include <string>

namespace grindstone {

/// Bad input or usage: a malformed file, an unsupported layer, a shape mismatch, an absurd size.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Something that should not happen whatever the input: a broken invariant in our own code.
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Prefixes `context + ": "` to the message of an InputError, keeping its type; anything else
/// is rethrown unchanged. Use in catch blocks that know which file/layer was being processed.
[[noreturn]] void rethrow_with_context(const std::string& context);

/// Throws InputError(context + ": " + message) when `condition` is false.
inline void require_input(bool condition, const std::string& context, const std::string& message) {
  if (!condition) throw InputError(context.empty() ? message : context + ": " + message);
}

}  // namespace grindstone
