#include "common/gnuplot.hpp"

#include <cstdio>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/error.hpp"

namespace grindstone {

namespace {

void run_gnuplot(const std::string& script, const std::string& what) {
  FILE* pipe = ::popen("gnuplot 2>/dev/null >/dev/null", "w");
  if (!pipe) throw InputError(what + ": cannot start gnuplot");
  std::fwrite(script.data(), 1, script.size(), pipe);
  const int status = ::pclose(pipe);
  if (status != 0) throw InputError(what + ": gnuplot failed (exit status " + std::to_string(status) + ")");
}

std::string quoted(const std::filesystem::path& p) {
  const std::string s = p.string();
  require_input(s.find('\'') == std::string::npos, s, "a plot path must not contain a single quote");
  return "'" + s + "'";
}

}  // namespace

void plot_png(const std::filesystem::path& path, const std::string& body) {
  write_file_atomically(path, [&](const std::filesystem::path& tmp) {
    std::ostringstream s;
    s << "set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'\nset output " << quoted(tmp) << "\n" << body;
    run_gnuplot(s.str(), path.string());
    require_input(std::filesystem::exists(tmp), path.string(), "gnuplot wrote no image");
  });
}

}  // namespace grindstone
