// Functional engines (single-pass and rate), input spikes and decoding, on hand-built networks
// with hand-computed answers, plus real models from ../shared when present.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/paths.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "common/random.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/pipeline.hpp"
#include "converter/passes/rate.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/rate.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "snn_runtime/network/decode.hpp"
#include "snn_runtime/network/input_spikes.hpp"
#include "testing/engine_networks.hpp"
#include "testing/single_pass_checks.hpp"
#include "tests/test_support.hpp"

using namespace grindstone;
using namespace grindstone::snn;
using namespace grindstone::engines_testing;

TEST_CASE("input spikes: threshold boundary at 128, bit planes, the always-on start source") {
  CHECK_FALSE(threshold_fires(127));
  CHECK(threshold_fires(128));
  CHECK(127.0 / 255.0 < 0.5);
  CHECK(128.0 / 255.0 >= 0.5);

  Network net = dense_chain({4, 2}, InputEncoding::Threshold);
  add_start_source(net);
  const std::vector<std::uint8_t> image{200, 0, 127, 128};
  InputSpikeEncoder encoder(net, 4, "net");
  const auto spikes = encoder.encode(image.data());
  REQUIRE(spikes.size() == 2);
  CHECK(spikes[0].neurons == std::vector<std::int64_t>{0, 3});
  CHECK(spikes[0].ticks == std::vector<int>{0, 0});
  CHECK(spikes[1].neurons == std::vector<std::int64_t>{0});  // start source fires every sample
  CHECK(encoder.count_spikes(image.data()) == 3);

  Network planes = bitplane_chain({4, 2});
  InputSpikeEncoder bits(planes, 4, "planes");
  const auto b = bits.encode(std::vector<std::uint8_t>{0b00000101, 0, 0b10000000, 255}.data());
  REQUIRE(b.size() == 8);
  CHECK(b[0].neurons == std::vector<std::int64_t>{0, 3});  // bit 0
  CHECK(b[1].neurons == std::vector<std::int64_t>{3});
  CHECK(b[2].neurons == std::vector<std::int64_t>{0, 3});
  CHECK(b[7].neurons == std::vector<std::int64_t>{2, 3});

  CHECK_THROWS_AS(InputSpikeEncoder(net, 5, "net"), InputError);
}

TEST_CASE("decode: n-hot key scores, ties to the lowest class, spike-count arg-max with potential ties") {
  Decode nhot;
  nhot.kind = Decode::Kind::NHotKey;
  nhot.classes = 3;
  nhot.key = Eigen::MatrixXf(3, 4);
  nhot.key << 1, 1, 0, 0,  //
      0, 0, 1, 1,          //
      1, 0, 1, 0;
  Decoder d(nhot, 4, "t");
  const std::vector<std::uint8_t> x{1, 1, 0, 0};
  CHECK(d.nhot_scores(x) == std::vector<std::int32_t>{4, -4, 0});
  CHECK(d.decode_bits(x) == 0);
  const std::vector<std::uint8_t> tie{1, 0, 1, 0};  // class 0: 0, class 1: 0, class 2: 4
  CHECK(d.decode_bits(tie) == 2);
  const std::vector<std::uint8_t> zero{1, 0, 0, 1};  // all classes score 0 → lowest index
  CHECK(d.nhot_scores(zero) == std::vector<std::int32_t>{0, 0, 0});
  CHECK(d.decode_bits(zero) == 0);
  const std::vector<std::int32_t> counts{2, 5, 0, 0};
  CHECK(d.decode(counts) == 0);  // counts > 0 read as 1: x = 1100

  Decode count;
  count.kind = Decode::Kind::SpikeCount;
  count.classes = 3;
  count.tie_break_by_potential = true;
  const std::vector<std::int32_t> c{3, 3, 1};
  CHECK(decode_class(count, c) == 0);
  CHECK(decode_class(count, c, std::vector<float>{0.1f, 0.4f, 0.9f}) == 1);
  count.tie_break_by_potential = false;
  CHECK(decode_class(count, c, std::vector<float>{0.1f, 0.4f, 0.9f}) == 0);
  CHECK_THROWS_AS(Decoder(nhot, 5, "t"), InputError);
}

