// End-to-end tests of `grindstone convert` on the real models in ../shared, and of the
// rate-coded conversion. The converted network is checked against the float reference
// inference of the Keras model with an independent, naive single-pass evaluator.
#include <doctest/doctest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/pipeline.hpp"
#include "converter/passes/rate.hpp"
#include "testing/reference_snn.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "tests/test_support.hpp"

using namespace grindstone;
using grindstone::testing::require_shared;
using grindstone::testing::run_cli;
using grindstone::testing::TempDir;

namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::int64_t test_limit(std::int64_t full) { return std::getenv("GRINDSTONE_TEST_QUICK") ? full / 5 : full; }

}  // namespace

TEST_CASE("convert: the Whetstone dense model converts and fires exactly like the binary Keras model") {
  auto shared = require_shared("convert whetstone");
  if (!shared) return;
  const auto model_path = *shared / "models/whetstone/whetstone_dense_mnist.h5";
  TempDir tmp("convert");
  const auto out = tmp / "net.snn.h5";
  const auto r = run_cli("convert " + quoted(model_path) + " -o " + quoted(out) + " --json --verbose");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["neurons"] == 256 + 64 + 100);
  CHECK(j["input_neurons"] == 784 + 1);
  CHECK(j["bias_neurons"] == 2);
  CHECK(j["weights_format"] == "float");
  CHECK(j["bias_mode"] == "neurons");
  CHECK(j["temporal_groups"] == 1);
  CHECK(j["max_delay"] == 1);
  CHECK(j["projections"] == 3 + 3 + 2);  // layers, bias → layer, bias chain
  CHECK(j["synapses"].get<std::int64_t>() > 200000);
  for (const char* key : {"populations", "projections", "synapses", "clipped_weights", "passes"}) CHECK(j.contains(key));
  CHECK(r.err.find("pass fold_batch_norm") != std::string::npos);  // --verbose lists the passes

  const auto net = snn::load_network(out);
  CHECK(net.decode.kind == snn::Decode::Kind::NHotKey);
  CHECK(net.decode.classes == 10);
  CHECK(net.provenance.source_file == "whetstone_dense_mnist.h5");
  CHECK(net.provenance.source_sha256.size() == 64);

  // Same classes as the Keras model on binarised inputs (the published 95.51% setting).
  const auto model = keras::load_model(model_path);
  const ann::ReferenceInference inference(model);
  const auto test = datasets::load("mnist", datasets::Split::Test, {}, test_limit(500));
  const auto x = datasets::encode_batch(test, 0, test.size(), datasets::InputEncoding::Binary);
  const auto expected = ann::argmax_rows(inference.run(x));
  int agree = 0, correct = 0;
  for (std::int64_t s = 0; s < test.size(); ++s) {
    const int c = passes::testing::reference_class(net, passes::testing::reference_spikes(net, test.image(s)));
    agree += c == expected[static_cast<std::size_t>(s)];
    correct += c == test.labels[static_cast<std::size_t>(s)];
  }
  CHECK(agree == test.size());
  CHECK(static_cast<double>(correct) / static_cast<double>(test.size()) > 0.9);
}

TEST_CASE("convert: options change the network as documented") {
  auto shared = require_shared("convert options");
  if (!shared) return;
  const auto model_path = *shared / "models/whetstone/whetstone_dense_mnist.h5";
  TempDir tmp("convert_opts");
  const auto out = tmp / "net.snn.h5";
  const auto r = run_cli("convert " + quoted(model_path) + " -o " + quoted(out) +
                         " --json --weights Q4.8 --bias threshold --input bitplanes --temporal-groups 3");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["weights_format"] == "Q4.8");
  CHECK(j["bias_mode"] == "threshold");
  CHECK(j["bias_neurons"] == 0);
  CHECK(j["input_neurons"] == 8 * 784);
  CHECK(j["temporal_groups"] == 3);
  CHECK(j["max_delay"] == 5);
  CHECK(j["clipped_weights"].is_number_integer());
  const auto net = snn::load_network(out);
  CHECK(net.input == snn::InputEncoding::Bitplanes);
  CHECK(!net.weights.is_float);
  for (const auto& p : net.populations)
    for (float t : p.threshold) CHECK(t * 256.0f == static_cast<float>(static_cast<int>(t * 256.0f)));

  // Bitplanes reproduce the real-valued first layer: the network classifies like the Keras
  // model on pixel/255 inputs (up to fixed-point rounding) — check the float version exactly.
  const auto fout = tmp / "bitplanes_float.snn.h5";
  REQUIRE(run_cli("convert " + quoted(model_path) + " -o " + quoted(fout) + " --input bitplanes").exit_code == 0);
  const auto fnet = snn::load_network(fout);
  const auto model = keras::load_model(model_path);
  const auto test = datasets::load("mnist", datasets::Split::Test, {}, test_limit(200));
  const auto x = datasets::encode_batch(test, 0, test.size(), datasets::InputEncoding::Real);
  const auto expected = ann::argmax_rows(ann::ReferenceInference(model).run(x));
  int agree = 0;
  for (std::int64_t s = 0; s < test.size(); ++s)
    agree += passes::testing::reference_class(fnet, passes::testing::reference_spikes(fnet, test.image(s))) ==
             expected[static_cast<std::size_t>(s)];
  // Float rounding differs (Keras sums in float32 in another order): allow a rare near-threshold flip.
  CHECK(agree >= test.size() - 2);
}

