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

TEST_CASE("estimate agrees with run --engine spinnaker2 --s2-mode ann on the MNIST Keras models") {
  const auto shared = require_shared("estimate vs the ANN-mode run");
  if (!shared) return;
  const auto data_dir = *shared / "datasets/mnist";
  // conv + pool, channels_first LeNet-5, an MLP, and an MLP with batch norm (folded by both paths)
  for (const char* file : {"keras3_cnn_legacy.h5", "keras2_lenet5_channels_first.h5", "keras3_mlp.keras", "keras3_mlp_batchnorm.h5"}) {
    INFO(file);
    const auto model = quoted(*shared / "models/keras" / file);
    for (const char* flags : {"", " --chips 2 --clock-mhz 200"}) {
      INFO(flags);
      const auto est = run_cli("estimate " + model + flags + " --json");
      REQUIRE_MESSAGE(est.exit_code == 0, est.err);
      const auto run = run_cli("run " + model + " --engine spinnaker2 --s2-mode ann --limit 5 --json --data-dir " +
                               quoted(data_dir) + flags);
      REQUIRE_MESSAGE(run.exit_code == 0, run.err);
      const auto e = nlohmann::json::parse(est.out), r = nlohmann::json::parse(run.out);
      // The Keras pass (mac_graph) and the lowering of the int8 program (mac_graph_of) are two
      // routes to the mapper: the same ops, so the same figures.
      CHECK(r["hw_throughput_samples_per_second"].get<double>() == e["fps"].get<double>());
      CHECK(r["hw_latency_seconds"].get<double>() == e["latency_seconds"].get<double>());
      CHECK(r["pes"] == e["pes"]);
      CHECK(r["chips"] == e["chips"]);
      CHECK(r["energy_per_inference_joules"].get<double>() == doctest::Approx(e["energy_joules"].get<double>()));
      CHECK(r["dram_bytes"].get<std::int64_t>() == 5 * e["dram_bytes"].get<std::int64_t>());
      REQUIRE(r["estimate"]["layers"].size() == e["layers"].size());
      for (std::size_t i = 0; i < e["layers"].size(); ++i)
        for (const char* key : {"name", "pes", "tasks", "cycles", "dram_bytes", "noc_bytes", "macs"})
          CHECK_MESSAGE(r["estimate"]["layers"][i][key] == e["layers"][i][key], key);
    }
  }
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
