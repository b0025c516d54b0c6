#pragma once
// Reading members of a zip archive (a Keras 3 `.keras` file, a numpy `.npz`) into memory with libzip.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct zip;

namespace grindstone {

class ZipArchive {
 public:
  /// Opens `path`; InputError "<path>: not a zip archive (<why_zip>): <reason>" if it is not one.
  /// `why_zip` tells the user which format expected a zip, e.g. "a Keras 3 .keras file is a zip".
  ZipArchive(const std::filesystem::path& path, const std::string& why_zip);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  bool contains(const std::string& member) const;
  /// Names of every member, in archive order.
  std::vector<std::string> members() const;
  /// The member's bytes; nullopt if absent; InputError if it cannot be read or is absurdly large.
  std::optional<std::string> read(const std::string& member) const;

 private:
  std::string label_;
  struct zip* archive_ = nullptr;
};

}  // namespace grindstone::keras
