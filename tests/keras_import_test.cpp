// End-to-end: every real model in ../shared/models imports with the layers, shapes and
// parameter counts Keras reports (computed by hand below from the architectures), through the
// library and through `grindstone inspect --json`; and the imported models reach their known
// MNIST accuracy on a prefix of the test set (this is what proves kernel layouts, the
// channels_first translation and the Flatten order).
#include <doctest/doctest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "converter/keras/import.hpp"
#include "tests/test_support.hpp"

namespace {

using grindstone::Shape;
namespace ann = grindstone::ann;
using grindstone::testing::require_shared;
using grindstone::testing::run_cli;

struct ExpectedLayer {
  std::string name, keras_class;
  Shape shape;
  std::int64_t params;
};

struct ExpectedModel {
  std::string file, architecture, format, keras_version;
  std::vector<ExpectedLayer> layers;
  std::int64_t params_total;
  double accuracy;  ///< README's MNIST test accuracy (all 10,000 images)
};

// Keras param counts: Dense in·units + units; Conv2D kh·kw·cin·filters + filters;
// BatchNormalization 4·channels (gamma, beta, moving mean and variance).
std::vector<ExpectedModel> expected_models() {
  return {
      {"keras/keras2_mlp_logits.h5", "", "keras2-h5", "2.4.0",
       {{"flatten_1_input", "InputLayer", {28, 28}, 0},
        {"flatten_1", "Flatten", {784}, 0},
        {"dense_2", "Dense", {128}, 784 * 128 + 128},
        {"dense_2/activation", "Activation", {128}, 0},
        {"dropout_1", "Dropout", {128}, 0},
        {"dense_3", "Dense", {10}, 128 * 10 + 10}},
       101770, 0.9768},
      {"keras/keras2_lenet5_channels_first.h5", "", "keras2-h5", "2.2.4",
       {{"conv2d_1_input", "InputLayer", {28, 28, 1}, 0},
        {"conv2d_1", "Conv2D", {24, 24, 6}, 5 * 5 * 1 * 6 + 6},
        {"conv2d_1/activation", "Activation", {24, 24, 6}, 0},
        {"max_pooling2d_1", "MaxPooling2D", {12, 12, 6}, 0},
        {"conv2d_2", "Conv2D", {8, 8, 16}, 5 * 5 * 6 * 16 + 16},
        {"conv2d_2/activation", "Activation", {8, 8, 16}, 0},
        {"max_pooling2d_2", "MaxPooling2D", {4, 4, 16}, 0},
        {"dropout_1", "Dropout", {4, 4, 16}, 0},
        {"conv2d_3", "Conv2D", {4, 4, 120}, 5 * 5 * 16 * 120 + 120},
        {"conv2d_3/activation", "Activation", {4, 4, 120}, 0},
        {"flatten_1", "Flatten", {1920}, 0},
        {"dense_1", "Dense", {84}, 1920 * 84 + 84},
        {"dense_1/activation", "Activation", {84}, 0},
        {"dense_2", "Dense", {10}, 84 * 10 + 10},
        {"dense_2/activation", "Activation", {10}, 0}},
       212906, 0.9914},
      {"keras/keras3_cnn_legacy.h5", "", "keras3-legacy-h5", "3.1.1",
       {{"input_layer", "InputLayer", {28, 28, 1}, 0},
        {"conv2d", "Conv2D", {26, 26, 32}, 3 * 3 * 1 * 32 + 32},
        {"conv2d/activation", "Activation", {26, 26, 32}, 0},
        {"max_pooling2d", "MaxPooling2D", {13, 13, 32}, 0},
        {"conv2d_1", "Conv2D", {11, 11, 64}, 3 * 3 * 32 * 64 + 64},
        {"conv2d_1/activation", "Activation", {11, 11, 64}, 0},
        {"max_pooling2d_1", "MaxPooling2D", {5, 5, 64}, 0},
        {"flatten", "Flatten", {1600}, 0},
        {"dropout", "Dropout", {1600}, 0},
        {"dense", "Dense", {10}, 1600 * 10 + 10},
        {"dense/activation", "Activation", {10}, 0}},
       34826, 0.9928},
      {"keras/keras3_mlp.keras", "", "keras3-zip", "3.11.3",
       {{"input_layer", "InputLayer", {784}, 0},
        {"dense", "Dense", {128}, 784 * 128 + 128},
        {"dense/activation", "Activation", {128}, 0},
        {"dense_1", "Dense", {10}, 128 * 10 + 10},
        {"dense_1/activation", "Activation", {10}, 0}},
       101770, 0.9797},
      {"keras/keras2_cnn_weights_only.h5", "keras/keras2_cnn_weights_only.json", "keras2-weights+json", "2.3.0-tf",
       {{"conv2d_input", "InputLayer", {28, 28, 1}, 0},
        {"conv2d", "Conv2D", {26, 26, 64}, 3 * 3 * 1 * 64 + 64},
        {"conv2d/activation", "Activation", {26, 26, 64}, 0},
        {"max_pooling2d", "MaxPooling2D", {13, 13, 64}, 0},
        {"conv2d_1", "Conv2D", {11, 11, 128}, 3 * 3 * 64 * 128 + 128},
        {"conv2d_1/activation", "Activation", {11, 11, 128}, 0},
        {"max_pooling2d_1", "MaxPooling2D", {5, 5, 128}, 0},
        {"flatten", "Flatten", {3200}, 0},
        {"dense", "Dense", {128}, 3200 * 128 + 128},
        {"dense/activation", "Activation", {128}, 0},
        {"dense_1", "Dense", {10}, 128 * 10 + 10},
        {"dense_1/activation", "Activation", {10}, 0}},
       485514, 0.9895},
      {"keras/keras3_mlp_batchnorm.h5", "", "keras3-legacy-h5", "3.13.2",
       {{"input_layer", "InputLayer", {784}, 0},
        {"dense", "Dense", {256}, 784 * 256 + 256},
        {"dense/activation", "Activation", {256}, 0},
        {"batch_normalization", "BatchNormalization", {256}, 4 * 256},
        {"dropout", "Dropout", {256}, 0},
        {"dense_1", "Dense", {128}, 256 * 128 + 128},
        {"dense_1/activation", "Activation", {128}, 0},
        {"batch_normalization_1", "BatchNormalization", {128}, 4 * 128},
        {"dropout_1", "Dropout", {128}, 0},
        {"dense_2", "Dense", {64}, 128 * 64 + 64},
        {"dense_2/activation", "Activation", {64}, 0},
        {"dropout_2", "Dropout", {64}, 0},
        {"dense_3", "Dense", {10}, 64 * 10 + 10},
        {"dense_3/activation", "Activation", {10}, 0}},
       244298, 0.9830},
      {"whetstone/whetstone_dense_mnist.h5", "", "keras2-h5", "2.8.0",
       {{"dense_input", "InputLayer", {784}, 0},
        {"dense", "Dense", {256}, 784 * 256 + 256},
        {"spiking_b_relu", "Spiking_BRelu", {256}, 0},
        {"dense_1", "Dense", {64}, 256 * 64 + 64},
        {"spiking_b_relu_1", "Spiking_BRelu", {64}, 0},
        {"dense_2", "Dense", {100}, 64 * 100 + 100},
        {"spiking_b_relu_2", "Spiking_BRelu", {100}, 0},
        {"softmax__decode", "Softmax_Decode", {10}, 0}},
       223908, 0.9644},
  };
}

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::string inspect_args(const std::filesystem::path& models, const ExpectedModel& m) {
  std::string args = quoted(models / m.file);
  if (!m.architecture.empty()) args += " --architecture " + quoted(models / m.architecture);
  return args;
}

}  // namespace

