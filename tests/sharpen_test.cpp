// `grindstone sharpen` end to end: a short run from --arch and a short fine-tuning run from a real
// Keras model, each saved file reloaded by `grindstone eval`; bad usage exits with code 2.
#include <doctest/doctest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/test_support.hpp"

using namespace grindstone::testing;

namespace {

bool quick() { return std::getenv("GRINDSTONE_TEST_QUICK") != nullptr; }

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

}  // namespace

TEST_CASE("sharpen --arch: trains, sharpens fully, saves a file that eval reloads with the same accuracy") {
  auto shared = require_shared("sharpen e2e");
  if (!shared) return;
  TempDir dir("sharpen-e2e");
  const auto out = dir / "dense.h5";
  const std::string limit = quick() ? "1500" : "4000";
  const auto r = run_cli("sharpen --arch dense:48 --input binary --schedule simple --start-epoch 2 --steps 3 "
                         "--epochs 20 --limit " + limit + " --test-limit 1000 --seed 4 --threads 2 --json --out " +
                         quoted(out));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto report = nlohmann::json::parse(r.out);
  for (const char* key : {"accuracy_float", "accuracy_binary", "epochs", "seconds", "out", "history"})
    CHECK(report.contains(key));
  CHECK(report["fully_sharpened"] == true);
  CHECK(report["epochs"] == 2 + 6 + 1);  // start epoch 2, 2 layers × 3 steps, one more epoch to stop
  CHECK(report["history"].size() == report["epochs"]);
  CHECK(report["accuracy_binary"].get<double>() > 0.6);
  CHECK(std::filesystem::exists(out));
  // Each epoch line shows the planned epochs and an ETA.
  CHECK(r.err.find("epoch   1/9 ") != std::string::npos);
  CHECK(r.err.find("ETA") != std::string::npos);
  // Unset flags come from the auto rule; the last 10 % of the training images select the epoch.
  CHECK(report["recipe"] == "dense-binary");
  CHECK(report["validation_samples"] == std::stoi(limit) / 10);
  CHECK(report["train_samples"] == std::stoi(limit) - std::stoi(limit) / 10);
  CHECK(report["history"][report["selected_epoch"].get<int>() - 1]["fully_sharpened"] == true);

  const auto ev = run_cli("eval " + quoted(out) + " --input binary --limit 1000 --json");
  INFO(ev.err);
  REQUIRE(ev.exit_code == 0);
  const auto eval_report = nlohmann::json::parse(ev.out);
  CHECK(eval_report["accuracy"].get<double>() == doctest::Approx(report["accuracy_binary"].get<double>()).epsilon(1e-3));
}

TEST_CASE("sharpen --from: fine-tunes the Keras 3 MLP with BatchNormalization and folds BN on save") {
  auto shared = require_shared("sharpen --from e2e");
  if (!shared) return;
  TempDir dir("sharpen-from");
  const auto out = dir / "finetuned.h5";
  const auto model = *shared / "models/keras/keras3_mlp_batchnorm.h5";
  const auto r = run_cli("sharpen --from " + quoted(model) + " --schedule simple --start-epoch 1 --steps 1 "
                         "--epochs 10 --limit " + std::string(quick() ? "1000" : "3000") +
                         " --test-limit 1000 --json --out " + quoted(out));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto report = nlohmann::json::parse(r.out);
  CHECK(report["fully_sharpened"] == true);
  // The head starts from the source classifier, so even a few hundred steps keep the network
  // near the source model (0.98); a random head gave 0.50 on the quick subset.
  CHECK(report["accuracy_binary"].get<double>() > 0.85);
  const auto inspect = run_cli("eval " + quoted(out) + " --limit 1000 --json");
  INFO(inspect.err);
  REQUIRE(inspect.exit_code == 0);
  CHECK(nlohmann::json::parse(inspect.out)["accuracy"].get<double>() ==
        doctest::Approx(report["accuracy_binary"].get<double>()).epsilon(1e-3));
}

TEST_CASE("sharpen: bad usage exits with code 2 and one line naming the option") {
  // `sharpen` loads MNIST before it checks --arch/--key-width/--from, so these cases need it too.
  if (!require_shared("sharpen bad usage")) return;
  TempDir dir("sharpen-bad");
  const auto out = quoted(dir / "x.h5");
  struct Case {
    std::string args, needle;
  };
  for (const Case& c : {Case{"--arch dense:0 --out " + out, "--arch"},
                        Case{"--arch lstm:4 --out " + out, "lstm"},
                        Case{"--arch dense:10 --from m.h5 --out " + out, "exactly one"},
                        Case{"--arch dense:10 --key-width 5 --limit 10 --test-limit 10 --out " + out, "--key-width"},
                        Case{"--from /nonexistent/model.h5 --out " + out, "model.h5"},
                        Case{"--arch dense:10 --recipe fast --out " + out, "--recipe"},
                        Case{"--arch dense:10 --validation-split 1.5 --out " + out, "--validation-split"}}) {
    const auto r = run_cli("sharpen " + c.args);
    INFO(c.args << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.needle) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(dir / "x.h5"));
  }
}
