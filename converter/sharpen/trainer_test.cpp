// Training on a small MNIST subset, determinism across thread counts, BN folding and the saved
// file's round trip through the importer.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <unistd.h>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/sharpen/architecture.hpp"
#include "converter/sharpen/key.hpp"
#include "converter/sharpen/keras_writer.hpp"
#include "converter/sharpen/trainer.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"
#include "testing/shared.hpp"

using namespace grindstone;
using namespace grindstone::sharpen;

namespace {

struct Data {
  datasets::Dataset train, test;
  Batch train_x, test_x;
  std::vector<int> train_y, test_y;
};

/// The first `train_n`/`test_n` MNIST samples; without ../shared a failure, or nullopt when
/// skipping is allowed (testing/shared.hpp).
std::optional<Data> load_mnist(std::int64_t train_n, std::int64_t test_n, datasets::InputEncoding encoding) {
  if (!grindstone::testing::require_shared("MNIST for the trainer")) return std::nullopt;
  Data d;
  d.train = datasets::load("mnist", datasets::Split::Train, {}, train_n);
  d.test = datasets::load("mnist", datasets::Split::Test, {}, test_n);
  d.train_x = datasets::encode_all(d.train, encoding);
  d.test_x = datasets::encode_all(d.test, encoding);
  d.train_y.assign(d.train.labels.begin(), d.train.labels.end());
  d.test_y.assign(d.test.labels.begin(), d.test.labels.end());
  return d;
}

std::vector<std::vector<float>> snapshot(Network& net) {
  std::vector<std::vector<float>> all;
  for (const auto& p : net.parameters()) all.emplace_back(p.value, p.value + p.size);
  return all;
}

struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".h5")) {}
  ~TempFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("--arch grammar builds the documented layers and rejects bad items") {
  BuildOptions options;
  Network dense = build_from_spec("dense:256,64", options);
  std::vector<std::string> classes;
  for (const auto& l : dense.layers()) classes.push_back(l->keras_class());
  CHECK(classes == std::vector<std::string>{"Dense", "Spiking_BRelu", "Dense", "Spiking_BRelu", "Dense",
                                            "Spiking_BRelu", "Softmax_Decode"});
  CHECK(dense.input_shape() == Shape{784});
  CHECK(dense.layers()[0]->name() == "dense");
  CHECK(dense.layers()[2]->name() == "dense_1");
  CHECK(dense.layers()[5]->name() == "spiking_b_relu_2");
  Network conv = build_from_spec("conv:32x5,pool:2,conv:64x5:valid,pool:2,dense:500,bn", options);
  CHECK(conv.input_shape() == Shape{28, 28, 1});
  CHECK(conv.layers()[3]->output_shape() == Shape{14, 14, 32});  // conv, bn, spiking, pool
  CHECK(conv.layers()[7]->output_shape() == Shape{5, 5, 64});
  CHECK(conv.spiking_layers().size() == 4);
  CHECK(conv.output_shape() == Shape{10});
  for (const char* bad : {"", "dense", "dense:0", "dense:x", "64", "conv:32", "conv:32x5:full", "pool:a",
                          "dense:10,conv:3x3", "dropout:1.5", "lstm:5"})
    CHECK_THROWS_AS(build_from_spec(bad, options), InputError);
}

TEST_CASE("short MNIST run sharpens fully and classifies well above chance") {
  const auto data = load_mnist(4000, 1000, datasets::InputEncoding::Real);
  if (!data) return;
  BuildOptions options;
  options.seed = 3;
  Network net = build_from_spec("dense:64", options);
  SimpleSharpener sharpener(/*start_epoch=*/2, /*steps=*/4);  // 2 layers, 8 steps: sharp after epoch 10
  TrainConfig config;
  config.max_epochs = 15;
  config.seed = 3;
  const auto result = train(net, sharpener, data->train_x, data->train_y, data->test_x, data->test_y, config);
  CHECK(result.fully_sharpened);
  CHECK(result.epochs == 11);
  for (double s : net.sharpness()) CHECK(s == 1.0);
  MESSAGE("float " << result.accuracy_float << ", binary " << result.accuracy_binary);
  // Measured 0.856 / 0.758 (chance is 0.10); a broken gradient or schedule lands far below.
  CHECK(result.accuracy_float > 0.80);
  CHECK(result.accuracy_binary > 0.65);
  CHECK(result.accuracy_binary == doctest::Approx(accuracy(net, data->test_x, data->test_y)));
}