TEST_CASE("single-pass: dense network against hand-computed spikes (≥ threshold fires)") {
  Network net = dense_chain({4, 3, 2}, InputEncoding::Threshold);
  auto& w1 = std::get<DenseConnector>(net.projections[0].connector).weights;
  w1 << 0.5f, 0.25f, -1.0f,  //
      1, 1, 1,               //
      5, 5, 5,               //
      0.25f, 0.25f, 1.5f;
  net.populations[1].threshold = {0.75f, 0.5625f, 0.5f};
  auto& w2 = std::get<DenseConnector>(net.projections[1].connector).weights;
  w2 << 1, 0,  //
      1, 1,    //
      0, 1;
  net.populations[2].threshold = {2.0f, 1.0f};
  SinglePassEngine engine(net, "hand");
  const std::vector<std::uint8_t> image{200, 0, 127, 128};  // fires inputs 0 and 3
  std::vector<std::vector<std::uint8_t>> fired;
  const auto r = engine.run_sample(image.data(), &fired);
  // hidden: 0.5+0.25 = 0.75 ≥ 0.75 fires; 0.25+0.25 = 0.5 < 0.5625; −1+1.5 = 0.5 ≥ 0.5 fires.
  CHECK(fired[1] == std::vector<std::uint8_t>{1, 0, 1});
  // output: 1 < 2 silent; 1 ≥ 1 fires → class 1 (spike count).
  CHECK(fired[2] == std::vector<std::uint8_t>{0, 1});
  CHECK(r.predicted == 1);
  CHECK(r.spikes == 2 + 2 + 1);
  // events: input 0 → 3 synapses, input 3 → 3; hidden 0 → 1, hidden 2 → 1.
  CHECK(r.synaptic_events == 8);
  CHECK(engine.accumulator() == "float");
}

TEST_CASE("single-pass: float sums are exact near the threshold") {
  // 0.1f + 0.5f rounds up to 0.6f in float, but the exact sum of these float weights is below
  // 0.6f: the engine must notice and not fire.
  Network net = dense_chain({2, 1}, InputEncoding::Threshold);
  std::get<DenseConnector>(net.projections[0].connector).weights << 0.1f, 0.5f;
  net.populations[1].threshold = {0.6f};
  REQUIRE(0.1f + 0.5f >= 0.6f);
  REQUIRE(static_cast<double>(0.1f) + static_cast<double>(0.5f) < static_cast<double>(0.6f));
  SinglePassEngine engine(net, "exact");
  std::vector<std::vector<std::uint8_t>> fired;
  engine.run_sample(std::vector<std::uint8_t>{255, 255}.data(), &fired);
  CHECK(fired[1][0] == 0);
}

TEST_CASE("single-pass: conv and OR-pool connectors match a direct evaluation, with padding and strides") {
  for (int pad : {0, 1}) {
    for (int stride : {1, 2}) {
      CAPTURE(pad);
      CAPTURE(stride);
      Network net = conv_pool_network(/*seed=*/7 + pad, pad, stride);
      SinglePassEngine engine(net, "conv");
      for (int s = 0; s < 40; ++s) {
        const auto image = random_image(net.input_shape.size(), 100 + s);
        std::vector<std::vector<std::uint8_t>> fired;
        engine.run_sample(image.data(), &fired);
        const auto expected = direct_evaluation(net, image);
        for (std::size_t p = 0; p < net.populations.size(); ++p) {
          CAPTURE(p);
          CHECK(fired[p] == expected[p]);
        }
      }
    }
  }
}