TEST_CASE("convert: an unsharpened model is refused naming the first unsharpened layer") {
  auto shared = require_shared("convert refusal");
  if (!shared) return;
  TempDir tmp("convert_bad");
  const auto r = run_cli("convert " + quoted(*shared / "models/keras/keras2_mlp_logits.h5") + " -o " +
                         quoted(tmp / "x.snn.h5"));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("dense_2") != std::string::npos);
  CHECK(r.err.find("not sharpened") != std::string::npos);
  CHECK(!std::filesystem::exists(tmp / "x.snn.h5"));

  const auto missing = run_cli("convert " + quoted(tmp / "absent.h5") + " -o " + quoted(tmp / "y.snn.h5"));
  CHECK(missing.exit_code == 2);
  const auto bad_format = run_cli("convert " + quoted(*shared / "models/whetstone/whetstone_dense_mnist.h5") + " -o " +
                                  quoted(tmp / "z.snn.h5") + " --weights Q99");
  CHECK(bad_format.exit_code == 2);
  CHECK(bad_format.err.find("--weights") != std::string::npos);
}

TEST_CASE("convert_for_rate: normalised integrate-and-fire network of a ReLU MLP") {
  auto shared = require_shared("rate conversion");
  if (!shared) return;
  const auto model = keras::load_model(*shared / "models/keras/keras2_mlp_logits.h5");
  const auto train = datasets::load("mnist", datasets::Split::Train, {}, 2000);
  passes::RateConversionOptions opt;
  opt.normalisation_samples = 200;
  const auto r = passes::convert_for_rate(model, train, opt);
  REQUIRE(r.lambdas.size() == 2);
  for (double l : r.lambdas) CHECK(l > 0.0);
  const auto& net = r.network;
  CHECK(net.decode.kind == snn::Decode::Kind::SpikeCount);
  CHECK(net.decode.tie_break_by_potential);
  CHECK(net.decode.classes == 10);
  for (const auto& p : net.populations)
    if (p.role != snn::PopulationRole::Input) {
      CHECK(p.model == snn::NeuronModel::IntegrateAndFire);
      CHECK(p.threshold[0] == 1.0f);
      CHECK(p.bias_current.size() == static_cast<std::size_t>(p.size()));
    }
  // W_1 ← W_1·1/λ_1.
  const auto& w = std::get<snn::DenseConnector>(net.projections[0].connector).weights;
  int first_dense = -1;
  for (int i = 0; i < static_cast<int>(model.layers.size()); ++i)
    if (model.layers[static_cast<std::size_t>(i)].is<ann::Dense>()) {
      first_dense = i;
      break;
    }
  REQUIRE(first_dense >= 0);
  const auto& k = model.layers[static_cast<std::size_t>(first_dense)].as<ann::Dense>().kernel;
  CHECK(w(5, 7) == doctest::Approx(k(5, 7) / r.lambdas[0]).epsilon(1e-5));
  // Round trip through the file keeps the rate network.
  TempDir tmp("rate");
  snn::save_network(net, tmp / "rate.snn.h5");
  const auto back = snn::load_network(tmp / "rate.snn.h5");
  CHECK(back.bias_mode == "current");
  CHECK(back.populations[1].bias_current == net.populations[1].bias_current);
  // A sharpened (step) network is not a ReLU network.
  CHECK_THROWS_AS(passes::convert_for_rate(keras::load_model(*shared / "models/whetstone/whetstone_dense_mnist.h5"), train, opt),
                  InputError);
}
