// SpiNNaker 2 model end to end: the MAC model's int8 products are bit-identical to plain loops on
// a real layer; hybrid and ANN-mode runs give the single-pass engine's classes on the shared
// Whetstone model (fixed point) and on conv/pool networks; a layer too large for the chip's SRAM
// is streamed from DRAM and its DRAM time is charged; the CLI reports the contract's keys, and
// `--s2-mode ann` on a Keras model reports what the library computes (no typed-in spike counts).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/paths.hpp"
#include "common/error.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/ann_to_mac.hpp"
#include "converter/passes/pipeline.hpp"
#include "datasets/dataset.hpp"
#include "hw_model/spinnaker2/mac_array.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "snn_runtime/spinnaker2/ann_program.hpp"
#include "snn_runtime/spinnaker2/executor.hpp"
#include "testing/engine_networks.hpp"
#include "testing/test_models.hpp"
#include "tests/test_support.hpp"

using namespace grindstone;
using namespace grindstone::testing;

namespace {

bool quick() { return std::getenv("GRINDSTONE_TEST_QUICK") != nullptr; }

snn::Network convert_whetstone(const std::filesystem::path& shared, const std::string& weights, const std::string& bias) {
  const ann::Model model = keras::load_model(shared / "models/whetstone/whetstone_dense_mnist.h5");
  passes::ConvertOptions options;
  options.weights = passes::parse_weight_format(weights);
  options.bias = passes::parse_bias_mode(bias);
  return passes::convert_single_pass(model, options).network;
}

datasets::Dataset mnist(const std::filesystem::path& shared, std::int64_t limit) {
  return datasets::load("mnist", datasets::Split::Test, shared / "datasets/mnist", limit);
}

// Images of side×side pixels from random bytes (for the small conv networks).
datasets::Dataset random_dataset(std::int64_t side, std::int64_t count, std::uint64_t seed) {
  datasets::Dataset d;
  d.name = "random";
  d.rows = d.cols = side;
  d.pixels = engines_testing::random_images(side * side, count, seed);
  d.labels.assign(static_cast<std::size_t>(count), 0);
  return d;
}

// Quantises every weight and threshold to multiples of 2^-8 (a Q4.8 network).
void make_fixed_q48(snn::Network& net) {
  auto q = [](float v) { return static_cast<float>(std::round(v * 256.0) / 256.0); };
  for (auto& pr : net.projections) {
    if (auto* d = std::get_if<snn::DenseConnector>(&pr.connector)) d->weights = d->weights.unaryExpr(q);
    if (auto* c = std::get_if<snn::ConvConnector>(&pr.connector)) c->kernel = c->kernel.unaryExpr(q);
  }
  for (auto& p : net.populations)
    for (auto& t : p.threshold) t = q(t);
  net.weights.is_float = false;
  net.weights.fixed = FixedPointFormat{4, 8};
}

void require_same_classes(const snn::SinglePassRun& reference, const snn::s2::RunReport& s2) {
  REQUIRE(reference.predictions.size() == s2.predictions.size());
  std::int64_t differ = 0;
  for (std::size_t i = 0; i < s2.predictions.size(); ++i) differ += reference.predictions[i] != s2.predictions[i];
  CHECK(differ == 0);
  CHECK(s2.correct == reference.correct);
  CHECK(s2.spikes_per_sample == doctest::Approx(reference.spikes_per_sample()));
  CHECK(s2.synaptic_events_per_sample == doctest::Approx(reference.synaptic_events_per_sample()));
}

/// Hybrid and ANN mode on a fixed-point network: exactly the single-pass engine's classes and
/// counts, integer-exact. Returns both reports.
std::vector<snn::s2::RunReport> require_s2_modes_match_single_pass(const snn::Network& net, const datasets::Dataset& data) {
  const auto reference = snn::SinglePassEngine(net).run(data);
  std::vector<snn::s2::RunReport> reports;
  for (bool ann : {false, true}) {
    CAPTURE(ann);
    snn::s2::ExecutorOptions options;
    options.ann_mode = ann;
    reports.push_back(snn::s2::Executor(net, options).run(data));
    require_same_classes(reference, reports.back());
    CHECK(reports.back().integer_exact);
  }
  return reports;
}

}  // namespace

