// ANN → MAC lowering, calibration and int8 quantisation against the float reference inference
// (converter/ann/inference) on real Keras models from ../shared: the int8 classes agree with the
// float classes, and every quantised weight round-trips to its Keras value within half a step.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/ann_to_mac.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"
#include "testing/shared.hpp"
#include "testing/test_models.hpp"

using namespace grindstone;
using grindstone::passes::testing::ChainBuilder;
using snn::s2::AnnStep;

namespace {

bool quick() {
  const char* q = std::getenv("GRINDSTONE_TEST_QUICK");
  return q && std::string(q) == "1";
}

// Fraction of test images whose int8 class equals the float reference's, and the int8 accuracy.
struct Agreement {
  double agreement = 0, int8_accuracy = 0, float_accuracy = 0;
};

Agreement agreement(const ann::Model& model, const snn::s2::AnnProgram& program, const datasets::Dataset& data) {
  const ann::ReferenceInference reference(model);
  const std::vector<int> float_classes = ann::argmax_rows(reference.run(datasets::encode_all(data, datasets::InputEncoding::Real)));
  hw::s2::MacArray mac;
  Agreement a;
  for (std::int64_t i = 0; i < data.size(); ++i) {
    std::int64_t nonzero = 0;
    const int c = snn::s2::classify(program, {data.image(i), data.image(i) + data.pixels_per_image()}, mac, nonzero);
    const int label = data.labels[static_cast<std::size_t>(i)];
    a.agreement += c == float_classes[static_cast<std::size_t>(i)];
    a.int8_accuracy += c == label;
    a.float_accuracy += float_classes[static_cast<std::size_t>(i)] == label;
  }
  const double n = static_cast<double>(data.size());
  a.agreement /= n, a.int8_accuracy /= n, a.float_accuracy /= n;
  CHECK(mac.stats().accumulator_overflows == 0);
  return a;
}

// Every MAC step's int8 weights are round(w · 127 / max|W|) of its Keras layer's kernel: the
// dequantised value is within half a step of the Keras weight.
void check_weights_round_trip(const ann::Model& model, const passes::AnnLowering& lowering) {
  for (std::size_t i = 0; i < lowering.program.steps.size(); ++i) {
    const AnnStep& s = lowering.program.steps[i];
    if (s.kind != AnnStep::Kind::Mac) continue;
    const ann::Layer& l = model.layers[static_cast<std::size_t>(lowering.layer_of_step[i])];
    const ann::Matrix& w = l.is<ann::Dense>() ? l.as<ann::Dense>().kernel : l.as<ann::Conv2D>().kernel;
    const double scale = 127.0 / static_cast<double>(w.cwiseAbs().maxCoeff());
    REQUIRE(s.weights.size() == static_cast<std::size_t>(w.size()));
    double worst = 0;
    for (Eigen::Index r = 0; r < w.rows(); ++r)
      for (Eigen::Index c = 0; c < w.cols(); ++c)
        worst = std::max(worst, std::abs(s.weights[static_cast<std::size_t>(r * w.cols() + c)] / scale - w(r, c)) * scale);
    CHECK_MESSAGE(worst <= 0.5 + 1e-4, l.name);
  }
}

struct RealModel {
  std::string file;
  std::vector<AnnStep::Kind> kinds;
  double min_agreement;
};

}  // namespace

TEST_CASE("ann_to_mac on real Keras models: int8 classes agree with the float reference inference") {
  const auto shared = grindstone::testing::require_shared("ann_to_mac on the shared Keras CNNs (MNIST)");
  if (!shared) return;
  using K = AnnStep::Kind;
  // Measured on the first 500 test images (calibration: first 500 training images): agreement
  // 0.998 (keras3 CNN), 1.000 (LeNet-5; its importer folds the channels_first flatten into the
  // dense kernel, so no layout step remains). The bound leaves room for the quick slice.
  const std::vector<RealModel> models = {
      {"keras3_cnn_legacy.h5", {K::Mac, K::MaxPool, K::Mac, K::MaxPool, K::Mac}, 0.98},
      {"keras2_lenet5_channels_first.h5", {K::Mac, K::MaxPool, K::Mac, K::MaxPool, K::Mac, K::Mac, K::Mac}, 0.98},
  };
  const auto calibration = datasets::load("mnist", datasets::Split::Train, {}, quick() ? 100 : 500);
  const auto test = datasets::load("mnist", datasets::Split::Test, {}, quick() ? 50 : 500);
  for (const auto& m : models) {
    CAPTURE(m.file);
    const ann::Model model = keras::load_model(*shared / "models/keras" / m.file);
    passes::AnnLowering lowering = passes::lower_ann_to_mac(model);
    std::vector<K> kinds;
    for (const auto& s : lowering.program.steps) kinds.push_back(s.kind);
    std::string got;
    for (const auto& s : lowering.program.steps) got += s.name + "(" + std::to_string(static_cast<int>(s.kind)) + ") ";
    CHECK_MESSAGE(kinds == m.kinds, got);
    CHECK(lowering.program.steps.back().last);
    passes::quantise_ann_program(lowering, model, passes::activation_maxima(model, calibration), "the calibration images");
    check_weights_round_trip(model, lowering);
    const Agreement a = agreement(model, lowering.program, test);
    MESSAGE(m.file << ": int8 vs float agreement " << a.agreement << ", int8 accuracy " << a.int8_accuracy << ", float "
                   << a.float_accuracy);
    CHECK(a.agreement >= m.min_agreement);
    CHECK(a.int8_accuracy >= a.float_accuracy - 0.02);
    // ann_to_mac is the three steps in one
    const snn::s2::AnnProgram direct = passes::ann_to_mac(model, calibration);
    CHECK(direct.quantisation ==
          "int8 weights per layer, uint7 activations calibrated on " + std::to_string(calibration.size()) + " training images");
    for (std::size_t i = 0; i < direct.steps.size(); ++i) {
      CHECK(direct.steps[i].weights == lowering.program.steps[i].weights);
      CHECK(direct.steps[i].write_out.multiplier == lowering.program.steps[i].write_out.multiplier);
    }
  }
}

