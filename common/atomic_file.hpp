#pragma once
// Every output file is written to a temporary file in the same folder and renamed into place,
// so a failure never leaves a partial file behind (ARCHITECTURE.md §4).
#include <filesystem>
#include <functional>
#include <string>

namespace grindstone {

/// Calls `write(tmp_path)`; on success renames tmp_path to `path`, on any exception removes
/// tmp_path and rethrows. The temporary lives beside `path` so the rename is atomic.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(const std::filesystem::path& tmp_path)>& write);

/// Convenience: writes `contents` to `path` atomically.
void write_text_file_atomically(const std::filesystem::path& path, const std::string& contents);

}  // namespace grindstone
