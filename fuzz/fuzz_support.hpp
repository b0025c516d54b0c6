#pragma once
// Shared by the libFuzzer harnesses (one per parser of untrusted files, issue 11 item 2).
//
// The contract under test: a reader either returns or throws grindstone::InputError. Anything
// else — a crash, a sanitizer report, another exception type, a hang (libFuzzer -timeout) — is
// a finding. The readers that take paths get the input through a file of this process's own
// (the name's extension selects the format, as it does for users).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"

namespace grindstone::fuzz {

/// Writes the input to <tmp>/grindstone-fuzz-<pid>/input<extension> and returns the path.
/// One folder per process: libFuzzer's -fork and -jobs workers do not share files.
inline std::filesystem::path write_input(const std::uint8_t* data, std::size_t size, const std::string& extension) {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("grindstone-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const auto path = dir / ("input" + extension);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

/// Runs `read`; an InputError is the expected refusal, any other exception aborts (a finding).
template <class F>
int expect_input_error_only(F&& read) {
  try {
    read();
  } catch (const InputError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: %s escaped instead of an InputError: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
  return 0;
}

}  // namespace grindstone::fuzz