TEST_CASE("single-pass: a hand-computed 3x3 conv and a 2x2 OR pool") {
  Network net = conv_pool_network(1, 0, 1, 5);
  auto& conv = std::get<ConvConnector>(net.projections[0].connector);
  conv.kernel.setZero();
  conv.kernel(0, 0) = 1.0f;  // top-left tap, channel 0 → out channel 0
  conv.kernel(4, 1) = 1.0f;  // centre tap → out channel 1
  net.populations[1].threshold.assign(net.populations[1].threshold.size(), 0.5f);
  // Input 5x5x1; only pixel (2,2) is on.
  std::vector<std::uint8_t> image(25, 0);
  image[2 * 5 + 2] = 255;
  std::vector<std::vector<std::uint8_t>> fired;
  SinglePassEngine(net, "conv").run_sample(image.data(), &fired);
  // conv output 3x3x2: channel 0 fires at (2,2) [top-left tap reads (2,2)]; channel 1 at (1,1).
  std::vector<std::uint8_t> conv_expected(18, 0);
  conv_expected[(2 * 3 + 2) * 2 + 0] = 1;
  conv_expected[(1 * 3 + 1) * 2 + 1] = 1;
  CHECK(fired[1] == conv_expected);
  // pool 2x2 stride 1 on 3x3 → 2x2x2 OR: channel 0 only (1,1); channel 1 everywhere.
  std::vector<std::uint8_t> pool_expected{0, 1, 0, 1, 0, 1, 1, 1};
  CHECK(fired[2] == pool_expected);
}

TEST_CASE("single-pass: bias neurons and threshold mode give the same spikes") {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto pair = bias_mode_pair(seed);
    SinglePassEngine with_neurons(pair.first, "neurons");
    SinglePassEngine with_thresholds(pair.second, "threshold");
    for (int s = 0; s < 60; ++s) {
      const auto image = random_image(pair.first.input_shape.size(), 1000 + s);
      std::vector<std::vector<std::uint8_t>> a, b;
      const auto ra = with_neurons.run_sample(image.data(), &a);
      const auto rb = with_thresholds.run_sample(image.data(), &b);
      CHECK(a[static_cast<std::size_t>(pair.first.output)] == b[static_cast<std::size_t>(pair.second.output)]);
      CHECK(ra.predicted == rb.predicted);
      CHECK(ra.spikes > rb.spikes);  // bias neurons spike too
    }
  }
}

TEST_CASE("single-pass: temporal groups K = 1 and K = 3 give identical results") {
  Network k1 = random_dense_network({30, 17, 11, 10}, /*seed=*/5, InputEncoding::Threshold);
  Network k3 = with_temporal_groups(k1, 3);
  CHECK(max_delay(k3, k3.projections[1]) == 5);  // 2K − 1
  SinglePassEngine e1(k1, "k1"), e3(k3, "k3");
  const auto images = random_images(30, 300, 9);
  const auto labels = std::vector<std::uint8_t>(300, 0);
  const auto r1 = e1.run(images.data(), labels.data(), 300);
  const auto r3 = e3.run(images.data(), labels.data(), 300);
  CHECK(r1.predictions == r3.predictions);
  CHECK(r1.spikes == r3.spikes);
  CHECK(r1.synaptic_events == r3.synaptic_events);

  Network broken = k3;
  broken.populations[2].tick = broken.populations[1].tick + 1;  // overlaps layer 1's groups
  CHECK_THROWS_AS(SinglePassEngine(broken, "broken"), InputError);
}

TEST_CASE("single-pass: fixed point uses integer sums and agrees with the same weights as float") {
  Network fl = random_dense_network({40, 20, 10}, 11, InputEncoding::Bitplanes, /*fraction_bits=*/6);
  Network fx = fl;
  fx.weights.is_float = false;
  fx.weights.fixed = FixedPointFormat{4, 6};
  SinglePassEngine ef(fl, "float"), ex(fx, "fixed");
  CHECK(ex.accumulator() == "int32");
  const auto images = random_images(40, 400, 3);
  const std::vector<std::uint8_t> labels(400, 0);
  const auto rf = ef.run(images.data(), labels.data(), 400);
  const auto rx = ex.run(images.data(), labels.data(), 400);
  CHECK(rf.predictions == rx.predictions);
  CHECK(rf.spikes == rx.spikes);

  // A bit-plane sum exactly at the threshold: pixel 255 × w = 1 = θ fires; pixel 254 does not.
  Network edge = bitplane_chain({1, 1});
  for (auto& pr : edge.projections) std::get<DenseConnector>(pr.connector).weights(0, 0) = 1.0f;
  edge.populations.back().threshold = {1.0f};
  edge.weights.is_float = false;
  edge.weights.fixed = FixedPointFormat{4, 8};
  SinglePassEngine ee(edge, "edge");
  std::vector<std::vector<std::uint8_t>> fired;
  ee.run_sample(std::vector<std::uint8_t>{255}.data(), &fired);
  CHECK(fired.back()[0] == 1);
  ee.run_sample(std::vector<std::uint8_t>{254}.data(), &fired);
  CHECK(fired.back()[0] == 0);

  Network off_grid = fx;
  std::get<DenseConnector>(off_grid.projections[8].connector).weights(0, 0) = 0.3f;
  CHECK_THROWS_AS(SinglePassEngine(off_grid, "off"), InputError);
}

