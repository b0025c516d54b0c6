// The zoo's architectures have Keras's exact parameter counts (keras.applications with the
// ImageNet top: VGG16 138,357,544; ResNet50 25,636,712; MobileNet 4,253,864), and the files it
// writes import back with the same layers and counts and run through the reference inference.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "common/error.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/keras/model_config.hpp"
#include "converter/zoo/zoo.hpp"

using namespace grindstone;

namespace {

std::filesystem::path scratch(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("grindstone_zoo_" + std::to_string(::getpid()) + "_" + name);
}

/// Writes `graph`, imports it, and checks the importer sees the zoo's layers and counts.
ann::Model round_trip(const zoo::Graph& graph, const std::string& file) {
  const auto path = scratch(file);
  graph.save(path, 7);
  const auto model = keras::load_model(path);
  std::filesystem::remove(path);
  CHECK(model.param_count() == graph.params());
  for (const auto& l : graph.layers()) {
    CAPTURE(l.name);
    const int i = model.find(l.name);
    REQUIRE(i >= 0);
    const int fused = model.find(l.name + "/activation");  // fused activations are split off
    CHECK(model.layers[static_cast<std::size_t>(fused >= 0 ? fused : i)].output_shape == l.output_shape);
    CHECK(model.layers[static_cast<std::size_t>(i)].param_count() == l.params());
  }
  return model;
}

void check_runs(const ann::Model& model) {
  ann::RowMatrix x = ann::RowMatrix::Random(2, model.input_shape().size());
  const auto y = ann::ReferenceInference(model).run(x, 1);
  CHECK(y.allFinite());
  for (Eigen::Index r = 0; r < y.rows(); ++r) CHECK(y.row(r).sum() == doctest::Approx(1.0).epsilon(1e-4));
}

}  // namespace

TEST_CASE("ImageNet configurations have Keras's parameter counts") {
  CHECK(zoo::build("vgg16").params() == 138357544);
  CHECK(zoo::build("resnet50").params() == 25636712);
  CHECK(zoo::build("mobilenet").params() == 4253864);
  // MACs: VGG16's first convolution alone is 224·224·64·(3·3·3).
  CHECK(zoo::build("vgg16").layer("block1_conv1").macs == 224LL * 224 * 64 * 27);
  const auto resnet = zoo::build("resnet50");
  CHECK(resnet.layer("conv5_block3_out").output_shape == Shape{7, 7, 2048});
  CHECK(resnet.layer("conv2_block1_add").inbound == std::vector<std::string>{"conv2_block1_0_bn", "conv2_block1_3_bn"});
  CHECK(zoo::build("mobilenet").layer("conv_pw_13_relu").output_shape == Shape{7, 7, 1024});
  // The config parses as a single-input, single-output Functional model.
  const auto spec = keras::parse_model_config(resnet.model_config().dump(), "resnet50");
  CHECK(spec.class_name == "Functional");
  CHECK(spec.layers.size() == resnet.layers().size());
  CHECK(spec.output == "predictions");
}

TEST_CASE("resnet50 and mobilenet files import back and run (small inputs, 10 classes)") {
  zoo::ZooOptions small{Shape{32, 32, 3}, 10};
  const auto resnet = zoo::build("resnet50", small);
  CHECK(resnet.params() == 25636712 - 2049 * 1000 + 2049 * 10);  // only the top depends on the classes
  check_runs(round_trip(resnet, "resnet50.h5"));
  const auto mobilenet = zoo::build("mobilenet", small);
  CHECK(mobilenet.params() == 4253864 - 1025 * 1000 + 1025 * 10);
  const auto model = round_trip(mobilenet, "mobilenet.h5");
  check_runs(model);
  CHECK(model.source.format == "grindstone");
}

TEST_CASE("the full-size MobileNet file imports with Keras's 4,253,864 parameters") {
  const auto path = scratch("mobilenet224.h5");
  zoo::build("mobilenet").save(path, 1);
  const auto model = keras::load_model(path);
  std::filesystem::remove(path);
  CHECK(model.param_count() == 4253864);
  CHECK(model.output_shape() == Shape{1000});
}

TEST_CASE("weights: seeded, deterministic, He-normal variance; bad options are refused") {
  const zoo::WeightShape w{"kernel", {3, 3, 64, 64}, zoo::Init::HeNormal, 3 * 3 * 64};
  const auto a = zoo::initial_values(w, 5, 3), b = zoo::initial_values(w, 5, 3), c = zoo::initial_values(w, 6, 3);
  CHECK(a == b);
  CHECK(a != c);
  double sum = 0, sq = 0;
  for (float v : a) {
    sum += v;
    sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(a.size());
  CHECK(std::fabs(sum / n) < 0.005);
  CHECK(sq / n == doctest::Approx(2.0 / 576).epsilon(0.05));
  CHECK_THROWS_WITH_AS(zoo::build("alexnet"), doctest::Contains("unknown model 'alexnet'"), InputError);
  CHECK_THROWS_WITH_AS(zoo::build("vgg16", {Shape{16, 16, 3}, std::nullopt}), doctest::Contains("block5_pool"),
                       InputError);
  CHECK_THROWS_AS(zoo::build("resnet50", {std::nullopt, 0}), InputError);
}
