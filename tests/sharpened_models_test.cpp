// The trained, fully sharpened networks shipped in models/sharpened/ (written by `grindstone
// sharpen`; models/sharpened/README.md has each command) still meet issue 3's accuracy targets
// when reloaded: the importer, BN folding on save and the float reference inference together
// must reproduce the trainer's figure on the whole MNIST test set, and the conv network run as
// spikes (single-pass, bit-plane input) must give the same classes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "common/paths.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/pipeline.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "tests/test_support.hpp"

using namespace grindstone;

namespace {

bool quick() { return std::getenv("GRINDSTONE_TEST_QUICK") != nullptr; }

struct Shipped {
  const char* file;
  datasets::InputEncoding input;
  double target;  ///< issue 3, "Must show"
};

}  // namespace

TEST_CASE("models/sharpened: every shipped network meets its target on the 10,000 MNIST test images") {
  const auto shared = testing::require_shared("shipped sharpened models (MNIST test set)");
  if (!shared) return;
  const std::filesystem::path dir = grindstone::source_dir() / "models/sharpened";
  // Under the sanitizers only a slice is evaluated, so the check there is that the files load and
  // classify well; the targets themselves are checked on the full set.
  const std::int64_t n = quick() ? 300 : 0;
  const auto data = datasets::load("mnist", datasets::Split::Test, {}, n);
  const double slack = quick() ? 0.03 : 0.0;
  for (const Shipped& s : {Shipped{"mnist_dense100_100_binary.h5", datasets::InputEncoding::Binary, 0.970},
                           Shipped{"mnist_dense256_64_real.h5", datasets::InputEncoding::Real, 0.975},
                           Shipped{"mnist_conv32x5_64x5_500_real.h5", datasets::InputEncoding::Real, 0.990},
                           Shipped{"mnist_keras3_mlp_batchnorm_finetuned.h5", datasets::InputEncoding::Real, 0.9830 - 0.015}}) {
    INFO(s.file);
    const auto model = keras::load_model(dir / s.file);
    const auto eval = ann::evaluate(model, data, s.input, 0);
    CHECK(eval.accuracy >= s.target - slack);
  }
}

TEST_CASE("models/sharpened: the conv network as spikes (single-pass, bit-plane input) = float eval") {
  const auto shared = testing::require_shared("shipped conv network as spikes (MNIST test set)");
  if (!shared) return;
  const auto model = keras::load_model(grindstone::source_dir() /
                                       "models/sharpened/mnist_conv32x5_64x5_500_real.h5");
  const auto data = datasets::load("mnist", datasets::Split::Test, {}, quick() ? 40 : 2000);
  passes::ConvertOptions options;
  options.input = snn::InputEncoding::Bitplanes;
  const snn::SinglePassEngine engine(passes::convert_single_pass(model, options).network, "conv");
  const auto run = engine.run(data);
  const auto eval = ann::evaluate(model, data, datasets::InputEncoding::Real, 0);
  CHECK(run.predictions == eval.predictions);
}