TEST_CASE("single-pass: rejects networks it cannot run") {
  Network net = dense_chain({4, 3}, InputEncoding::Threshold);
  net.populations[1].model = NeuronModel::IntegrateAndFire;
  CHECK_THROWS_AS(SinglePassEngine(net, "if"), InputError);
  Network real = dense_chain({4, 3}, InputEncoding::Real);
  CHECK_THROWS_AS(SinglePassEngine(real, "real"), InputError);
}

TEST_CASE("single-pass: identical results on 1 and 2 threads") {
  Network net = random_dense_network({64, 40, 30, 10}, 21, InputEncoding::Threshold);
  SinglePassEngine engine(net, "det");
  const std::int64_t n = 3 * SinglePassEngine::kChunkSamples + 17;
  const auto images = random_images(64, n, 4);
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) labels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i % 10);
  check_thread_independent(engine, images.data(), labels.data(), n);
}

TEST_CASE("rate: one IF layer fires floor(t·I/θ) times under constant current") {
  Network net = dense_chain({3, 3}, InputEncoding::Real);
  make_rate(net);
  std::get<DenseConnector>(net.projections[0].connector).weights = Eigen::MatrixXf::Identity(3, 3);
  net.populations[1].threshold = {1.0f, 1.0f, 0.5f};
  RateEngine engine(net, "if");
  RateOptions options;
  options.timesteps = 100;
  const std::vector<std::uint8_t> image{51, 255, 51};  // currents 0.2, 1, 0.2 (θ 0.5 → rate 0.4)
  const auto counts = engine.output_counts(image.data(), options);
  CHECK(std::abs(counts[0] - 20) <= 1);
  CHECK(counts[1] == 100);
  CHECK(std::abs(counts[2] - 40) <= 1);
}

TEST_CASE("rate: spike rates converge to the ReLU network's activations and its classes") {
  const auto relu = random_relu_net(/*seed=*/17);
  Network net = relu.rate_network();
  RateEngine engine(net, "relu");
  const std::int64_t n = 150;
  const auto images = random_images(relu.inputs, n, 77);
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(n));
  for (std::int64_t s = 0; s < n; ++s)
    labels[static_cast<std::size_t>(s)] = static_cast<std::uint8_t>(relu.classify(images.data() + s * relu.inputs));
  RateOptions options;
  options.timesteps = 400;
  const auto run = engine.run(images.data(), labels.data(), n, options);
  // Agreement with the ReLU network's classes grows with T and ends high.
  CHECK(run.accuracy_by_timestep[9] < run.accuracy_by_timestep[399]);
  CHECK(run.accuracy_by_timestep[399] >= 0.9);
  CHECK(run.spikes_per_sample_by_timestep[399] > run.spikes_per_sample_by_timestep[9]);
  CHECK(run.synaptic_events_per_sample() > 0);

  // Poisson input: same seed → same result on 1 and 2 threads; different seed → different spikes.
  options.poisson = true;
  options.timesteps = 50;
  RateRun one, two, other;
  {
    ThreadLimit limit(1);
    one = engine.run(images.data(), labels.data(), n, options);
  }
  {
    ThreadLimit limit(2);
    two = engine.run(images.data(), labels.data(), n, options);
  }
  options.seed = 2;
  other = engine.run(images.data(), labels.data(), n, options);
  CHECK(one.predictions == two.predictions);
  CHECK(one.spikes_per_sample_by_timestep == two.spikes_per_sample_by_timestep);
  CHECK(one.spikes_per_sample() != other.spikes_per_sample());
}

