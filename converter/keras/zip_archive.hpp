#pragma once
// Reading members of a Keras 3 `.keras` file (a zip archive) into memory with libzip.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

struct zip;

namespace grindstone::keras {

class ZipArchive {
 public:
  /// Opens `path`; InputError "<path>: not a zip archive (…)" if it is not one.
  explicit ZipArchive(const std::filesystem::path& path);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  bool contains(const std::string& member) const;
  /// The member's bytes; nullopt if absent; InputError if it cannot be read or is absurdly large.
  std::optional<std::string> read(const std::string& member) const;

 private:
  std::string label_;
  struct zip* archive_ = nullptr;
};

}  // namespace grindstone::keras
