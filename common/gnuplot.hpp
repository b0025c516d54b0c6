#pragma once
// PNG plots through gnuplot (Debian gnuplot-nox), written atomically.
#include <filesystem>
#include <string>

namespace grindstone {

/// Writes `path` (PNG, 900×700) from the gnuplot commands `body` (everything after `set output`):
/// through a temporary file beside it, renamed when gnuplot succeeded. InputError naming `path`
/// when gnuplot is missing or fails, or when `path` holds a single quote.
void plot_png(const std::filesystem::path& path, const std::string& body);

}  // namespace grindstone