TEST_CASE("ann_to_mac: ReLU folds into the write-out, hidden scales chain, the scores stay int32") {
  const ann::Model model = ChainBuilder(Shape{6, 6, 1}, 4)
                               .conv("c", 3, 4, ann::Padding::Same)
                               .relu("r")
                               .max_pool("p", 2, ann::Padding::Same)
                               .flatten("f", ann::Flatten::Order::CHW)
                               .dense("d", 3)
                               .build();
  passes::AnnLowering lowering = passes::lower_ann_to_mac(model);
  auto& steps = lowering.program.steps;
  REQUIRE(steps.size() == 4);
  CHECK(steps[0].conv);
  CHECK(steps[0].write_out.relu);
  CHECK(steps[0].geometry.pad_top == 1);
  CHECK(steps[1].kind == AnnStep::Kind::MaxPool);
  CHECK(steps[2].kind == AnnStep::Kind::FlattenChw);
  CHECK(steps[3].last);
  // the conv's output range is its ReLU's
  CHECK(model.layers[static_cast<std::size_t>(lowering.range_layer_of_step[0])].name == "r");
  std::vector<float> maxima(model.layers.size(), 2.0f);
  passes::quantise_ann_program(lowering, model, maxima, "test");
  CHECK(steps[0].write_out.clamp_max == 127);
  CHECK(steps[0].write_out.bytes_per_value == 1);
  // out scale 127/2 over acc scale 255·(127/max|W|): multiplier·2^-shift ≈ ratio
  const ann::Matrix& w = model.layers[1].as<ann::Conv2D>().kernel;
  const double ratio = (127.0 / 2.0) / (255.0 * 127.0 / w.cwiseAbs().maxCoeff());
  CHECK(steps[0].write_out.multiplier * std::ldexp(1.0, -steps[0].write_out.shift) == doctest::Approx(ratio).epsilon(1e-4));
  CHECK(steps[3].write_out.bytes_per_value == 4);
  CHECK(steps[3].write_out.clamp_max == std::numeric_limits<std::int32_t>::max());
}

TEST_CASE("ann_to_mac: what the MAC arrays cannot run is refused, naming the layer") {
  const auto refuses = [](const ann::Model& model, const std::string& what) {
    try {
      passes::lower_ann_to_mac(model);
      FAIL("accepted: " << what);
    } catch (const InputError& e) {
      CHECK_MESSAGE(std::string(e.what()).find(what) != std::string::npos, e.what());
    }
  };
  ann::Pool2D avg;
  avg.kind = ann::PoolKind::Average;
  refuses(ChainBuilder(Shape{6, 6, 1}).conv("c", 3, 2, ann::Padding::Valid).relu("r").add("avg", avg).flatten("f").dense("d", 3).build(),
          "layer 'avg'");
  refuses(ChainBuilder(Shape{16}).dense("d1", 8).step("s").dense("d2", 3).build(), "layer 's'");
  refuses(ChainBuilder(Shape{4, 4, 1}).max_pool("p").build(), "no dense or conv layer");
  // a hidden layer without ReLU cannot be requantised to uint7
  const ann::Model no_relu = ChainBuilder(Shape{16}).dense("d1", 8).dense("d2", 3).build();
  passes::AnnLowering lowering = passes::lower_ann_to_mac(no_relu);
  CHECK_THROWS_WITH_AS(passes::quantise_ann_program(lowering, no_relu, std::vector<float>(no_relu.layers.size(), 1.0f), "x"),
                       doctest::Contains("layer 'd1'"), InputError);
}