TEST_CASE("augmentation shifts images with zero fill") {
  // 3 × 2 image, 2 channels: value = 10·y + x + 100·c.
  std::vector<float> in(12), out(12);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 2; ++c) in[static_cast<std::size_t>((y * 2 + x) * 2 + c)] = static_cast<float>(10 * y + x + 100 * c);
  shift_image(in.data(), 3, 2, 2, 1, -1, out.data());  // one column right, one row up
  const auto at = [&](int y, int x, int c) { return out[static_cast<std::size_t>((y * 2 + x) * 2 + c)]; };
  CHECK(at(0, 0, 0) == 0.0f);    // column 0 came from outside
  CHECK(at(0, 1, 0) == 10.0f);   // from (1, 0)
  CHECK(at(1, 1, 1) == 120.0f);  // from (2, 0), channel 1
  CHECK(at(2, 1, 0) == 0.0f);    // row 2 came from outside
  shift_image(in.data(), 3, 2, 2, 0, 0, out.data());
  CHECK(out == in);
}

TEST_CASE("same seed gives bit-identical weights with 1 and 2 threads (dense, conv, BN, dropout, shifts)") {
  const auto data = load_mnist(300, 10, datasets::InputEncoding::Binary);
  if (!data) return;
  for (const char* spec : {"dense:32,dropout:0.2,dense:16", "conv:4x3,pool:2,conv:6x3:valid,bn,dense:12"}) {
    std::vector<std::vector<float>> weights[2];
    for (int threads : {1, 2}) {
      ThreadLimit limit(threads);
      BuildOptions options;
      options.seed = 9;
      options.key_width = 20;
      Network net = build_from_spec(spec, options);
      SimpleSharpener sharpener(0, 1);
      TrainConfig config;
      config.max_epochs = 2;
      config.batch_size = 64;
      config.seed = 9;
      config.progress = false;
      config.augment_shift = 2;
      config.image_height = 28;
      config.image_width = 28;
      train(net, sharpener, data->train_x, data->train_y, Batch(), {}, config);
      weights[threads - 1] = snapshot(net);
    }
    INFO(spec);
    CHECK(weights[0] == weights[1]);
  }
}

TEST_CASE("BatchNormalization folding keeps the network's outputs") {
  const auto data = load_mnist(256, 200, datasets::InputEncoding::Real);
  if (!data) return;
  BuildOptions options;
  options.key_width = 30;
  // BN directly after Conv2D/Dense (folded backwards) ...
  Network net = build_from_spec("conv:3x3:valid,bn,pool:2,dense:20,bn", options);
  // ... and BN after an activation, as in Keras models with Dense(relu) + BN (folded forwards).
  Network after(Shape{784});
  after.add(std::make_unique<DenseLayer>("dense", 784, 20));
  after.add(std::make_unique<SpikingBReluLayer>("spiking_b_relu", Shape{20}));
  after.add(std::make_unique<BatchNormLayer>("batch_normalization", Shape{20}));
  after.add(std::make_unique<DropoutLayer>("dropout", Shape{20}, 0.3f, 1));
  after.add(std::make_unique<DenseLayer>("dense_1", 20, 30));
  after.add(std::make_unique<SpikingBReluLayer>("spiking_b_relu_1", Shape{30}));
  after.add(std::make_unique<SoftmaxDecodeLayer>("softmax__decode", generate_key(10, 30, true, 1)));
  glorot_uniform(dynamic_cast<DenseLayer&>(*after.layers()[0]).kernel, 784, 20, 1, 1);
  glorot_uniform(dynamic_cast<DenseLayer&>(*after.layers()[4]).kernel, 20, 30, 1, 2);
  for (Network* n : {&net, &after}) {
    SimpleSharpener sharpener(0, 1);
    TrainConfig config;
    config.max_epochs = 1;
    config.progress = false;
    train(*n, sharpener, data->train_x, data->train_y, Batch(), {}, config);
    n->set_sharpness(std::vector<double>(n->spiking_layers().size(), 0.3));
    const ann::Model folded = n->to_ann_model("m", true);
    const ann::Model unfolded = n->to_ann_model("m", false);
    int bn_left = 0;
    for (const auto& l : folded.layers) bn_left += l.is<ann::BatchNorm>() ? 1 : 0;
    CHECK(bn_left == 0);
    const auto a = ann::ReferenceInference(folded).run(data->test_x, 1);
    const auto b = ann::ReferenceInference(unfolded).run(data->test_x, 1);
    CHECK((a - b).cwiseAbs().maxCoeff() < 1e-3);
  }
}