TEST_CASE("MAC model: int8 products on the Whetstone model's layers equal a plain-loop reference") {
  auto shared = require_shared("spinnaker2 MAC on real layers");
  if (!shared) return;
  const ann::Model model = keras::load_model(*shared / "models/whetstone/whetstone_dense_mnist.h5");
  const auto data = mnist(*shared, 40);
  hw::s2::MacArray mac;
  int layers = 0;
  std::vector<std::uint8_t> input(static_cast<std::size_t>(data.size() * 784));
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = data.pixels[i];  // raw uint8 pixels
  for (const auto& layer : model.layers) {
    if (!layer.is<ann::Dense>()) continue;
    const auto& w = layer.as<ann::Dense>().kernel;  // (in, units)
    const std::int64_t k = w.rows(), n = w.cols(), m = data.size();
    // per-output-column int8 quantisation
    std::vector<std::int8_t> q(static_cast<std::size_t>(k * n));
    for (std::int64_t c = 0; c < n; ++c) {
      const float max = w.col(c).cwiseAbs().maxCoeff();
      for (std::int64_t r = 0; r < k; ++r)
        q[static_cast<std::size_t>(r * n + c)] = static_cast<std::int8_t>(std::lround(w(r, c) * 127.0f / max));
    }
    // inputs: the images for the first layer, pseudo-random spikes for the others
    std::vector<std::uint8_t> a(static_cast<std::size_t>(m * k));
    for (std::int64_t i = 0; i < m * k; ++i)
      a[static_cast<std::size_t>(i)] = k == 784 ? input[static_cast<std::size_t>(i)] : static_cast<std::uint8_t>(random_bits(3, 4, static_cast<std::uint64_t>(i)) & 1);
    std::vector<std::int32_t> acc(static_cast<std::size_t>(m * n));
    mac.matmul<std::uint8_t, std::int8_t>(a, q, {m, k, n}, acc);
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        std::int64_t sum = 0;
        for (std::int64_t r = 0; r < k; ++r) sum += std::int64_t{a[static_cast<std::size_t>(i * k + r)]} * q[static_cast<std::size_t>(r * n + j)];
        REQUIRE(acc[static_cast<std::size_t>(i * n + j)] == sum);
      }
    ++layers;
  }
  CHECK(layers == 3);
  CHECK(mac.stats().accumulator_overflows == 0);
}

TEST_CASE("hybrid and ANN-mode runs give the single-pass engine's classes on the Whetstone model (Q4.8)") {
  auto shared = require_shared("spinnaker2 vs single-pass on Whetstone");
  if (!shared) return;
  const auto data = mnist(*shared, quick() ? 60 : 300);
  for (const char* bias : {"neurons", "threshold"}) {
    CAPTURE(bias);
    const snn::Network net = convert_whetstone(*shared, "Q4.8", bias);
    const snn::SinglePassEngine single(net);
    const auto reference = single.run(data);
    for (bool ann : {false, true}) {
      snn::s2::ExecutorOptions options;
      options.ann_mode = ann;
      const snn::s2::Executor s2(net, options);
      const auto r = s2.run(data);
      require_same_classes(reference, r);
      CHECK(r.integer_exact);
      CHECK(r.accuracy > 0.9);
      CHECK(r.pes >= 3);
      CHECK(r.chips == 1);
      CHECK(r.hw_latency_seconds > 0);
      CHECK(r.hw_throughput_samples_per_second > 0);
      CHECK(r.energy_per_inference > 0);
      CHECK(r.mac_utilisation > 0.5);  // 4 samples fill the 4 array rows
      CHECK(r.dram_bytes == data.size() * 784);  // only the images: all weights on chip
      for (const auto& st : r.stages) CHECK(st.engine == "mac");
    }
  }
}

TEST_CASE("hybrid and ANN-mode runs give the single-pass engine's classes on the trainer's sharpened CNN") {
  auto shared = require_shared("spinnaker2 vs single-pass on the sharpened CNN");
  if (!shared) return;
  const auto data = mnist(*shared, quick() ? 12 : 60);
  const ann::Model model =
      keras::load_model(grindstone::source_dir() / "tests/data/sharpened_mnist_cnn32x3_64x3_real.h5");
  passes::ConvertOptions convert;
  convert.weights = passes::parse_weight_format("Q4.8");
  const snn::Network net = passes::convert_single_pass(model, convert).network;
  for (const auto& r : require_s2_modes_match_single_pass(net, data)) CHECK(r.accuracy > 0.8);
}

