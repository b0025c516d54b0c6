// Every input the fuzzers found (tests/data/fuzz/<parser>/, issue 11 item 2) stays fixed: the
// in-memory parsers return or throw InputError, in this process; the HDF5 and zip readers are
// run through the command line, as users run them — exit code 0 or 2 with one line on stderr,
// within 10 s, never a crash (libhdf5's own crashes are contained, common/contained).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/paths.hpp"
#include "converter/keras/model_config.hpp"
#include "datasets/idx.hpp"
#include "datasets/npy.hpp"
#include "tests/test_support.hpp"

using namespace grindstone;
using grindstone::testing::run_cli;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> findings(const std::string& parser) {
  std::vector<fs::path> out;
  const auto dir = source_dir() / "tests" / "data" / "fuzz" / parser;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename() != "README.md") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Returns normally or throws InputError: nothing else.
template <class F>
void loads_or_input_error(const fs::path& file, F&& read) {
  CAPTURE(file.string());
  try {
    read();
  } catch (const InputError&) {
  }
}

}  // namespace

TEST_CASE("fuzz findings: in-memory parsers return or throw InputError") {
  int n = 0;
  for (const auto& f : findings("idx")) {
    loads_or_input_error(f, [&] { (void)datasets::read_idx(f); });
    ++n;
  }
  for (const auto& f : findings("npy")) {
    const auto text = read_text(f);
    loads_or_input_error(f, [&] {
      (void)datasets::parse_npy({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, f.string());
    });
    ++n;
  }
  for (const auto& f : findings("keras_json")) {
    loads_or_input_error(f, [&] { (void)keras::parse_model_config(read_text(f), f.string()); });
    ++n;
  }
  MESSAGE("fuzz findings replayed in process: " << n);
}

TEST_CASE("fuzz findings: HDF5, zip and gzip readers exit 0 or 2 through the command line") {
  testing::TempDir tmp("fuzz_regress");
  int n = 0;
  // The command a user would run on such a file: `run` reads a network, `inspect` a model.
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"keras_h5", ".h5"}, {"keras_zip", ".keras"}, {"nir", ".nir"}, {"snn_h5", ".snn.h5"}};
  for (const auto& [parser, extension] : kinds)
    for (const auto& f : findings(parser)) {
      CAPTURE(f.string());
      const auto copy = tmp / ("input" + extension);
      fs::copy_file(f, copy, fs::copy_options::overwrite_existing);
      const auto r = run_cli(parser == "snn_h5" ? "run '" + copy.string() + "' --limit 1" : "inspect '" + copy.string() + "'", 10);
      CHECK_MESSAGE((r.exit_code == 0 || r.exit_code == 2), "exit " << r.exit_code << ": " << r.err);
      if (r.exit_code == 2) CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      ++n;
    }
  for (const auto& f : findings("idx_gz")) {
    const auto copy = tmp / "input.idx.gz";
    fs::copy_file(f, copy, fs::copy_options::overwrite_existing);
    loads_or_input_error(f, [&] { (void)datasets::read_idx(copy); });
    ++n;
  }
  MESSAGE("fuzz findings replayed through the CLI or gzip: " << n);
}

TEST_CASE("fuzz finding nir/oom-declared-3.9GB-dataset: a dataspace larger than the file is refused before allocation") {
  const auto f = source_dir() / "tests" / "data" / "fuzz" / "nir" / "oom-declared-3.9GB-dataset.nir";
  REQUIRE(fs::exists(f));
  const auto r = run_cli("inspect '" + f.string() + "'", 10);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("node 'conv'") != std::string::npos);
  CHECK(r.err.find("more than the 27872-byte file can hold") != std::string::npos);
  // The file is named once (the NIR reader's context already names it).
  const auto name = f.filename().string();
  CHECK(r.err.find(name) == r.err.rfind(name));
}
