// Every model in ../shared/models reproduces the MNIST test accuracy listed in its README
// (within 0.0005 on all 10,000 images) through the library: Keras import + reference inference.
// keras2_cnn_weights_only costs ~85 MFLOP per image (~40 s for 10,000 images on 2 cores), so here
// it runs on the first 2000 images against the count measured there; its full-test-set check
// is in bench/eval_throughput.cpp. With GRINDSTONE_TEST_QUICK set (sanitizer CI) every model runs
// on a prefix (1000 images; 300 for the big CNN) against the count measured on that prefix.
// Prefix counts were measured with this code on 2026-11-23 and allow ±2 images (float summation
// order may differ from Keras's).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "datasets/dataset.hpp"
#include "tests/test_support.hpp"

using namespace grindstone;
using namespace grindstone::testing;
namespace fs = std::filesystem;

namespace {

/// How much of the test set a case uses and what it must get there.
struct Check {
  std::int64_t samples;  ///< 10000 = the whole test set
  double accuracy;       ///< README accuracy (whole set) or measured count / samples (prefix)
};

struct ModelCase {
  const char* file;
  const char* architecture;  ///< "" for full models
  datasets::InputEncoding encoding;
  Check normal;
  Check quick;
};

constexpr auto kReal = datasets::InputEncoding::Real;
constexpr auto kBinary = datasets::InputEncoding::Binary;

const ModelCase kCases[] = {
    {"keras/keras2_mlp_logits.h5", "", kReal, {10000, 0.9768}, {1000, 0.972}},
    {"keras/keras2_lenet5_channels_first.h5", "", kReal, {10000, 0.9914}, {1000, 0.987}},
    {"keras/keras3_cnn_legacy.h5", "", kReal, {10000, 0.9928}, {1000, 0.994}},
    {"keras/keras3_mlp.keras", "", kReal, {10000, 0.9797}, {1000, 0.979}},
    {"keras/keras2_cnn_weights_only.h5", "keras/keras2_cnn_weights_only.json", kReal, {2000, 1969.0 / 2000}, {300, 1.0}},
    {"keras/keras3_mlp_batchnorm.h5", "", kReal, {10000, 0.9830}, {1000, 0.984}},
    {"whetstone/whetstone_dense_mnist.h5", "", kReal, {10000, 0.9644}, {1000, 0.959}},
    {"whetstone/whetstone_dense_mnist.h5", "", kBinary, {10000, 0.9551}, {1000, 0.950}},
};

bool quick() { return std::getenv("GRINDSTONE_TEST_QUICK") != nullptr; }

}  // namespace

TEST_CASE("shared models reproduce their README accuracies on the MNIST test set") {
  const auto shared = require_shared("eval accuracies");
  if (!shared) return;
  const auto full = datasets::load("mnist", datasets::Split::Test);
  REQUIRE(full.size() == 10000);
  for (const auto& c : kCases) {
    const Check check = quick() ? c.quick : c.normal;
    datasets::Dataset data = full;
    data.truncate(check.samples);
    std::optional<fs::path> architecture;
    if (*c.architecture) architecture = *shared / "models" / c.architecture;
    const ann::Model model = keras::load_model(*shared / "models" / c.file, architecture);
    const auto ev = ann::evaluate(model, data, c.encoding, 0);
    INFO(c.file << " (" << datasets::to_string(c.encoding) << " inputs): accuracy " << ev.accuracy << " ("
                << ev.correct << "/" << ev.samples << "), expected " << check.accuracy);
    CHECK(ev.samples == check.samples);
    const double tolerance = check.samples == 10000 ? 0.0005 : 2.0 / static_cast<double>(check.samples) + 1e-9;
    CHECK(std::abs(ev.accuracy - check.accuracy) <= tolerance);
  }
}

TEST_CASE("grindstone eval --json prints the contract's keys") {
  const auto shared = require_shared("eval CLI");
  if (!shared) return;
  const auto model = *shared / "models" / "keras" / "keras2_mlp_logits.h5";
  const auto r = run_cli("eval '" + model.string() + "' --json --limit 100 --threads 2");
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"dataset", "samples", "accuracy", "seconds", "samples_per_second", "model", "correct"})
    CHECK(j.contains(key));
  CHECK(j["dataset"] == "mnist");
  CHECK(j["samples"] == 100);
  CHECK(j["accuracy"].get<double>() == doctest::Approx(j["correct"].get<double>() / 100.0));
  CHECK(j["accuracy"].get<double>() > 0.9);
  CHECK(j["samples_per_second"].get<double>() > 0.0);

  // Human-readable output without --json, and the binary input encoding.
  const auto human = run_cli("eval '" + model.string() + "' --limit 50 --input binary");
  CHECK(human.exit_code == 0);
  CHECK(human.out.find("accuracy") != std::string::npos);
  CHECK(human.out.find("binary") != std::string::npos);
}
