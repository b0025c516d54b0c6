// Unit tests of the importer on branching (functional) models: merge layers, shared input
// tensors, the depthwise/separable/global-max/rescaling layers, Keras 2 and Keras 3 forms
// giving the same model, and the refusals (layer called twice, several outputs, cycles,
// a single-input layer with two inputs).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/keras/test_model_writer.hpp"

namespace gk = grindstone::keras;
namespace tw = grindstone::keras::test_writer;
namespace ann = grindstone::ann;
using grindstone::InputError;
using grindstone::Shape;
using nlohmann::json;

namespace {

std::filesystem::path scratch_dir(const std::string& tag) {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("grindstone_dag_unit_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<float> ramp(std::size_t n, float scale, float offset = 0.0f) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = offset + scale * static_cast<float>(i);
  return v;
}

/// in (4,4,2) → rescale → {dw (DepthwiseConv2D ×2, relu), sep (SeparableConv2D 2)};
/// add = sep + rescale; cat = [dw, add] (6 channels) → ReLU(6) → GlobalMaxPooling2D → Dense(3, softmax).
std::vector<json> branching_layers(bool keras3) {
  const json shape_key = keras3 ? json("batch_shape") : json("batch_input_shape");
  return {
      tw::functional_layer("InputLayer", "in", {{shape_key.get<std::string>(), {nullptr, 4, 4, 2}}}, {}, keras3),
      tw::functional_layer("Rescaling", "rescale", {{"scale", 0.5}, {"offset", 0.1}}, {"in"}, keras3),
      tw::functional_layer("DepthwiseConv2D", "dw",
                           {{"kernel_size", {3, 3}}, {"strides", {1, 1}}, {"padding", "same"}, {"depth_multiplier", 2},
                            {"activation", "relu"}, {"use_bias", true}},
                           {"rescale"}, keras3),
      tw::functional_layer("SeparableConv2D", "sep",
                           {{"filters", 2}, {"kernel_size", {3, 3}}, {"padding", "same"}, {"depth_multiplier", 1},
                            {"activation", "linear"}, {"use_bias", true}},
                           {"rescale"}, keras3),
      tw::functional_layer("Add", "add", json::object(), {"sep", "rescale"}, keras3),
      tw::functional_layer("Concatenate", "cat", {{"axis", -1}}, {"dw", "add"}, keras3),
      tw::functional_layer("ReLU", "relu6", {{"max_value", 6.0}}, {"cat"}, keras3),
      tw::functional_layer("GlobalMaxPooling2D", "gmp", json::object(), {"relu6"}, keras3),
      tw::functional_layer("Dense", "out", {{"units", 3}, {"activation", "softmax"}, {"use_bias", true}}, {"gmp"},
                           keras3),
  };
}

struct BranchWeights {
  std::vector<float> dw_kernel = ramp(3 * 3 * 2 * 2, 0.01f, -0.1f), dw_bias = ramp(4, 0.1f);
  std::vector<float> sep_dw = ramp(3 * 3 * 2, -0.02f, 0.2f), sep_pw = {0.5f, -1.0f, 2.0f, 0.25f}, sep_bias = {0.3f, -0.3f};
  std::vector<float> dense_kernel = ramp(6 * 3, 0.05f, -0.4f), dense_bias = {0.0f, 0.1f, -0.1f};
};

void write_branching_keras2(const std::filesystem::path& path, const BranchWeights& w) {
  const json config = tw::functional("branchy", branching_layers(false), "in", "out", false);
  std::vector<tw::LayerWeightSpec> groups;
  for (const char* name : {"in", "rescale", "add", "cat", "relu6", "gmp"}) groups.push_back({name, {}, {}, false});
  groups.push_back({"dw", {tw::weight("dw/depthwise_kernel:0", {3, 3, 2, 2}, w.dw_kernel), tw::weight("dw/bias:0", {4}, w.dw_bias)}, {}, false});
  groups.push_back({"sep",
                    {tw::weight("sep/depthwise_kernel:0", {3, 3, 2, 1}, w.sep_dw),
                     tw::weight("sep/pointwise_kernel:0", {1, 1, 2, 2}, w.sep_pw), tw::weight("sep/bias:0", {2}, w.sep_bias)},
                    {},
                    false});
  groups.push_back({"out", {tw::weight("out/kernel:0", {6, 3}, w.dense_kernel), tw::weight("out/bias:0", {3}, w.dense_bias)}, {}, false});
  tw::write_full_model(path, config.dump(), groups);
}

void write_branching_keras3(const std::filesystem::path& dir, const std::filesystem::path& archive, const BranchWeights& w) {
  const auto weights = dir / "model.weights.h5";
  tw::write_keras3_weights(weights, {{"depthwise_conv2d", {tw::weight("", {3, 3, 2, 2}, w.dw_kernel), tw::weight("", {4}, w.dw_bias)}},
                                     {"separable_conv2d",
                                      {tw::weight("", {3, 3, 2, 1}, w.sep_dw), tw::weight("", {1, 1, 2, 2}, w.sep_pw),
                                       tw::weight("", {2}, w.sep_bias)}},
                                     {"dense", {tw::weight("", {6, 3}, w.dense_kernel), tw::weight("", {3}, w.dense_bias)}}});
  const json config = tw::functional("branchy", branching_layers(true), "in", "out", true);
  tw::write_zip(archive, {{"config.json", config.dump()},
                          {"metadata.json", R"({"keras_version": "3.6.0"})"},
                          {"model.weights.h5", tw::read_bytes(weights)}});
}

std::vector<std::string> input_names(const ann::Model& m, const std::string& layer) {
  std::vector<std::string> out;
  for (int i : m.layers.at(static_cast<std::size_t>(m.find(layer))).inputs) out.push_back(m.layers.at(static_cast<std::size_t>(i)).name);
  return out;
}

/// Writes a Keras 2 full model with `layers` (no weights) and returns the load error.
std::string load_error(const std::filesystem::path& path, const json& config) {
  tw::write_full_model(path, config.dump(), {});
  try {
    gk::load_model(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a branching Keras 2 model imports as a DAG: inputs, shapes, Keras parameter counts") {
  const auto dir = scratch_dir("k2");
  write_branching_keras2(dir / "m.h5", BranchWeights{});
  const auto model = gk::load_model(dir / "m.h5");
  CHECK_FALSE(model.is_chain());
  CHECK(input_names(model, "dw") == std::vector<std::string>{"rescale"});
  CHECK(input_names(model, "sep/depthwise") == std::vector<std::string>{"rescale"});
  CHECK(input_names(model, "sep") == std::vector<std::string>{"sep/depthwise"});
  CHECK(input_names(model, "add") == std::vector<std::string>{"sep", "rescale"});
  CHECK(input_names(model, "cat") == std::vector<std::string>{"dw/activation", "add"});
  const auto shape = [&](const std::string& n) { return model.layers.at(static_cast<std::size_t>(model.find(n))).output_shape; };
  CHECK(shape("dw") == Shape{4, 4, 4});
  CHECK(shape("cat") == Shape{4, 4, 6});
  CHECK(shape("gmp") == Shape{6});
  // Keras: DepthwiseConv2D 3·3·2·2 + 4; SeparableConv2D 3·3·2 + 2·2 + 2; Dense 6·3 + 3.
  const auto params = [&](const std::string& n) { return model.layers.at(static_cast<std::size_t>(model.find(n))).param_count(); };
  CHECK(params("dw") == 40);
  CHECK(params("sep/depthwise") + params("sep") == 24);
  CHECK(model.param_count() == 40 + 24 + 21);
  // Kernel layouts: depthwise (kh, kw, c, m) → row i·kw + j, column c·m + k.
  const auto& dw = model.layers.at(static_cast<std::size_t>(model.find("dw"))).as<ann::DepthwiseConv2D>();
  CHECK(dw.kernel(5, 3) == doctest::Approx(-0.1f + 0.01f * (5 * 4 + 3)));
  const auto& pw = model.layers.at(static_cast<std::size_t>(model.find("sep"))).as<ann::Conv2D>();
  CHECK(pw.kernel(1, 0) == 2.0f);
  CHECK(model.layers.at(static_cast<std::size_t>(model.find("relu6"))).as<ann::Activation>().relu_max_value == 6.0f);
  const auto& rescale = model.layers.at(static_cast<std::size_t>(model.find("rescale"))).as<ann::Rescale>();
  CHECK(rescale.scale(0) == 0.5f);
  CHECK(rescale.offset(0) == doctest::Approx(0.1f));
}

TEST_CASE("Keras 2 .h5 and Keras 3 .keras forms of one branching model give identical outputs") {
  const auto dir = scratch_dir("k3");
  const BranchWeights w;
  write_branching_keras2(dir / "m.h5", w);
  write_branching_keras3(dir, dir / "m.keras", w);
  const auto m2 = gk::load_model(dir / "m.h5");
  const auto m3 = gk::load_model(dir / "m.keras");
  CHECK(m3.source.format == "keras3-zip");
  REQUIRE(m2.layers.size() == m3.layers.size());
  ann::RowMatrix x(5, 32);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>((i * 37) % 11) / 5.0f - 1.0f;
  const auto y2 = ann::ReferenceInference(m2).run(x, 1);
  const auto y3 = ann::ReferenceInference(m3).run(x, 1);
  CHECK(y2 == y3);
  CHECK(y2.rowwise().sum().isApprox(Eigen::VectorXf::Ones(5), 1e-5f));
}

TEST_CASE("unsupported topologies are refused naming the layer and field") {
  const auto dir = scratch_dir("bad");
  const auto in = tw::functional_layer("InputLayer", "in", {{"batch_input_shape", {nullptr, 4, 4, 2}}}, {}, false);
  // Weightless layers keep the configs short: a ReLU and a 2×2 max pool.
  const auto dense = [](const std::string& name, int, std::vector<std::string> from) {
    return tw::functional_layer("ReLU", name, json::object(), from, false);
  };
  SUBCASE("a single-input layer with two inputs") {
    const auto err = load_error(dir / "two.h5", tw::functional("f", {in, dense("a", 2, {"in"}), dense("b", 2, {"a", "in"})}, "in", "b", false));
    CHECK(err.find("layer 'b' (ReLU): inbound_nodes: 2 inputs") != std::string::npos);
  }
  SUBCASE("Add of different shapes") {
    auto pool = tw::functional_layer("MaxPooling2D", "a", json::object(), {"in"}, false);
    auto add = tw::functional_layer("Add", "add", json::object(), {"a", "in"}, false);
    const auto err = load_error(dir / "shape.h5", tw::functional("f", {in, pool, add}, "in", "add", false));
    CHECK(err.find("layer 'add' (Add): inbound_nodes") != std::string::npos);
  }
  SUBCASE("a shared layer (called twice)") {
    auto twice = dense("a", 3, {"in"});
    twice["inbound_nodes"].push_back(json::array({json::array({"a", 0, 0, json::object()})}));
    const auto err = load_error(dir / "shared.h5", tw::functional("f", {in, twice}, "in", "a", false));
    CHECK(err.find("layer 'a'") != std::string::npos);
    CHECK(err.find("shared layers are unsupported") != std::string::npos);
  }
  SUBCASE("two model outputs") {
    auto config = tw::functional("f", {in, dense("a", 2, {"in"}), dense("b", 2, {"in"})}, "in", "a", false);
    config["config"]["output_layers"] = {{"a", 0, 0}, {"b", 0, 0}};
    CHECK(load_error(dir / "outs.h5", config).find("output_layers") != std::string::npos);
  }
  SUBCASE("a cycle") {
    auto a = tw::functional_layer("Add", "a", json::object(), {"in", "b"}, false);
    const auto err = load_error(dir / "cycle.h5", tw::functional("f", {in, a, dense("b", 3, {"a"})}, "in", "b", false));
    CHECK(err.find("cycle") != std::string::npos);
  }
  SUBCASE("Concatenate over the batch axis") {
    auto cat = tw::functional_layer("Concatenate", "cat", {{"axis", 0}}, {"a", "in"}, false);
    const auto err = load_error(dir / "axis.h5", tw::functional("f", {in, dense("a", 3, {"in"}), cat}, "in", "cat", false));
    CHECK(err.find("layer 'cat' (Concatenate): axis") != std::string::npos);
  }
}