TEST_CASE("rate: rejects single-pass networks") {
  Network net = dense_chain({4, 3}, InputEncoding::Threshold);
  CHECK_THROWS_AS(RateEngine(net, "sp"), InputError);
}

namespace {
bool quick() { return std::getenv("GRINDSTONE_TEST_QUICK") != nullptr; }
}  // namespace

TEST_CASE("single-pass = float eval, class for class, on the Whetstone model (bit-plane input)") {
  const auto shared = grindstone::testing::require_shared("single-pass vs float eval on the Whetstone model");
  if (!shared) return;
  const std::int64_t n = quick() ? 200 : 1000;
  const auto model = keras::load_model(*shared / "models/whetstone/whetstone_dense_mnist.h5");
  const auto data = datasets::load("mnist", datasets::Split::Test, {}, n);
  passes::ConvertOptions options;
  options.input = InputEncoding::Bitplanes;
  const SinglePassEngine engine(passes::convert_single_pass(model, options).network, "whetstone");
  const auto run = engine.run(data);
  const auto eval = ann::evaluate(model, data, datasets::InputEncoding::Real, 0);
  CHECK(run.predictions == eval.predictions);
  CHECK(run.accuracy == doctest::Approx(eval.accuracy));
  CHECK(run.accuracy > 0.9);
  CHECK(run.synaptic_events_per_sample() > run.spikes_per_sample());

  // Threshold input against float eval on binarised pixels; and K = 3 temporal groups with
  // threshold biases give the same classes as K = 1.
  options.input = InputEncoding::Threshold;
  const SinglePassEngine binary(passes::convert_single_pass(model, options).network, "whetstone-threshold");
  const auto binary_run = binary.run(data);
  CHECK(binary_run.predictions == ann::evaluate(model, data, datasets::InputEncoding::Binary, 0).predictions);
  options.temporal_groups = 3;
  options.bias = passes::BiasMode::Threshold;
  const SinglePassEngine grouped(passes::convert_single_pass(model, options).network, "whetstone-k3");
  CHECK(grouped.run(data).predictions == binary_run.predictions);
}

TEST_CASE("run and compare on the command line") {
  const auto shared = grindstone::testing::require_shared("run/compare CLI");
  if (!shared) return;
  grindstone::testing::TempDir tmp("engines_cli");
  const auto net = tmp / "whetstone.snn.h5";
  const auto whetstone = (*shared / "models/whetstone/whetstone_dense_mnist.h5").string();
  auto r = grindstone::testing::run_cli("convert '" + whetstone + "' -o '" + net.string() + "' --input bitplanes");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = grindstone::testing::run_cli("run '" + net.string() + "' --engine single-pass --limit 300 --json --threads 2");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"engine", "samples", "accuracy", "wall_seconds", "samples_per_second", "spikes_per_sample",
                          "synaptic_events_per_sample"})
    CHECK_MESSAGE(j.contains(key), key);
  CHECK(j["engine"] == "single-pass");
  CHECK(j["samples"] == 300);
  CHECK(j["accuracy"].get<double>() > 0.9);
  // The rate engine refuses a single-pass network with exit code 2 and a one-line message.
  r = grindstone::testing::run_cli("run '" + net.string() + "' --engine rate --limit 10");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("single-pass") != std::string::npos);

  const auto mlp = (*shared / "models/keras/keras2_mlp_logits.h5").string();
  const auto plot = tmp / "compare.png";
  r = grindstone::testing::run_cli("compare '" + mlp + "' --sharpened '" + whetstone + "' --limit " +
                                   (quick() ? "30" : "100") + " --timesteps 4,32 --plot '" + plot.string() +
                                   "' --json --threads 2");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto c = nlohmann::json::parse(r.out);
  REQUIRE(c["rate"].size() == 2);
  CHECK(c["rate"][0]["timesteps"] == 4);
  CHECK(c["rate"][1]["spikes_per_sample"].get<double>() > c["rate"][0]["spikes_per_sample"].get<double>());
  CHECK(c["rate"][1]["accuracy"].get<double>() > 0.8);
  CHECK(c["single_pass"]["engine"] == "single-pass");
  CHECK(std::filesystem::file_size(plot) > 1000);
}