TEST_CASE("every shared model imports with Keras's layers, shapes and parameter counts") {
  const auto shared = require_shared("Keras import of the shared models");
  if (!shared) return;
  const auto models = *shared / "models";
  std::set<std::string> covered;
  for (const auto& m : expected_models()) {
    CAPTURE(m.file);
    covered.insert(m.file);
    std::optional<std::filesystem::path> arch;
    if (!m.architecture.empty()) arch = models / m.architecture;
    const ann::Model model = grindstone::keras::load_model(models / m.file, arch);
    CHECK(model.source.format == m.format);
    CHECK(model.source.keras_version == m.keras_version);
    REQUIRE(model.layers.size() == m.layers.size());
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
      CAPTURE(m.layers[i].name);
      CHECK(model.layers[i].name == m.layers[i].name);
      CHECK(model.layers[i].keras_class == m.layers[i].keras_class);
      CHECK(model.layers[i].output_shape == m.layers[i].shape);
      CHECK(model.layers[i].param_count() == m.layers[i].params);
    }
    CHECK(model.param_count() == m.params_total);
    CHECK(model.output == static_cast<int>(model.layers.size()) - 1);
  }
  // Every model file in the folder is covered above (a new fixture needs its expectations).
  for (const auto& entry : std::filesystem::recursive_directory_iterator(models)) {
    const auto ext = entry.path().extension();
    if (ext != ".h5" && ext != ".keras") continue;
    CHECK_MESSAGE(covered.count(std::filesystem::relative(entry.path(), models).string()) == 1,
                  "no expectations for ", entry.path());
  }
}

