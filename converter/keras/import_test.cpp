// Unit tests of the Keras importer on small generated files: config parsing in the Keras 2 and
// Keras 3 forms, weight_names lookup (fixed- and variable-length strings), the .keras vars
// layout, Flatten order and channels_first handling.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "converter/keras/import.hpp"
#include "converter/keras/model_config.hpp"
#include "converter/keras/test_model_writer.hpp"

namespace gk = grindstone::keras;
namespace tw = grindstone::keras::test_writer;
namespace ann = grindstone::ann;
using grindstone::InputError;
using grindstone::Shape;
using nlohmann::json;

namespace {

/// A scratch folder removed at the end of each test.
struct Scratch {
  std::filesystem::path dir;
  explicit Scratch(const std::string& tag) {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() /
          ("grindstone_keras_unit_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return dir / name; }
};

std::vector<float> ramp(std::size_t n, float scale = 1.0f) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>(i);
  return v;
}

/// Input (H=2, W=3, C=2) in Keras's channels_first form (2, 2, 3) → conv 1x1 (2→2) → Flatten.
json channels_first_config(const std::string& flatten_format) {
  return tw::sequential({
      {{"class_name", "Conv2D"},
       {"config",
        {{"name", "conv"},
         {"filters", 2},
         {"kernel_size", {1, 1}},
         {"strides", {1, 1}},
         {"padding", "valid"},
         {"data_format", "channels_first"},
         {"activation", "linear"},
         {"use_bias", true},
         {"batch_input_shape", {nullptr, 2, 2, 3}}}}},
      {{"class_name", "Flatten"}, {"config", {{"name", "flatten"}, {"data_format", flatten_format}}}},
  });
}

}  // namespace

TEST_CASE("to_snake_case follows Keras's naming for .keras weight paths") {
  CHECK(gk::to_snake_case("Conv2D") == "conv2d");
  CHECK(gk::to_snake_case("MaxPooling2D") == "max_pooling2d");
  CHECK(gk::to_snake_case("BatchNormalization") == "batch_normalization");
  CHECK(gk::to_snake_case("Spiking_BRelu") == "spiking_b_relu");
  CHECK(gk::to_snake_case("Dense") == "dense");
  CHECK(gk::to_snake_case("GlobalAveragePooling2D") == "global_average_pooling2d");
}

TEST_CASE("Sequential configs: Keras 2 list form, dict form, Keras 3 nested form") {
  const json layer = tw::dense_layer("d", 4);
  json with_shape = layer;
  with_shape["config"]["batch_input_shape"] = {nullptr, 3};

  SUBCASE("Keras 2.0 list form synthesises '<first>_input'") {
    const json doc = {{"class_name", "Sequential"}, {"config", json::array({with_shape})}};
    const auto spec = gk::parse_model_config(doc.dump(), "m.h5");
    REQUIRE(spec.layers.size() == 2);
    CHECK(spec.layers[0].name == "d_input");
    CHECK(spec.layers[0].class_name == "InputLayer");
    CHECK(spec.layers[1].inbound == std::vector<std::string>{"d_input"});
    CHECK(spec.output == "d");
  }
  SUBCASE("Keras 3 nested module form with batch_shape and dtype policy") {
    const json doc = {{"module", "keras"},
                      {"class_name", "Sequential"},
                      {"config",
                       {{"name", "seq"},
                        {"dtype", {{"module", "keras"}, {"class_name", "DTypePolicy"}, {"config", {{"name", "float32"}}}}},
                        {"layers",
                         {{{"module", "keras.layers"},
                           {"class_name", "InputLayer"},
                           {"config", {{"name", "input_layer"}, {"batch_shape", {nullptr, 3}}}}},
                          {{"module", "keras.layers"}, {"class_name", "Dense"}, {"config", layer["config"]}}}}}}};
    const auto spec = gk::parse_model_config(doc, "m.keras");
    REQUIRE(spec.layers.size() == 2);
    CHECK(spec.name == "seq");
    CHECK(spec.layers[1].inbound == std::vector<std::string>{"input_layer"});
    const gk::ConfigReader reader(spec.layers[0].config, "x");
    const auto shape = gk::input_shape_from_config(reader);
    REQUIRE(shape);
    CHECK(*shape == std::vector<std::int64_t>{3});
  }
  SUBCASE("no input shape anywhere is an error naming the field") {
    const json doc = tw::sequential({layer});
    CHECK_THROWS_WITH_AS(gk::parse_model_config(doc, "m.h5"), doctest::Contains("batch_input_shape"), InputError);
  }
}

TEST_CASE("Functional configs: Keras 2 and Keras 3 inbound_nodes") {
  const json input = {{"class_name", "InputLayer"},
                      {"name", "in"},
                      {"config", {{"name", "in"}, {"batch_input_shape", {nullptr, 3}}}},
                      {"inbound_nodes", json::array()}};
  json dense = tw::dense_layer("d", 2);
  SUBCASE("Keras 2") {
    dense["name"] = "d";
    dense["inbound_nodes"] = {{{"in", 0, 0, json::object()}}};
    const json doc = {{"class_name", "Functional"},
                      {"config",
                       {{"name", "f"},
                        {"layers", {input, dense}},
                        {"input_layers", {{"in", 0, 0}}},
                        {"output_layers", {{"d", 0, 0}}}}}};
    const auto spec = gk::parse_model_config(doc, "m.h5");
    CHECK(spec.layers[1].inbound == std::vector<std::string>{"in"});
    CHECK(spec.output == "d");
  }
  SUBCASE("Keras 3") {
    dense["inbound_nodes"] = {
        {{"args",
          {{{"class_name", "__keras_tensor__"},
            {"config", {{"shape", {nullptr, 3}}, {"dtype", "float32"}, {"keras_history", {"in", 0, 0}}}}}}},
         {"kwargs", json::object()}}};
    const json doc = {{"class_name", "Functional"},
                      {"config",
                       {{"name", "f"},
                        {"layers", {input, dense}},
                        {"input_layers", {"in", 0, 0}},
                        {"output_layers", {"d", 0, 0}}}}};
    const auto spec = gk::parse_model_config(doc, "m.keras");
    CHECK(spec.layers[1].inbound == std::vector<std::string>{"in"});
    CHECK(spec.output == "d");
  }
}

TEST_CASE("weight_names lookup with fixed- and variable-length strings, kernel layout kept") {
  Scratch dir("weights");
  for (const bool variable : {false, true}) {
    CAPTURE(variable);
    const auto path = dir / (variable ? "k3.h5" : "k2.h5");
    const json config = tw::sequential({tw::input_layer("in", {nullptr, 3}), tw::dense_layer("d", 2, "linear")});
    // Keras 3 legacy names are plain ("kernel"); Keras 2 prefix the layer ("d/kernel:0").
    const std::string k = variable ? "MLP/d/kernel" : "d/kernel:0";
    const std::string b = variable ? "MLP/d/bias" : "d/bias:0";
    tw::write_full_model(path, config.dump(),
                         {{"d", {tw::weight(k, {3, 2}, ramp(6)), tw::weight(b, {2}, {10.0f, 20.0f})}, {}, false}},
                         variable ? "3.1.1" : "2.4.0", variable);
    const auto model = gk::load_model(path);
    CHECK(model.source.format == (variable ? "keras3-legacy-h5" : "keras2-h5"));
    const auto& dense = model.layers.at(static_cast<std::size_t>(model.find("d"))).as<ann::Dense>();
    REQUIRE(dense.kernel.rows() == 3);
    REQUIRE(dense.kernel.cols() == 2);
    CHECK(dense.kernel(0, 1) == 1.0f);  // row-major (in, units): element [0][1] is value 1
    CHECK(dense.kernel(2, 0) == 4.0f);
    CHECK(dense.bias(1) == 20.0f);
    CHECK(model.param_count() == 8);
    CHECK(model.output_shape() == Shape{2});
  }
}

TEST_CASE("fused activations become '<layer>/activation' layers; linear adds none") {
  Scratch dir("fused");
  const auto path = dir / "m.h5";
  const json config = tw::sequential({tw::input_layer("in", {nullptr, 3}), tw::dense_layer("a", 2, "relu"),
                                      tw::dense_layer("b", 2, "linear")});
  tw::write_full_model(path, config.dump(),
                       {{"a", {tw::weight("a/kernel:0", {3, 2}), tw::weight("a/bias:0", {2})}, {}, false},
                        {"b", {tw::weight("b/kernel:0", {2, 2}), tw::weight("b/bias:0", {2})}, {}, false}});
  const auto model = gk::load_model(path);
  REQUIRE(model.layers.size() == 4);
  CHECK(model.layers[2].name == "a/activation");
  CHECK(model.layers[2].as<ann::Activation>().kind == ann::ActivationKind::ReLU);
  CHECK(model.layers[2].inputs == std::vector<int>{1});
  CHECK(model.layers[3].inputs == std::vector<int>{2});
  CHECK(model.output == 3);
}

TEST_CASE("channels_first: input (C,H,W) becomes (H,W,C); Flatten order follows Keras's permutation") {
  Scratch dir("cf");
  for (const std::string format : {"channels_first", "channels_last"}) {
    CAPTURE(format);
    const auto path = dir / (format + ".h5");
    tw::write_full_model(path, channels_first_config(format).dump(),
                         {{"conv", {tw::weight("conv/kernel:0", {1, 1, 2, 2}), tw::weight("conv/bias:0", {2})}, {}, false},
                          {"flatten", {}, {}, false}});
    const auto model = gk::load_model(path);
    CHECK(model.input_shape() == Shape{2, 3, 2});
    CHECK(model.layers.at(1).output_shape == Shape{2, 3, 2});
    const auto& flatten = model.layers.at(2).as<ann::Flatten>();
    // Flatten(data_format=channels_first) moves the channel axis last → our HWC order;
    // Flatten(channels_last) on a (C,H,W) tensor flattens in Keras's CHW order.
    CHECK((flatten.order == ann::Flatten::Order::HWC) == (format == "channels_first"));
  }
}

TEST_CASE("Keras 3 .keras zip: config.json + model.weights.h5 addressed by class name") {
  Scratch dir("zip");
  const auto weights = dir / "model.weights.h5";
  // Two Dense layers with arbitrary names: Keras 3 stores them as layers/dense and layers/dense_1.
  tw::write_keras3_weights(weights, {{"dense", {tw::weight("", {3, 4}, ramp(12)), tw::weight("", {4})}},
                                     {"dense_1", {tw::weight("", {4, 2}, ramp(8, 2.0f)), tw::weight("", {2})}}});
  json config = tw::sequential({tw::input_layer("input_layer", {nullptr, 3}), tw::dense_layer("hidden", 4),
                                tw::dense_layer("logits", 2, "softmax")});
  config["config"]["layers"][0]["config"].erase("batch_input_shape");
  config["config"]["layers"][0]["config"]["batch_shape"] = {nullptr, 3};
  const auto archive = dir / "m.keras";
  tw::write_zip(archive, {{"config.json", config.dump()},
                          {"metadata.json", R"({"keras_version": "3.11.3"})"},
                          {"model.weights.h5", tw::read_bytes(weights)}});
  const auto model = gk::load_model(archive);
  CHECK(model.source.format == "keras3-zip");
  CHECK(model.source.keras_version == "3.11.3");
  CHECK(model.param_count() == 3 * 4 + 4 + 4 * 2 + 2);
  const auto& logits = model.layers.at(static_cast<std::size_t>(model.find("logits"))).as<ann::Dense>();
  CHECK(logits.kernel(3, 1) == 14.0f);
}

TEST_CASE("weights-only file needs the architecture JSON") {
  Scratch dir("wo");
  const auto weights = dir / "w.h5";
  tw::write_weights_only(weights, {{"d", {tw::weight("d/kernel:0", {3, 2}), tw::weight("d/bias:0", {2})}, {}, false}});
  CHECK_THROWS_WITH_AS(gk::load_model(weights), doctest::Contains("--architecture"), InputError);
  const auto arch = dir / "a.json";
  json config = tw::sequential({tw::input_layer("in", {nullptr, 3}), tw::dense_layer("d", 2)});
  config["keras_version"] = "2.3.0-tf";
  {
    std::FILE* f = std::fopen(arch.c_str(), "w");
    REQUIRE(f);
    const auto text = config.dump();
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  const auto model = gk::load_model(weights, arch);
  CHECK(model.source.format == "keras2-weights+json");
  CHECK(model.param_count() == 8);
}

TEST_CASE("Softmax_Decode key in its serialised forms; Spiking_BRelu sharpness") {
  Scratch dir("decode");
  const json key = {{1, 0, 0, 1}, {0, 1, 1, 0}};
  const std::vector<json> forms = {key, {{"type", "ndarray"}, {"value", key}},
                                   {{"class_name", "__numpy__"}, {"config", {{"value", key}, {"dtype", "float32"}}}}};
  int n = 0;
  for (const auto& form : forms) {
    CAPTURE(form.dump());
    const auto path = dir / ("decode" + std::to_string(n++) + ".h5");
    const json config = tw::sequential(
        {tw::input_layer("in", {nullptr, 3}), tw::dense_layer("d", 4, "linear"),
         {{"class_name", "Spiking_BRelu"}, {"config", {{"name", "spike"}, {"sharpness", 0.75}}}},
         {{"class_name", "Softmax_Decode"}, {"config", {{"name", "decode"}, {"key", form}}}}});
    tw::write_full_model(path, config.dump(),
                         {{"d", {tw::weight("d/kernel:0", {3, 4}), tw::weight("d/bias:0", {4})}, {}, false},
                          {"spike", {}, {}, false},
                          {"decode", {}, {}, false}});
    const auto model = gk::load_model(path);
    CHECK(model.output_shape() == Shape{2});
    const auto& decode = model.layers.back().as<ann::SoftmaxDecode>();
    REQUIRE(decode.key.rows() == 2);
    REQUIRE(decode.key.cols() == 4);
    CHECK(decode.key(0, 3) == 1.0f);
    CHECK(decode.key(1, 0) == 0.0f);
    CHECK(model.layers.at(2).as<ann::Activation>().sharpness == doctest::Approx(0.75));
  }
}

TEST_CASE("model files are rejected with InputError naming the file, never a crash") {
  Scratch dir("reject");
  const auto text = dir / "notes.h5";
  {
    std::FILE* f = std::fopen(text.c_str(), "w");
    REQUIRE(f);
    std::fputs("plain text", f);
    std::fclose(f);
  }
  CHECK_THROWS_WITH_AS(gk::load_model(text), doctest::Contains("notes.h5"), InputError);
  CHECK_THROWS_WITH_AS(gk::load_model(dir / "missing.keras"), doctest::Contains("missing.keras"), InputError);
}
