// End-to-end: branching (functional) Keras models through `grindstone inspect` and `eval`.
// The fixture is built from the real Keras 2 MLP in ../shared: its hidden Dense is split into
// two branches joined by Concatenate, and its logits Dense into two halves (kernel and bias
// halved, exact in float) joined by Add. The DAG computes the same logits, so `eval` must give
// exactly the original's predictions — the known 0.9768 on all 10,000 MNIST test images.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "converter/keras/import.hpp"
#include "converter/keras/test_model_writer.hpp"
#include "tests/test_support.hpp"

namespace {

namespace ann = grindstone::ann;
namespace tw = grindstone::keras::test_writer;
using grindstone::testing::require_shared;
using grindstone::testing::run_cli;
using nlohmann::json;

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

/// Columns [first, first + count) of a Dense kernel (in, units) as Keras's row-major values, times `scale`.
std::vector<float> kernel_columns(const ann::Dense& d, Eigen::Index first, Eigen::Index count, float scale) {
  std::vector<float> v;
  for (Eigen::Index r = 0; r < d.kernel.rows(); ++r)
    for (Eigen::Index c = first; c < first + count; ++c) v.push_back(scale * d.kernel(r, c));
  return v;
}

std::vector<float> bias_values(const ann::Dense& d, Eigen::Index first, Eigen::Index count, float scale) {
  std::vector<float> v;
  for (Eigen::Index c = first; c < first + count; ++c) v.push_back(scale * d.bias(c));
  return v;
}

/// Writes the branching twin of keras2_mlp_logits.h5 (layers flatten_1, dense_2 (relu), dense_3).
void write_branching_mlp(const std::filesystem::path& original, const std::filesystem::path& out) {
  const auto mlp = grindstone::keras::load_model(original);
  const auto& hidden = mlp.layers.at(static_cast<std::size_t>(mlp.find("dense_2"))).as<ann::Dense>();
  const auto& logits = mlp.layers.at(static_cast<std::size_t>(mlp.find("dense_3"))).as<ann::Dense>();
  const auto half = hidden.kernel.cols() / 2, units = hidden.kernel.cols();
  const auto in_features = static_cast<hsize_t>(hidden.kernel.rows());
  const auto dense = [](const std::string& name, Eigen::Index n, const std::string& act, const std::string& from) {
    return tw::functional_layer("Dense", name, {{"units", n}, {"activation", act}, {"use_bias", true}}, {from}, false);
  };
  const json config = tw::functional(
      "branching_mlp",
      {tw::functional_layer("InputLayer", "image", {{"batch_input_shape", {nullptr, 28, 28}}}, {}, false),
       tw::functional_layer("Flatten", "flat", json::object(), {"image"}, false), dense("left", half, "relu", "flat"),
       dense("right", units - half, "relu", "flat"),
       tw::functional_layer("Concatenate", "joined", {{"axis", -1}}, {"left", "right"}, false),
       dense("logits_a", 10, "linear", "joined"), dense("logits_b", 10, "linear", "joined"),
       tw::functional_layer("Add", "logits", json::object(), {"logits_a", "logits_b"}, false)},
      "image", "logits", false);
  const auto h = static_cast<hsize_t>(half), rest = static_cast<hsize_t>(units - half);
  tw::write_full_model(
      out, config.dump(),
      {{"image", {}, {}, false},
       {"flat", {}, {}, false},
       {"left", {tw::weight("left/kernel:0", {in_features, h}, kernel_columns(hidden, 0, half, 1.0f)),
                 tw::weight("left/bias:0", {h}, bias_values(hidden, 0, half, 1.0f))}, {}, false},
       {"right", {tw::weight("right/kernel:0", {in_features, rest}, kernel_columns(hidden, half, units - half, 1.0f)),
                  tw::weight("right/bias:0", {rest}, bias_values(hidden, half, units - half, 1.0f))}, {}, false},
       {"joined", {}, {}, false},
       {"logits_a", {tw::weight("logits_a/kernel:0", {static_cast<hsize_t>(units), 10}, kernel_columns(logits, 0, 10, 0.5f)),
                     tw::weight("logits_a/bias:0", {10}, bias_values(logits, 0, 10, 0.5f))}, {}, false},
       {"logits_b", {tw::weight("logits_b/kernel:0", {static_cast<hsize_t>(units), 10}, kernel_columns(logits, 0, 10, 0.5f)),
                     tw::weight("logits_b/bias:0", {10}, bias_values(logits, 0, 10, 0.5f))}, {}, false},
       {"logits", {}, {}, false}});
}

}  // namespace

TEST_CASE("a branching twin of the Keras 2 MLP: inspect shows the graph, eval gives the original's accuracy") {
  const auto shared = require_shared("functional models");
  if (!shared) return;
  const auto original = *shared / "models/keras/keras2_mlp_logits.h5";
  const grindstone::testing::TempDir tmp("functional");
  const auto twin = tmp.path() / "branching_mlp.h5";
  write_branching_mlp(original, twin);

  const auto inspect = run_cli("inspect " + quoted(twin) + " --json");
  REQUIRE_MESSAGE(inspect.exit_code == 0, inspect.err);
  const auto report = json::parse(inspect.out);
  // Keras: 2·(784·64 + 64) + 2·(128·10 + 10), the MLP's 101,770 plus one more logits bias (10).
  CHECK(report.at("params_total") == 101770 + 1290);
  std::map<std::string, std::vector<std::string>> inputs;
  for (const auto& l : report.at("layers")) inputs[l.at("name")] = l.at("inputs").get<std::vector<std::string>>();
  CHECK(inputs["joined"] == std::vector<std::string>{"left/activation", "right/activation"});
  CHECK(inputs["logits"] == std::vector<std::string>{"logits_a", "logits_b"});
  CHECK(inputs["right"] == std::vector<std::string>{"flat"});
  const auto human = run_cli("inspect " + quoted(twin));
  CHECK(human.out.find("logits_a, logits_b") != std::string::npos);

  const int limit = std::getenv("GRINDSTONE_TEST_QUICK") ? 500 : 10000;
  const auto args = " --limit " + std::to_string(limit) + " --json";
  const auto dag = run_cli("eval " + quoted(twin) + args);
  const auto chain = run_cli("eval " + quoted(original) + args);
  REQUIRE_MESSAGE(dag.exit_code == 0, dag.err);
  REQUIRE(chain.exit_code == 0);
  CHECK(json::parse(dag.out).at("correct") == json::parse(chain.out).at("correct"));
  if (limit == 10000) CHECK(json::parse(dag.out).at("accuracy").get<double>() == doctest::Approx(0.9768));

  // Conversion of branching networks is refused with the layer named, exit code 2, no output.
  const auto out = tmp.path() / "net.snn.h5";
  const auto convert = run_cli("convert " + quoted(twin) + " -o " + quoted(out));
  CHECK(convert.exit_code == 2);
  CHECK(convert.err.find("branching_mlp.h5") != std::string::npos);
  CHECK(convert.err.find("layer '") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
}