TEST_CASE("saved .h5 reloads through the importer with the same accuracy") {
  const auto data = load_mnist(2000, 500, datasets::InputEncoding::Binary);
  if (!data) return;
  BuildOptions options;
  options.seed = 5;
  options.key_width = 40;
  options.overlapping_key = false;
  Network net = build_from_spec("conv:4x3,pool:2,dense:32,bn", options);
  SimpleSharpener sharpener(1, 1);
  TrainConfig config;
  config.max_epochs = 5;
  config.progress = false;
  const auto result = train(net, sharpener, data->train_x, data->train_y, data->test_x, data->test_y, config);
  TempFile file("grindstone-sharpen-roundtrip");
  save_keras_h5(net.to_ann_model("sequential", true), file.path);
  const ann::Model loaded = keras::load_model(file.path);
  CHECK(loaded.source.format == "grindstone");
  int spiking = 0, decode = 0;
  for (const auto& l : loaded.layers) {
    if (l.is<ann::Activation>() && l.as<ann::Activation>().kind == ann::ActivationKind::SpikingBRelu) {
      ++spiking;
      CHECK(l.as<ann::Activation>().sharpness == 1.0f);
    }
    if (l.is<ann::SoftmaxDecode>()) {
      ++decode;
      CHECK(l.as<ann::SoftmaxDecode>().key == std::get<ann::SoftmaxDecode>(net.layers().back()->to_ann()).key);
    }
  }
  CHECK(spiking == 3);
  CHECK(decode == 1);
  const auto ev = ann::evaluate(loaded, data->test, datasets::InputEncoding::Binary, 1);
  MESSAGE("binary accuracy " << result.accuracy_binary << ", reloaded " << ev.accuracy);
  CHECK(ev.accuracy == doctest::Approx(result.accuracy_binary).epsilon(0.005));
  CHECK(result.accuracy_binary > 0.2);  // a trained network, not chance (0.1)
}

TEST_CASE("--from: the new Softmax_Decode head starts from the replaced classifier") {
  const auto shared = grindstone::testing::require_shared("the Keras 3 MLP for the warm-started head");
  if (!shared) return;
  const auto model_path = *shared / "models/keras/keras3_mlp_batchnorm.h5";
  const ann::Model source = keras::load_model(model_path);
  const auto test = datasets::load("mnist", datasets::Split::Test, {}, 500);
  const Batch x = datasets::encode_all(test, datasets::InputEncoding::Real);
  for (const bool overlapping : {true, false}) {
    BuildOptions options;
    options.overlapping_key = overlapping;
    Network net = build_from_model(source, options);
    // Untrained (sharpness 0), the network must already classify as the source model does;
    // a randomly initialised head would sit near chance (0.1).
    const auto predicted = net.predict(x);
    int correct = 0;
    for (std::size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == test.labels[i];
    const double accuracy = static_cast<double>(correct) / static_cast<double>(predicted.size());
    MESSAGE("overlapping " << overlapping << ": accuracy before any training " << accuracy);
    CHECK(accuracy > 0.9);
  }
}

TEST_CASE("validation selects the kept epoch; the test set is only reported") {
  const auto data = load_mnist(3000, 500, datasets::InputEncoding::Real);
  if (!data) return;
  const Batch train_x = data->train_x.topRows(2500), val_x = data->train_x.bottomRows(500);
  const std::vector<int> train_y(data->train_y.begin(), data->train_y.begin() + 2500),
      val_y(data->train_y.begin() + 2500, data->train_y.end());
  BuildOptions options;
  options.seed = 5;
  TrainConfig config;
  config.seed = 5;
  config.progress = false;
  SUBCASE("fully sharpened: the best of the fully sharpened epochs") {
    Network net = build_from_spec("dense:32", options);
    SimpleSharpener sharpener(/*start_epoch=*/1, /*steps=*/2);  // sharp after epoch 4, stop after 5
    config.max_epochs = 10;
    const auto result = train(net, sharpener, train_x, train_y, val_x, val_y, data->test_x, data->test_y, config);
    REQUIRE(result.fully_sharpened);
    CHECK(result.epochs == 6);
    const auto& selected = result.history.at(static_cast<std::size_t>(result.selected_epoch));
    CHECK(selected.fully_sharpened);
    double best = 0.0;
    for (const auto& r : result.history) {
      if (r.fully_sharpened) best = std::max(best, r.validation_accuracy_binary);
      CHECK(r.test_accuracy_binary == -1.0);  // the test set is not looked at per epoch
    }
    CHECK(result.validation_accuracy == best);
    CHECK(accuracy(net, val_x, val_y) == result.validation_accuracy);
    CHECK(result.accuracy_binary == accuracy(net, data->test_x, data->test_y));
    CHECK(result.validation_accuracy_float > 0.5);
  }
  SUBCASE("guard stops first: the best epoch at sharpness 1, weights restored") {
    Network net = build_from_spec("dense:32", options);
    SimpleSharpener sharpener(/*start_epoch=*/1, /*steps=*/20);
    config.max_epochs = 6;
    const auto result = train(net, sharpener, train_x, train_y, val_x, val_y, data->test_x, data->test_y, config);
    CHECK_FALSE(result.fully_sharpened);
    double best = -1.0;
    int best_epoch = -1;
    for (const auto& r : result.history)
      if (r.validation_accuracy_binary >= best) {
        best = r.validation_accuracy_binary;
        best_epoch = r.epoch;
      }
    CHECK(result.selected_epoch == best_epoch);
    CHECK(result.validation_accuracy == best);
    // The network holds the selected epoch's weights (at sharpness 1), not the last epoch's.
    CHECK(accuracy(net, val_x, val_y) == result.validation_accuracy);
  }
}
