// NIR import: Grindstone's own NIR exports read back (converter/nir) evaluate like the models
// they came from and convert to networks that classify sample for sample like the originals.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include "common/error.hpp"
#include "common/paths.hpp"
#include "converter/ann/inference.hpp"
#include "converter/export/nir.hpp"
#include "converter/keras/import.hpp"
#include "converter/nir/nir_graph.hpp"
#include "converter/nir/nir_import.hpp"
#include "converter/passes/pipeline.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "tests/test_support.hpp"

using namespace grindstone;
using grindstone::testing::require_shared;
using grindstone::testing::TempDir;

namespace {

bool quick() { return std::getenv("GRINDSTONE_TEST_QUICK") != nullptr; }

/// Converts `model`, exports it to NIR, imports that and converts it again with the same
/// options: both networks must give the same class for every sample.
void check_round_trip(const ann::Model& model, const passes::ConvertOptions& options, const datasets::Dataset& test,
                      const TempDir& tmp) {
  const auto original = passes::convert_single_pass(model, options).network;
  const auto path = tmp / "graph.nir";
  exporters::export_nir(original, path);
  CHECK(nir::is_nir_file(path));
  const ann::Model imported = keras::load_model(path);  // .nir dispatches to the NIR importer
  CHECK(imported.source.format == "nir");
  if (options.weights.is_float) {
    // The imported model's float reference equals the original's (fixed-point exports carry
    // the quantised weights, so only the networks are compared for them).
    const ann::ReferenceInference a(model), b(imported);
    CHECK(ann::evaluate(a, test, datasets::InputEncoding::Real, 1).correct ==
          ann::evaluate(b, test, datasets::InputEncoding::Real, 1).correct);
  }
  const auto again = passes::convert_single_pass(imported, options).network;
  const snn::SinglePassEngine e1(original, "original"), e2(again, "imported");
  const auto r1 = e1.run(test), r2 = e2.run(test);
  CHECK(r1.predictions == r2.predictions);
  CHECK(r1.correct == r2.correct);
}

}  // namespace

TEST_CASE("nir import: the Whetstone dense model's export round-trips (float and Q4.8, both input encodings)") {
  auto shared = require_shared("nir import");
  if (!shared) return;
  TempDir tmp("nir_import_dense");
  const auto model = keras::load_model(*shared / "models/whetstone/whetstone_dense_mnist.h5");
  const auto test = datasets::load("mnist", datasets::Split::Test, {}, 300);
  for (const char* weights : {"float", "Q4.8"})
    for (const char* input : {"threshold", "bitplanes"}) {
      INFO(weights << " " << input);
      passes::ConvertOptions options;
      options.weights = passes::parse_weight_format(weights);
      options.input = passes::parse_input_encoding(input);
      // The import reads the graph's real-valued input; threshold-encoded exports are compared
      // on binary images, where both encodings see the same thing.
      if (std::string(input) == "threshold") {
        datasets::Dataset binary = test;
        for (auto& p : binary.pixels) p = p >= 128 ? 255 : 0;
        check_round_trip(model, options, binary, tmp);
      } else {
        check_round_trip(model, options, test, tmp);
      }
    }
}

TEST_CASE("nir import: the shipped conv + pooling network's export round-trips") {
  auto shared = require_shared("nir import");
  if (!shared) return;
  TempDir tmp("nir_import_conv");
  const auto model = keras::load_model(grindstone::source_dir() / "models/sharpened/mnist_conv32x5_64x5_500_real.h5");
  passes::ConvertOptions options;
  options.input = snn::InputEncoding::Bitplanes;
  check_round_trip(model, options, datasets::load("mnist", datasets::Split::Test, {}, quick() ? 20 : 100), tmp);
}

TEST_CASE("nir import: malformed graphs are refused naming the file and node") {
  TempDir tmp("nir_import_bad");
  // A Keras file is not a NIR graph; a NIR-named file that is not HDF5 is refused.
  const auto junk = tmp / "junk.nir";
  { std::ofstream(junk) << "not hdf5"; }
  CHECK_THROWS_AS(nir::read_graph(junk), InputError);
  CHECK_FALSE(nir::is_nir_file(junk));
}
