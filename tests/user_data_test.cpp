// Users' own data on the command line: --inputs/--labels (.npy, .npz, IDX) on eval, run,
// compare, sharpen give the same numbers as --dataset on the same samples; run --outputs
// writes per-sample read-outs; shapes that do not fit and malformed files exit 2 with one line.
#include <doctest/doctest.h>
#include <zip.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "converter/keras/import.hpp"
#include "converter/passes/rate.hpp"
#include "datasets/dataset.hpp"
#include "datasets/npy.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "tests/test_support.hpp"

using namespace grindstone;
using namespace grindstone::testing;
namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

/// A .npy of uint8 (descr |u1) with `shape`: encode_npy writes float32/int32 only, so the
/// header is assembled here the way numpy writes it.
Bytes npy_u8(const std::vector<std::uint8_t>& data, const std::vector<std::int64_t>& shape) {
  std::string dims;
  for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': (" + dims + "), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<std::uint8_t>(header.size()), 0};
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void write(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_npz(const fs::path& p, const std::vector<std::pair<std::string, Bytes>>& members) {
  int error = 0;
  zip_t* z = zip_open(p.string().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  REQUIRE(z != nullptr);
  for (const auto& [name, bytes] : members) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    REQUIRE(zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE) >= 0);
  }
  REQUIRE(zip_close(z) == 0);
}

nlohmann::json json_of(const CommandResult& r) {
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

void expect_one_line_error(const CommandResult& r, const std::vector<std::string>& must_contain) {
  INFO("stderr: " << r.err << " stdout: " << r.out);
  CHECK(r.exit_code == 2);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  for (const auto& s : must_contain) CHECK(r.err.find(s) != std::string::npos);
}

/// The first `n` MNIST test samples written as x.npy (uint8 N×28×28), xf.npy (float32
/// N×28×28×1 = pixel/255), y.npy (int32) and xy.npz (x, y).
struct Files {
  fs::path x, xf, y, xy;
};

Files write_mnist_files(const TempDir& tmp, std::int64_t n) {
  const auto mnist = datasets::load("mnist", datasets::Split::Test, {}, n);
  Files f{tmp / "x.npy", tmp / "xf.npy", tmp / "y.npy", tmp / "xy.npz"};
  const Bytes x = npy_u8(mnist.pixels, {n, 28, 28});
  write(f.x, x);
  std::vector<float> xf(mnist.pixels.size());
  for (std::size_t i = 0; i < xf.size(); ++i) xf[i] = static_cast<float>(mnist.pixels[i]) / 255.0f;
  write(f.xf, datasets::encode_npy(std::span<const float>(xf), {n, 28, 28, 1}));
  const std::vector<std::int32_t> y(mnist.labels.begin(), mnist.labels.end());
  const Bytes yb = datasets::encode_npy(std::span<const std::int32_t>(y), {n});
  write(f.y, yb);
  write_npz(f.xy, {{"x.npy", x}, {"y.npy", yb}});
  return f;
}

}  // namespace

TEST_CASE("user data: eval on .npy (uint8 and float) and .npz equals eval on the same MNIST samples") {
  const auto shared = require_shared("eval --inputs on MNIST samples");
  if (!shared) return;
  TempDir tmp("user_eval");
  const std::int64_t n = 300;
  const Files f = write_mnist_files(tmp, n);
  const std::string model = q(*shared / "models/keras/keras2_lenet5_channels_first.h5");
  const auto base = json_of(run_cli("eval " + model + " --limit " + std::to_string(n) + " --json --threads 2"));
  for (const std::string& args : {"--inputs " + q(f.x) + " --labels " + q(f.y), "--inputs " + q(f.xf) + " --labels " + q(f.y),
                                  "--inputs " + q(f.xy)}) {
    const auto j = json_of(run_cli("eval " + model + " " + args + " --json --threads 2"));
    CHECK(j["samples"] == n);
    CHECK(j["correct"] == base["correct"]);
    CHECK(j["inputs"].get<std::string>().find(tmp.path().string()) == 0);
  }
  // Binary input: float x >= 0.5 is the same cut as pixel >= 128.
  const auto bin = json_of(run_cli("eval " + model + " --limit " + std::to_string(n) + " --input binary --json"));
  const auto binf = json_of(run_cli("eval " + model + " --inputs " + q(f.xf) + " --labels " + q(f.y) + " --input binary --json"));
  CHECK(binf["correct"] == bin["correct"]);

  // Labels are required by eval; shapes that do not fit are refused naming both.
  expect_one_line_error(run_cli("eval " + model + " --inputs " + q(f.x)), {"--labels"});
  std::vector<float> rgb(static_cast<std::size_t>(n) * 32 * 32 * 3, 0.5f);
  write(tmp / "rgb.npy", datasets::encode_npy(std::span<const float>(rgb), {n, 32, 32, 3}));
  expect_one_line_error(run_cli("eval " + model + " --inputs " + q(tmp / "rgb.npy") + " --labels " + q(f.y)),
                        {"(32, 32, 3)", "(28, 28, 1)", "rgb.npy"});
  write(tmp / "garbage.npy", Bytes{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 200, 0, '{'});
  expect_one_line_error(run_cli("eval " + model + " --inputs " + q(tmp / "garbage.npy") + " --labels " + q(f.y)),
                        {"garbage.npy", "header"});
  expect_one_line_error(run_cli("eval " + model + " --labels " + q(f.y)), {"--labels", "needs --inputs"});
}

TEST_CASE("user data: run single-pass and rate with --outputs; unlabelled inputs; spinnaker1 refuses --outputs") {
  const auto shared = require_shared("run --inputs --outputs");
  if (!shared) return;
  TempDir tmp("user_run");
  const std::int64_t n = 200;
  const Files f = write_mnist_files(tmp, n);
  const auto net = tmp / "w.snn.h5";
  REQUIRE(run_cli("convert " + q(*shared / "models/whetstone/whetstone_dense_mnist.h5") + " -o " + q(net)).exit_code == 0);
  const auto base = json_of(run_cli("run " + q(net) + " --engine single-pass --limit 200 --json"));
  const auto out = tmp / "scores.npy";
  const auto j = json_of(run_cli("run " + q(net) + " --engine single-pass --inputs " + q(f.xy) + " --outputs " + q(out) + " --json"));
  CHECK(j["accuracy"] == base["accuracy"]);
  CHECK(j["outputs"] == out.string());
  const auto scores = datasets::read_npy(out);
  REQUIRE(scores.shape == std::vector<std::int64_t>{n, 10});
  CHECK(scores.dtype_name() == "int32");
  // The arg-max of the decode scores (ties → lowest class) is the prediction: its accuracy is the run's.
  const auto mnist = datasets::load("mnist", datasets::Split::Test, {}, n);
  std::int64_t correct = 0;
  for (std::int64_t s = 0; s < n; ++s) {
    int best = 0;
    for (int c = 1; c < 10; ++c)
      if (scores.value(s * 10 + c) > scores.value(s * 10 + best)) best = c;
    correct += best == mnist.labels[static_cast<std::size_t>(s)];
  }
  CHECK(static_cast<double>(correct) / static_cast<double>(n) == doctest::Approx(j["accuracy"].get<double>()));

  // Without labels: the same run, accuracies null.
  const auto u = json_of(run_cli("run " + q(net) + " --engine single-pass --inputs " + q(f.x) + " --json"));
  CHECK(u["accuracy"].is_null());
  CHECK(u["labelled"] == false);
  CHECK(u["spikes_per_sample"] == j["spikes_per_sample"]);

  expect_one_line_error(run_cli("run " + q(net) + " --engine spinnaker1 --inputs " + q(f.x) + " --outputs " + q(tmp / "o.npy")),
                        {"--outputs", "spinnaker1"});
  CHECK(!fs::exists(tmp / "o.npy"));
  expect_one_line_error(run_cli("run " + q(net) + " --engine single-pass --inputs " + q(f.x) + " --outputs " + q(tmp / "o.txt")),
                        {"--outputs", ".npy"});

  // Rate: a rate-converted MLP saved as .snn.h5; output spike counts at T per sample.
  const auto model = keras::load_model(*shared / "models/keras/keras2_mlp_logits.h5");
  passes::RateConversionOptions options;
  options.normalisation_samples = 200;
  const auto rate_net = tmp / "rate.snn.h5";
  snn::save_network(passes::convert_for_rate(model, datasets::load("mnist", datasets::Split::Train, {}, 500), options).network,
                    rate_net);
  const auto counts_path = tmp / "counts.npy";
  const auto rb = json_of(run_cli("run " + q(rate_net) + " --engine rate --timesteps 16 --limit 50 --json"));
  const auto r = json_of(run_cli("run " + q(rate_net) + " --engine rate --timesteps 16 --inputs " + q(f.xf) + " --labels " +
                                 q(f.y) + " --limit 50 --outputs " + q(counts_path) + " --json"));
  CHECK(r["accuracy"] == rb["accuracy"]);
  const auto counts = datasets::read_npy(counts_path);
  REQUIRE(counts.shape == std::vector<std::int64_t>{50, 10});
  double total = 0;
  for (std::int64_t i = 0; i < counts.elements(); ++i) {
    CHECK(counts.value(i) >= 0);
    CHECK(counts.value(i) <= 16);
    total += counts.value(i);
  }
  CHECK(total > 0);
}

TEST_CASE("user data: 8x8x3 float images through sharpen, eval, convert and run") {
  // A learnable 3-class task on colour images: the class is the brightest channel.
  TempDir tmp("user_rgb");
  const std::int64_t n = 600, per = 8 * 8 * 3;
  std::vector<float> x(static_cast<std::size_t>(n * per));
  std::vector<std::int32_t> y(static_cast<std::size_t>(n));
  std::uint32_t state = 12345;
  const auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(state >> 8) / 16777216.0f;
  };
  for (std::int64_t s = 0; s < n; ++s) {
    const int cls = static_cast<int>(s % 3);
    y[static_cast<std::size_t>(s)] = cls;
    for (std::int64_t p = 0; p < per; ++p)
      x[static_cast<std::size_t>(s * per + p)] = (p % 3 == cls ? 0.5f : 0.0f) + 0.5f * next();
  }
  write(tmp / "x.npy", datasets::encode_npy(std::span<const float>(x), {n, 8, 8, 3}));
  write(tmp / "y.npy", datasets::encode_npy(std::span<const std::int32_t>(y), {n}));
  const std::string data = " --inputs " + q(tmp / "x.npy") + " --labels " + q(tmp / "y.npy");
  const auto model = tmp / "rgb.h5";
  const auto s = json_of(run_cli("sharpen --arch dense:32 --recipe dense-real --epochs 6 --start-epoch 2 --steps 2 --key-width 30" +
                                 data + " --test-inputs " + q(tmp / "x.npy") + " --test-labels " + q(tmp / "y.npy") +
                                 " -o " + q(model) + " --json --threads 2"));
  CHECK(s["train_samples"].get<int>() + s["validation_samples"].get<int>() == n);
  CHECK(s["accuracy_saved_model"].get<double>() > 0.8);
  const auto e = json_of(run_cli("eval " + q(model) + data + " --json"));
  CHECK(e["accuracy"] == s["accuracy_saved_model"]);
  const auto net = tmp / "rgb.snn.h5";
  REQUIRE(run_cli("convert " + q(model) + " -o " + q(net)).exit_code == 0);
  const auto r = json_of(run_cli("run " + q(net) + " --engine single-pass" + data + " --json"));
  CHECK(r["samples"] == n);
  CHECK(r["accuracy"].get<double>() > 0.8);
  // Greyscale 8x8 inputs do not fit the 8x8x3 network: refused naming both shapes.
  std::vector<float> grey(static_cast<std::size_t>(n * 64), 0.5f);
  write(tmp / "grey.npy", datasets::encode_npy(std::span<const float>(grey), {n, 8, 8}));
  expect_one_line_error(run_cli("run " + q(net) + " --engine single-pass --inputs " + q(tmp / "grey.npy")),
                        {"(8, 8)", "(192,)"});  // a Dense network takes its input flat
  expect_one_line_error(run_cli("sharpen --arch dense:8 -o " + q(tmp / "z.h5") + data), {"--test-inputs"});
  CHECK(!fs::exists(tmp / "z.h5"));
}

TEST_CASE("user data: compare on an .npz of MNIST samples equals compare on the dataset's") {
  const auto shared = require_shared("compare --inputs");
  if (!shared) return;
  TempDir tmp("user_compare");
  const Files f = write_mnist_files(tmp, 60);
  const std::string mlp = q(*shared / "models/keras/keras2_mlp_logits.h5");
  const auto c = json_of(run_cli("compare " + mlp + " --inputs " + q(f.xy) + " --timesteps 4,16 --json --threads 2"));
  CHECK(c["samples"] == 60);
  CHECK(c["dataset"] == "xy.npz");
  const auto e = json_of(run_cli("eval " + mlp + " --limit 60 --json"));
  CHECK(c["ann_accuracy"] == e["accuracy"]);
  CHECK(c["rate"][1]["accuracy"].get<double>() > 0.5);
}