TEST_CASE("float conversion: int8 quantisation agrees with float arithmetic on almost every image") {
  auto shared = require_shared("spinnaker2 float agreement");
  if (!shared) return;
  const auto data = mnist(*shared, quick() ? 60 : 300);
  const snn::Network net = convert_whetstone(*shared, "float", "neurons");
  const snn::SinglePassEngine single(net);
  const auto reference = single.run(data);
  const snn::s2::Executor s2(net, {});
  const auto r = s2.run(data);
  CHECK_FALSE(r.integer_exact);
  REQUIRE(r.float_agreement.has_value());
  CHECK(*r.float_agreement > 0.95);
  std::int64_t same = 0;
  for (std::size_t i = 0; i < r.predictions.size(); ++i) same += r.predictions[i] == reference.predictions[i];
  CHECK(static_cast<double>(same) / static_cast<double>(data.size()) > 0.95);
}

TEST_CASE("conv + OR-pool networks: ARM (hybrid) and MAC conv2d (ann) equal the single-pass engine") {
  for (int pad : {0, 1}) {
    for (int stride : {1, 2}) {
      CAPTURE(pad);
      CAPTURE(stride);
      snn::Network net = engines_testing::conv_pool_network(11 + static_cast<std::uint64_t>(pad * 2 + stride), pad, stride, 10);
      make_fixed_q48(net);
      const auto data = random_dataset(10, 64, 5);
      const snn::SinglePassEngine single(net);
      const auto reference = single.run(data);
      for (bool ann : {false, true}) {
        snn::s2::ExecutorOptions options;
        options.ann_mode = ann;
        const snn::s2::Executor s2(net, options);
        const auto r = s2.run(data);
        require_same_classes(reference, r);
        int arm_stages = 0;
        for (const auto& st : r.stages) arm_stages += st.engine == "arm";
        CHECK(arm_stages == (ann ? 1 : 3));  // pooling stays on the ARM cores
        if (!ann) CHECK(r.arm_cycles > 0);
      }
    }
  }
}

TEST_CASE("bit-plane input: the eight planes are one uint8 pixel operand on the MAC arrays, = single-pass") {
  // Random dense networks with bit-plane input (Q4.8): plane k weighs w·2^k/255; the MAC stage
  // multiplies the pixel by w and compares against 255·θ, which is exactly the single-pass sum.
  for (std::uint64_t seed : {3u, 4u}) {
    CAPTURE(seed);
    snn::Network net = engines_testing::random_dense_network({64, 48, 20}, seed, snn::InputEncoding::Bitplanes, 8);
    net.weights.is_float = false;
    net.weights.fixed = FixedPointFormat{4, 8};
    const auto data = random_dataset(8, 96, 20 + seed);
    const auto reference = snn::SinglePassEngine(net).run(data);
    for (bool ann : {false, true}) {
      CAPTURE(ann);
      snn::s2::ExecutorOptions options;
      options.ann_mode = ann;
      const auto r = snn::s2::Executor(net, options).run(data);
      require_same_classes(reference, r);
      CHECK(r.integer_exact);
      CHECK(r.dram_bytes == data.size() * 64);  // one byte per pixel, not one per plane neuron
      REQUIRE(!r.stages.empty());
      CHECK(r.stages[0].engine == "mac");
    }
  }
}

TEST_CASE("bit-plane input: the shipped 99 % conv network runs on SpiNNaker 2 with the single-pass classes") {
  auto shared = require_shared("spinnaker2 bit-plane conv network");
  if (!shared) return;
  const auto data = mnist(*shared, quick() ? 4 : 40);
  const ann::Model model = keras::load_model(grindstone::source_dir() /
                                             "models/sharpened/mnist_conv32x5_64x5_500_real.h5");
  passes::ConvertOptions convert;
  convert.weights = passes::parse_weight_format("Q4.8");
  convert.input = snn::InputEncoding::Bitplanes;
  const snn::Network net = passes::convert_single_pass(model, convert).network;
  const auto reference = snn::SinglePassEngine(net).run(data);
  for (bool ann : {false, true}) {
    CAPTURE(ann);
    snn::s2::ExecutorOptions options;
    options.ann_mode = ann;
    options.machine.chips = 2;  // hybrid: 185 ARM cores for the conv layers
    const auto r = snn::s2::Executor(net, options).run(data);
    require_same_classes(reference, r);
    CHECK(r.integer_exact);
    CHECK(r.stages[0].engine == (ann ? "mac" : "arm"));  // hybrid: conv layers stay on the ARM cores
  }
}

