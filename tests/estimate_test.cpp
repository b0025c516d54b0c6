// `grindstone estimate`: a real Keras CNN mapped onto SpiNNaker 2 (int8, batch 1), with and
// without data reuse; bad usage exits 2 with one line.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "testing/shared.hpp"
#include "tests/test_support.hpp"

using namespace grindstone::testing;

namespace {
std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
}  // namespace

TEST_CASE("estimate: keras3_cnn_legacy on SpiNNaker 2, data reuse on vs off") {
  const auto shared = require_shared("estimate on keras3_cnn_legacy");
  if (!shared) return;
  const auto model = quoted(*shared / "models/keras/keras3_cnn_legacy.h5");
  const auto on = run_cli("estimate " + model + " --json");
  INFO(on.err);
  REQUIRE(on.exit_code == 0);
  const auto off = run_cli("estimate " + model + " --data-reuse off --json");
  REQUIRE(off.exit_code == 0);
  const auto a = nlohmann::json::parse(on.out), b = nlohmann::json::parse(off.out);
  for (const char* key : {"fps", "latency_seconds", "pes", "chips", "dram_bytes", "noc_bytes", "mac_utilisation",
                          "energy_joules", "layers"})
    CHECK(a.contains(key));
  // Two Conv2D and one Dense: three fused ops, each with its per-layer figures.
  REQUIRE(a["layers"].size() == 3);
  for (const auto& layer : a["layers"])
    for (const char* key : {"name", "pes", "cycles", "dram_bytes", "noc_bytes", "mac_utilisation"}) CHECK(layer.contains(key));
  CHECK(a["fps"].get<double>() > 0);
  CHECK(a["latency_seconds"].get<double>() == doctest::Approx(1.0 / a["fps"].get<double>()));
  CHECK(b["dram_bytes"].get<double>() > a["dram_bytes"].get<double>());
  CHECK(b["noc_bytes"].get<double>() == 0);
  CHECK(b["fps"].get<double>() <= a["fps"].get<double>());
  // The human table names every op.
  const auto human = run_cli("estimate " + model);
  REQUIRE(human.exit_code == 0);
  for (const auto& layer : a["layers"]) CHECK(human.out.find(layer["name"].get<std::string>()) != std::string::npos);
  // The roofline plot is written whole (gnuplot, through a temporary file).
  TempDir dir("estimate-roofline");
  const auto png = dir / "roofline.png";
  const auto plotted = run_cli("estimate " + model + " --roofline " + quoted(png));
  INFO(plotted.err);
  REQUIRE(plotted.exit_code == 0);
  REQUIRE(std::filesystem::exists(png));
  CHECK(std::filesystem::file_size(png) > 1000);
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator{}) == 1);
}

TEST_CASE("estimate: bad usage exits 2 with one line naming what is wrong") {
  const auto shared = require_shared("estimate bad usage");
  if (!shared) return;
  const auto model = quoted(*shared / "models/keras/keras3_cnn_legacy.h5");
  struct Case {
    std::string args, needle;
  };
  for (const Case& c : {Case{model + " --data-reuse maybe", "--data-reuse"}, Case{model + " --hardware loihi", "--hardware"},
                        Case{"/nonexistent/m.h5", "m.h5"}}) {
    const auto r = run_cli("estimate " + c.args);
    INFO(c.args << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.needle) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}
