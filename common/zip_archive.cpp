#include "common/zip_archive.hpp"

#include <zip.h>

#include "common/error.hpp"

namespace grindstone {

namespace {
/// Largest member we extract into memory (model weights of a few hundred MB are plausible).
constexpr zip_uint64_t kMaxMemberBytes = zip_uint64_t{1} << 31;
}  // namespace

ZipArchive::ZipArchive(const std::filesystem::path& path, const std::string& why_zip) : label_(path.string()) {
  int error = 0;
  archive_ = zip_open(label_.c_str(), ZIP_RDONLY, &error);
  if (!archive_) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, error);
    const std::string reason = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    throw InputError(label_ + ": not a zip archive (" + why_zip + "): " + reason);
  }
}

ZipArchive::~ZipArchive() {
  if (archive_) zip_discard(archive_);
}

bool ZipArchive::contains(const std::string& member) const {
  return zip_name_locate(archive_, member.c_str(), 0) >= 0;
}

std::vector<std::string> ZipArchive::members() const {
  std::vector<std::string> names;
  const zip_int64_t n = zip_get_num_entries(archive_, 0);
  for (zip_int64_t i = 0; i < n; ++i)
    if (const char* name = zip_get_name(archive_, static_cast<zip_uint64_t>(i), 0)) names.emplace_back(name);
  return names;
}

std::optional<std::string> ZipArchive::read(const std::string& member) const {
  const std::string where = label_ + ": member '" + member + "'";
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(archive_, member.c_str(), 0, &st) != 0) return std::nullopt;
  require_input((st.valid & ZIP_STAT_SIZE) != 0, where, "unknown size");
  require_input(st.size <= kMaxMemberBytes, where, "absurd size " + std::to_string(st.size) + " bytes");
  std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file(zip_fopen(archive_, member.c_str(), 0), zip_fclose);
  require_input(file != nullptr, where, std::string("cannot be opened: ") + zip_strerror(archive_));
  std::string bytes(static_cast<std::size_t>(st.size), '\0');
  zip_uint64_t done = 0;
  while (done < st.size) {
    const zip_int64_t n = zip_fread(file.get(), bytes.data() + done, st.size - done);
    require_input(n > 0, where, "truncated or corrupt (read " + std::to_string(done) + " of " +
                                    std::to_string(st.size) + " bytes)");
    done += static_cast<zip_uint64_t>(n);
  }
  return bytes;
}

}  // namespace grindstone