TEST_CASE("a layer too large for one chip's SRAM is streamed from DRAM and its DRAM time is charged") {
  auto shared = require_shared("spinnaker2 DRAM streaming");
  if (!shared) return;
  const auto data = mnist(*shared, 40);
  const snn::Network net = convert_whetstone(*shared, "Q4.8", "threshold");  // layer 1: 784×256 16-bit = 392 KiB
  const snn::SinglePassEngine single(net);
  const auto reference = single.run(data);
  snn::s2::ExecutorOptions small;
  small.machine.chip.pes = 4;  // a chip of 4 PEs: 384 KiB of usable SRAM
  const snn::s2::Executor streamed(net, small);
  const auto r = streamed.run(data);
  const snn::s2::Executor resident(net, {});
  const auto full = resident.run(data);
  require_same_classes(reference, r);
  REQUIRE(!r.stages.empty());
  CHECK(r.stages[0].streamed);
  CHECK_FALSE(full.stages[0].streamed);
  const std::int64_t batches = (data.size() + 3) / 4;
  const std::int64_t weight_bytes = r.dram_bytes - data.size() * 784;  // besides the images
  CHECK(weight_bytes % batches == 0);
  const std::int64_t layer_bytes = weight_bytes / batches;  // streamed again for every batch
  CHECK((layer_bytes == 784 * 256 || layer_bytes == 784 * 256 * 2));  // int8 or 16-bit operands
  // each batch waits at least for the weight stream at 6.4 GB/s
  CHECK(r.stages[0].seconds_per_batch >= static_cast<double>(layer_bytes) / 6.4e9);
  CHECK(r.hw_latency_seconds > full.hw_latency_seconds);
  CHECK(r.energy.dram_joules > full.energy.dram_joules);
  // and a machine whose PEs cannot hold even the spiking layers' cores refuses the network
  snn::s2::ExecutorOptions tiny;
  tiny.machine.chip.pes = 2;
  CHECK_THROWS_AS(snn::s2::Executor(net, tiny), InputError);
}

TEST_CASE("grindstone run --engine spinnaker2 reports the contract's JSON keys") {
  auto shared = require_shared("spinnaker2 CLI");
  if (!shared) return;
  TempDir tmp("s2cli");
  const snn::Network net = convert_whetstone(*shared, "Q4.8", "neurons");
  snn::save_network(net, tmp / "whetstone.snn.h5");
  const auto data_dir = (*shared / "datasets/mnist").string();
  const auto res = run_cli("run '" + (tmp / "whetstone.snn.h5").string() + "' --engine spinnaker2 --limit 100 --json --data-dir '" +
                           data_dir + "' --clock-mhz 250 --chips 2");
  REQUIRE_MESSAGE(res.exit_code == 0, res.err);
  const auto j = nlohmann::json::parse(res.out);
  for (const char* key : {"engine", "samples", "accuracy", "wall_seconds", "samples_per_second", "spikes_per_sample",
                          "synaptic_events_per_sample", "pes", "chips", "mac_utilisation", "hw_throughput_samples_per_second",
                          "hw_latency_seconds", "dram_bytes", "energy_joules", "energy_per_inference_joules"})
    CHECK_MESSAGE(j.contains(key), key);
  CHECK(j["engine"] == "spinnaker2");
  CHECK(j["samples"] == 100);
  // every component's stats are reported, and the totals are read from them
  for (const char* component : {"mac", "arm", "noc", "dram", "arm_partial_sum_cycles"})
    CHECK_MESSAGE(j["hw_stats"].contains(component), component);
  CHECK(j["hw_stats"]["dram"]["bytes_read"] == j["dram_bytes"]);
  CHECK(j["hw_stats"]["noc"]["bytes"] == j["noc_bytes"]);
  CHECK(j["hw_stats"]["mac"]["useful_macs"] == j["useful_macs"]);
  // a fixed-point network is not quantised, so there is no float agreement to measure
  CHECK(j["integer_exact"] == true);
  CHECK(j["float_agreement"].is_null());
  CHECK(j["not_applicable"].contains("float_agreement"));
  CHECK(j["hw_stats"]["arm"]["cycles"].get<std::int64_t>() + j["hw_stats"]["arm_partial_sum_cycles"].get<std::int64_t>() ==
        j["arm_cycles"].get<std::int64_t>());
  const snn::SinglePassEngine single(net);
  CHECK(j["accuracy"].get<double>() == doctest::Approx(single.run(mnist(*shared, 100)).accuracy));
  const auto bad = run_cli("run '" + (tmp / "whetstone.snn.h5").string() + "' --engine spinnaker2 --limit 10 --data-dir '" +
                           data_dir + "' --s2-mode bogus");
  CHECK(bad.exit_code == 2);
}