TEST_CASE("rate engine on a rate-converted ReLU MLP approaches its float accuracy") {
  const auto shared = grindstone::testing::require_shared("rate engine on keras2_mlp_logits");
  if (!shared) return;
  const auto model = keras::load_model(*shared / "models/keras/keras2_mlp_logits.h5");
  const auto training = datasets::load("mnist", datasets::Split::Train, {}, 2000);
  const auto test = datasets::load("mnist", datasets::Split::Test, {}, quick() ? 100 : 300);
  passes::RateConversionOptions options;
  options.normalisation_samples = 500;
  const RateEngine engine(passes::convert_for_rate(model, training, options).network, "mlp");
  RateOptions rate;
  rate.timesteps = 64;
  const auto run = engine.run(test, rate);
  const auto ann_accuracy = ann::evaluate(model, test, datasets::InputEncoding::Real, 0).accuracy;
  CHECK(run.accuracy_by_timestep[63] > run.accuracy_by_timestep[3]);
  CHECK(run.accuracy_by_timestep[63] >= ann_accuracy - 0.03);
}

TEST_CASE("rate: the softmax layer is normalised by its logits, so the spike-count read-out ranks classes") {
  const auto shared = grindstone::testing::require_shared("rate spike-count read-out on keras3_cnn_legacy");
  if (!shared) return;
  const auto model = keras::load_model(*shared / "models/keras/keras3_cnn_legacy.h5");
  REQUIRE(model.layers[static_cast<std::size_t>(model.output)].keras_class == "Activation");
  const auto training = datasets::load("mnist", datasets::Split::Train, {}, 1000);
  const auto test = datasets::load("mnist", datasets::Split::Test, {}, quick() ? 40 : 200);
  passes::RateConversionOptions options;
  options.normalisation_samples = 300;
  const auto converted = passes::convert_for_rate(model, training, options);
  // The logits of this CNN reach well above 1: λ = 1 would saturate every output neuron.
  CHECK(converted.lambdas.back() > 2.0);
  const RateEngine engine(converted.network, "cnn");
  RateOptions rate;
  rate.timesteps = 64;
  const auto run = engine.run(test, rate);
  const auto ann_accuracy = ann::evaluate(model, test, datasets::InputEncoding::Real, 0).accuracy;
  CHECK(run.accuracy_by_timestep[63] >= ann_accuracy - 0.01);
}

TEST_CASE("single-pass = float eval, class for class, on the trainer's sharpened networks (dense and conv)") {
  // tests/data: files written by `grindstone sharpen` (BN folded); docs/benchmarks.md has the
  // commands. Float weights: exact; Q4.8: the dense-tile path equals the event-driven path.
  const auto shared = grindstone::testing::require_shared("single-pass vs eval on tests/data networks (MNIST)");
  if (!shared) return;
  const std::filesystem::path data_dir = grindstone::source_dir() / "tests/data";
  // The whole test set (issue 4's exactness check; the one full-size e2e test), 100 under ASan.
  const std::int64_t n = quick() ? 100 : 0;
  const auto data = datasets::load("mnist", datasets::Split::Test, {}, n);
  struct Case {
    const char* file;
    InputEncoding input;
    datasets::InputEncoding eval_input;
  };
  for (const Case& c : {Case{"sharpened_mnist_dense100_100_binary.h5", InputEncoding::Threshold, datasets::InputEncoding::Binary},
                        Case{"sharpened_mnist_dense256_64_real.h5", InputEncoding::Bitplanes, datasets::InputEncoding::Real},
                        Case{"sharpened_mnist_cnn32x3_64x3_real.h5", InputEncoding::Bitplanes, datasets::InputEncoding::Real}}) {
    INFO(c.file);
    const auto model = keras::load_model(data_dir / c.file);
    passes::ConvertOptions options;
    options.input = c.input;
    const SinglePassEngine engine(passes::convert_single_pass(model, options).network, c.file);
    const auto run = engine.run(data);
    const auto eval = ann::evaluate(model, data, c.eval_input, 0);
    CHECK(run.predictions == eval.predictions);
    CHECK(run.accuracy > 0.85);
    if (c.input != InputEncoding::Threshold) continue;
    options.weights = passes::parse_weight_format("Q4.8");
    const auto q = passes::convert_single_pass(model, options).network;
    const SinglePassEngine tiles(q, "tiles"), general(q, "general", SinglePassEngine::Path::EventDriven);
    CHECK(tiles.path() == "dense-tiles");
    const auto a = tiles.run(data), b = general.run(data);
    CHECK(a.predictions == b.predictions);
    CHECK(a.synaptic_events == b.synaptic_events);
  }
}

