#include "common/atomic_file.hpp"

#include <fstream>
#include <random>
#include <system_error>
#include <unistd.h>

#include "common/error.hpp"

namespace grindstone {

void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(const std::filesystem::path&)>& write) {
  namespace fs = std::filesystem;
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(path.string() + ": output folder '" + dir.string() + "' does not exist");
  const fs::path tmp = dir / ("." + path.filename().string() + ".tmp" + std::to_string(::getpid()));
  try {
    write(tmp);
    fs::rename(tmp, path);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

void write_text_file_atomically(const std::filesystem::path& path, const std::string& contents) {
  write_file_atomically(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out << contents;
    out.close();
    if (!out) throw InputError(path.string() + ": cannot write file");
  });
}

}  // namespace grindstone