TEST_CASE("grindstone run MODEL.h5 --engine spinnaker2 --s2-mode ann = ann_to_mac + run_ann, no typed-in spike counts") {
  auto shared = require_shared("spinnaker2 ANN mode CLI");
  if (!shared) return;
  const auto model_file = *shared / "models/keras/keras2_lenet5_channels_first.h5";
  const auto data_dir = *shared / "datasets/mnist";
  const std::int64_t n = quick() ? 20 : 100;
  const auto res = run_cli("run '" + model_file.string() + "' --engine spinnaker2 --s2-mode ann --json --clock-mhz 200 --limit " +
                           std::to_string(n) + " --data-dir '" + data_dir.string() + "'");
  REQUIRE_MESSAGE(res.exit_code == 0, res.err);
  const auto j = nlohmann::json::parse(res.out);
  // the library path the CLI is glue for, with the same calibration and machine
  const ann::Model model = keras::load_model(model_file);
  const auto calibration = datasets::load("mnist", datasets::Split::Train, data_dir, passes::AnnToMacOptions{}.calibration_images);
  const snn::s2::AnnProgram program = passes::ann_to_mac(model, calibration);
  snn::s2::CnnMappingParams mapping;
  mapping.chip.clock.hz = 200e6;
  const snn::s2::AnnRunReport r = snn::s2::run_ann(program, mnist(*shared, n), mapping);
  CHECK(j["accuracy"].get<double>() == r.accuracy);
  CHECK(j["samples"] == n);
  CHECK(j["hw_latency_seconds"].get<double>() == r.estimate.latency_seconds);
  CHECK(j["energy_per_inference_joules"].get<double>() == r.estimate.energy.total());
  CHECK(j["nonzero_activations_per_sample"].get<double>() == r.nonzero_activations_per_sample);
  CHECK(j["accuracy"].get<double>() > 0.9);
  // the run contract's keys are there; spike counts are null with the reason (an ANN sends none)
  for (const char* key : {"engine", "samples", "accuracy", "wall_seconds", "samples_per_second", "spikes_per_sample",
                          "synaptic_events_per_sample", "pes", "chips", "mac_utilisation", "hw_throughput_samples_per_second",
                          "hw_latency_seconds", "dram_bytes", "energy_joules"})
    CHECK_MESSAGE(j.contains(key), key);
  CHECK(j["spikes_per_sample"].is_null());
  CHECK(j["not_applicable"]["spikes_per_sample"].get<std::string>().find("no spikes") != std::string::npos);
  CHECK(j["hw_stats"]["mac_functional_run"]["invocations"].get<std::int64_t>() == r.mac.invocations);
  // a model the MAC arrays cannot run: one line naming the layer, exit code 2
  const auto bad = run_cli("run '" + (*shared / "models/whetstone/whetstone_dense_mnist.h5").string() +
                           "' --engine spinnaker2 --s2-mode ann --limit 5 --data-dir '" + data_dir.string() + "'");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("layer '") != std::string::npos);
}

TEST_CASE("residual network (issue 13): SpiNNaker 2 hybrid and ANN mode give the single-pass classes (Q4.8)") {
  datasets::Dataset data;
  data.name = "random";
  data.rows = data.cols = 8;
  data.pixels = engines_testing::random_images(64, 40, 23);
  for (int i = 0; i < 40; ++i) data.labels.push_back(static_cast<std::uint8_t>(i % 6));
  data.num_classes = 6;
  passes::ConvertOptions opt;
  opt.weights = passes::parse_weight_format("Q4.8");
  const snn::Network net = passes::convert_single_pass(passes::testing::residual_identity_model(), opt).network;
  for (const auto& r : require_s2_modes_match_single_pass(net, data)) CHECK(r.hw_latency_seconds > 0);
}