TEST_CASE("decode: bit-set decode equals decode_bits (n-hot with ties, spike count)") {
  for (const std::int64_t width : {7, 64, 100, 130}) {
    Decode nhot;
    nhot.kind = Decode::Kind::NHotKey;
    nhot.classes = 5;
    nhot.key = Eigen::MatrixXf(5, width);
    for (Eigen::Index c = 0; c < 5; ++c)
      for (Eigen::Index j = 0; j < width; ++j)
        nhot.key(c, j) = (random_bits(7, 1, static_cast<std::uint64_t>(c * width + j)) & 1) ? 1.0f : 0.0f;
    nhot.key.row(3) = nhot.key.row(1);  // a guaranteed tie: the lower class must win
    Decode count;
    count.kind = Decode::Kind::SpikeCount;
    count.classes = 5;
    for (const Decode& d : {nhot, count}) {
      const Decoder decoder(d, width, "bits");
      for (std::uint64_t s = 0; s < 200; ++s) {
        std::vector<std::uint8_t> fired(static_cast<std::size_t>(width));
        std::vector<std::uint64_t> words(static_cast<std::size_t>((width + 63) / 64), 0);
        const int density = static_cast<int>(s % 5);  // includes all-silent samples
        for (std::int64_t j = 0; j < width; ++j) {
          fired[static_cast<std::size_t>(j)] = static_cast<int>(random_bits(s, 2, static_cast<std::uint64_t>(j)) % 8) < density;
          if (fired[static_cast<std::size_t>(j)]) words[static_cast<std::size_t>(j / 64)] |= std::uint64_t{1} << (j % 64);
        }
        CHECK(decoder.decode_words(words) == decoder.decode_bits(fired));
      }
    }
  }
}

TEST_CASE("single-pass on the shipped conv network (Q4.8, threshold and bit-plane input) = direct evaluation, sample by sample") {
  const auto shared = grindstone::testing::require_shared("shipped conv network vs direct evaluation (MNIST)");
  if (!shared) return;
  const auto model = keras::load_model(grindstone::source_dir() / "models/sharpened/mnist_conv32x5_64x5_500_real.h5");
  const auto data = datasets::load("mnist", datasets::Split::Test, {}, 6);
  for (const InputEncoding input : {InputEncoding::Threshold, InputEncoding::Bitplanes}) {
    passes::ConvertOptions options;
    options.input = input;
    options.weights = passes::parse_weight_format("Q4.8");
    const Network net = passes::convert_single_pass(model, options).network;
    const SinglePassEngine engine(net, "conv");
    for (std::int64_t s = 0; s < data.size(); ++s) {
      CAPTURE(s);
      const std::uint8_t* pixels = data.pixels.data() + s * data.pixels_per_image();
      const std::vector<std::uint8_t> image(pixels, pixels + data.pixels_per_image());
      std::vector<std::vector<std::uint8_t>> fired;
      engine.run_sample(image.data(), &fired);
      const auto expected = direct_evaluation(net, image);
      for (std::size_t p = 0; p < net.populations.size(); ++p) {
        CAPTURE(p);
        CHECK(fired[p] == expected[p]);
      }
    }
  }
}