TEST_CASE("channels_first LeNet-5: Flatten(data_format=channels_first) flattens in HWC order") {
  const auto shared = require_shared("channels_first import");
  if (!shared) return;
  const auto model = grindstone::keras::load_model(*shared / "models/keras/keras2_lenet5_channels_first.h5");
  const auto& flatten = model.layers.at(static_cast<std::size_t>(model.find("flatten_1")));
  CHECK(flatten.as<ann::Flatten>().order == ann::Flatten::Order::HWC);
  // Keras's (1, 28, 28) input is our (28, 28, 1).
  CHECK(model.input_shape() == Shape{28, 28, 1});
}

TEST_CASE("Whetstone Softmax_Decode key and Spiking_BRelu sharpness are imported") {
  const auto shared = require_shared("Whetstone import");
  if (!shared) return;
  const auto model = grindstone::keras::load_model(*shared / "models/whetstone/whetstone_dense_mnist.h5");
  const auto& key = model.layers.back().as<ann::SoftmaxDecode>().key;
  CHECK(key.rows() == 10);
  CHECK(key.cols() == 100);
  CHECK(key.sum() == doctest::Approx(100.0));  // each of the 100 outputs votes for one class
  CHECK(key(0, 0) == 1.0f);
  CHECK(key(1, 10) == 1.0f);
  const auto& brelu = model.layers.at(2).as<ann::Activation>();
  CHECK(brelu.kind == ann::ActivationKind::SpikingBRelu);
  CHECK(brelu.sharpness == doctest::Approx(1.0));
}

TEST_CASE("grindstone inspect --json reports the contract keys for every shared model") {
  const auto shared = require_shared("inspect --json");
  if (!shared) return;
  const auto models = *shared / "models";
  for (const auto& m : expected_models()) {
    CAPTURE(m.file);
    const auto r = run_cli("inspect " + inspect_args(models, m) + " --json");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto report = nlohmann::json::parse(r.out);
    CHECK(report.at("format") == m.format);
    CHECK(report.at("keras_version") == m.keras_version);
    CHECK(report.at("params_total") == m.params_total);
    const auto& layers = report.at("layers");
    REQUIRE(layers.size() == m.layers.size());
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
      CHECK(layers[i].at("name") == m.layers[i].name);
      CHECK(layers[i].at("class") == m.layers[i].keras_class);
      CHECK(layers[i].at("output_shape").get<std::vector<std::int64_t>>() == m.layers[i].shape.dims);
      CHECK(layers[i].at("params") == m.layers[i].params);
    }
  }
  // Human output: a table with the total.
  const auto human = run_cli("inspect " + quoted(models / "keras/keras3_mlp.keras"));
  CHECK(human.exit_code == 0);
  CHECK(human.out.find("total params: 101770") != std::string::npos);
  CHECK(human.out.find("dense_1/activation") != std::string::npos);
}

TEST_CASE("imported models reach their known MNIST accuracy (test-set prefix, via grindstone eval)") {
  const auto shared = require_shared("imported model accuracy");
  if (!shared) return;
  const int limit = std::getenv("GRINDSTONE_TEST_QUICK") ? 100 : 500;
  const auto models = *shared / "models";
  for (const auto& m : expected_models()) {
    CAPTURE(m.file);
    const auto r = run_cli("eval " + inspect_args(models, m) + " --limit " + std::to_string(limit) + " --json");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto report = nlohmann::json::parse(r.out);
    CHECK(report.at("samples") == limit);
    // The first images of the MNIST test set are easier than the rest; a wrong kernel layout,
    // Flatten order or channel translation drops accuracy far below this bound.
    CHECK(report.at("accuracy").get<double>() >= m.accuracy - 0.03);
  }
}

TEST_CASE("channels_first LeNet-5 reproduces its published accuracy on all 10,000 test images") {
  const auto shared = require_shared("LeNet-5 full accuracy");
  if (!shared) return;
  if (std::getenv("GRINDSTONE_TEST_QUICK")) return;  // ~5 s in Release, too slow under ASan
  const auto r = run_cli("eval '" + (*shared / "models/keras/keras2_lenet5_channels_first.h5").string() + "' --json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto report = nlohmann::json::parse(r.out);
  CHECK(report.at("samples") == 10000);
  CHECK(report.at("correct") == 9914);  // the file name of the source model is its accuracy: 99.14
}
