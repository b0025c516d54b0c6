#pragma once
// SHA-256 (FIPS 180-4), for the provenance of converted networks (the model file's digest).
// Written here because no Debian library already linked by the project provides it (OpenSSL
// is not a dependency); checked against the FIPS test vectors in sha256_test.cpp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace grindstone {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  /// Finishes and returns the 32-byte digest (the object must not be updated afterwards).
  std::array<std::uint8_t, 32> finish();
  /// Finishes and returns the digest as 64 lowercase hex digits.
  std::string finish_hex();

 private:
  void compress(const std::uint8_t* block);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

std::string sha256_hex(std::string_view data);
/// Digest of a file's bytes; InputError naming the file when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace grindstone
