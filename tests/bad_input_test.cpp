// End-to-end: a corpus of malformed model inputs, generated here (HDF5 C API, libzip, plain
// bytes). Each must make `grindstone inspect` exit with code 2 and one line on stderr naming
// the file and the offending field — never a crash, a hang or an HDF5 error dump.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "converter/keras/test_model_writer.hpp"
#include "tests/test_support.hpp"

namespace {

namespace tw = grindstone::keras::test_writer;
using grindstone::testing::run_cli;
using grindstone::testing::TempDir;
using nlohmann::json;

struct BadInput {
  std::string file;          ///< the model file given to inspect
  std::string extra_args;    ///< e.g. --architecture
  std::string field;         ///< must appear in the message
  std::string named_file;    ///< file name that must appear (defaults to `file`)
};

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

json dense_model(std::int64_t units = 2) {
  return tw::sequential({tw::input_layer("in", {nullptr, 3}), tw::dense_layer("d", units)});
}

std::vector<tw::LayerWeightSpec> dense_weights(std::vector<float> kernel = {}) {
  return {{"d", {tw::weight("d/kernel:0", {3, 2}, std::move(kernel)), tw::weight("d/bias:0", {2})}, {}, false}};
}

json conv_model(const json& extra) {
  json conv = {{"class_name", "Conv2D"},
               {"config",
                {{"name", "c"},
                 {"filters", 4},
                 {"kernel_size", {3, 3}},
                 {"strides", {1, 1}},
                 {"padding", "valid"},
                 {"data_format", "channels_last"},
                 {"activation", "relu"},
                 {"use_bias", true}}}};
  for (const auto& [k, v] : extra.items()) conv["config"][k] = v;
  return tw::sequential({tw::input_layer("in", {nullptr, 8, 8, 1}), conv});
}

std::vector<tw::LayerWeightSpec> conv_weights(hsize_t filters) {
  return {{"c", {tw::weight("c/kernel:0", {3, 3, 1, filters}), tw::weight("c/bias:0", {filters})}, {}, false}};
}

/// Builds the corpus in `dir` and returns the cases.
std::vector<BadInput> make_corpus(const std::filesystem::path& dir) {
  std::vector<BadInput> cases;
  auto path = [&](const std::string& name) { return dir / name; };

  // 1. A valid file cut in half.
  tw::write_full_model(path("valid.h5"), dense_model().dump(), dense_weights());
  {
    const auto bytes = tw::read_bytes(path("valid.h5"));
    write_text(path("truncated.h5"), bytes.substr(0, bytes.size() / 2));
  }
  cases.push_back({"truncated.h5", "", "HDF5", ""});
  // 2. Not HDF5 at all (text), and an empty file.
  write_text(path("text.h5"), "this is not an HDF5 file\n");
  cases.push_back({"text.h5", "", "not an HDF5 file", ""});
  write_text(path("empty.h5"), "");
  cases.push_back({"empty.h5", "", "HDF5", ""});
  // 3. HDF5 that is not a Keras file.
  {
    tw::H5Writer w(path("not_keras.h5"));
    w.dataset(w.root(), "data", {4}, {});
  }
  cases.push_back({"not_keras.h5", "", "model_config", ""});
  // 4. model_config that is not JSON.
  tw::write_full_model(path("config_not_json.h5"), "{\"class_name\": \"Sequential\", ", dense_weights());
  cases.push_back({"config_not_json.h5", "", "model_config", ""});
  // 5. An unknown layer class.
  {
    json m = dense_model();
    m["config"]["layers"][1]["class_name"] = "FancyCapsule";
    tw::write_full_model(path("unknown_layer.h5"), m.dump(), dense_weights());
  }
  cases.push_back({"unknown_layer.h5", "", "class_name", ""});
  // 6. Dense kernel (3, 2) but units = 5.
  tw::write_full_model(path("kernel_vs_units.h5"), dense_model(5).dump(), dense_weights());
  cases.push_back({"kernel_vs_units.h5", "", "units=5", ""});
  // 7. Conv kernel with 8 filters but filters = 4.
  tw::write_full_model(path("conv_vs_filters.h5"), conv_model(json::object()).dump(), conv_weights(8));
  cases.push_back({"conv_vs_filters.h5", "", "filters=4", ""});
  // 8. NaN in a kernel.
  {
    std::vector<float> kernel(6, 0.5f);
    kernel[3] = std::numeric_limits<float>::quiet_NaN();
    tw::write_full_model(path("nan_weights.h5"), dense_model().dump(), dense_weights(kernel));
  }
  cases.push_back({"nan_weights.h5", "", "NaN", ""});
  // 9. Negative and absurd dimensions in batch_input_shape.
  {
    json m = dense_model();
    m["config"]["layers"][0]["config"]["batch_input_shape"] = {nullptr, -3};
    tw::write_full_model(path("negative_dims.h5"), m.dump(), dense_weights());
    m["config"]["layers"][0]["config"]["batch_input_shape"] = {nullptr, 100000, 100000, 3000};
    tw::write_full_model(path("absurd_dims.h5"), m.dump(), dense_weights());
  }
  cases.push_back({"negative_dims.h5", "", "batch_input_shape", ""});
  cases.push_back({"absurd_dims.h5", "", "batch_input_shape", ""});
  // 10. The weight group of a Dense layer is missing.
  tw::write_full_model(path("missing_weight_group.h5"), dense_model().dump(), {{"other", {}, {}, false}});
  cases.push_back({"missing_weight_group.h5", "", "weights", ""});
  // 11. weight_names lists a dataset that does not exist.
  tw::write_full_model(path("weight_names_nowhere.h5"), dense_model().dump(),
                       {{"d",
                         {tw::weight("d/kernel:0", {3, 2}), tw::weight("d/bias:0", {2})},
                         {"d/kernel:0", "nowhere/bias:0"},
                         true}});
  cases.push_back({"weight_names_nowhere.h5", "", "weight_names", ""});
  // 12. Only the kernel listed although use_bias is true.
  tw::write_full_model(path("missing_bias.h5"), dense_model().dump(),
                       {{"d", {tw::weight("d/kernel:0", {3, 2})}, {}, false}});
  cases.push_back({"missing_bias.h5", "", "weight_names", ""});
  // 13. A .keras zip without config.json, a .keras that is not a zip, one with a broken weights file.
  tw::write_zip(path("no_config.keras"), {{"metadata.json", "{}"}, {"model.weights.h5", "x"}});
  cases.push_back({"no_config.keras", "", "config.json", ""});
  write_text(path("not_zip.keras"), "just some bytes, not a zip archive");
  cases.push_back({"not_zip.keras", "", "zip", ""});
  tw::write_zip(path("bad_weights.keras"), {{"config.json", dense_model().dump()}, {"model.weights.h5", "garbage"}});
  cases.push_back({"bad_weights.keras", "", "model.weights.h5", ""});
  // 14. A weights-only file without --architecture; with a malformed architecture JSON.
  tw::write_weights_only(path("weights_only.h5"), dense_weights());
  cases.push_back({"weights_only.h5", "", "--architecture", ""});
  write_text(path("bad_arch.json"), "{\"class_name\": \"Sequential\", \"config\": [");
  cases.push_back({"weights_only.h5", "--architecture '" + path("bad_arch.json").string() + "'", "not valid JSON",
                   "bad_arch.json"});
  // 15. An unsupported activation.
  {
    json m = dense_model();
    m["config"]["layers"][1]["config"]["activation"] = "selu";
    tw::write_full_model(path("unsupported_activation.h5"), m.dump(), dense_weights());
  }
  cases.push_back({"unsupported_activation.h5", "", "activation", ""});
  // 16. Unsupported Conv2D attributes: groups > 1; dilation together with strides.
  tw::write_full_model(path("conv_groups.h5"), conv_model({{"groups", 2}}).dump(), conv_weights(4));
  cases.push_back({"conv_groups.h5", "", "groups", ""});
  tw::write_full_model(path("conv_dilation_strides.h5"),
                       conv_model({{"dilation_rate", {2, 2}}, {"strides", {2, 2}}}).dump(), conv_weights(4));
  cases.push_back({"conv_dilation_strides.h5", "", "dilation_rate", ""});
  // 17. Softmax_Decode with a malformed key (ragged rows; not a list).
  {
    json m = tw::sequential({tw::input_layer("in", {nullptr, 3}),
                             {{"class_name", "Softmax_Decode"}, {"config", {{"name", "decode"}, {"key", {{1, 0, 1}, {0, 1}}}}}}});
    tw::write_full_model(path("decode_ragged_key.h5"), m.dump(), {{"decode", {}, {}, false}});
    m["config"]["layers"][1]["config"]["key"] = "1,0,1";
    tw::write_full_model(path("decode_string_key.h5"), m.dump(), {{"decode", {}, {}, false}});
  }
  cases.push_back({"decode_ragged_key.h5", "", "key", ""});
  cases.push_back({"decode_string_key.h5", "", "key", ""});
  // 18. BatchNormalization over a non-channel axis.
  {
    json m = conv_model(json::object());
    m["config"]["layers"].push_back(
        {{"class_name", "BatchNormalization"}, {"config", {{"name", "bn"}, {"axis", 1}, {"epsilon", 0.001}}}});
    auto w = conv_weights(4);
    w.push_back({"bn",
                 {tw::weight("bn/gamma:0", {4}), tw::weight("bn/beta:0", {4}), tw::weight("bn/moving_mean:0", {4}),
                  tw::weight("bn/moving_variance:0", {4}, {1, 1, 1, 1})},
                 {},
                 false});
    tw::write_full_model(path("batchnorm_axis.h5"), m.dump(), w);
  }
  cases.push_back({"batchnorm_axis.h5", "", "axis", ""});
  // 19. A Functional model with two outputs.
  {
    json input = {{"class_name", "InputLayer"},
                  {"name", "in"},
                  {"config", {{"name", "in"}, {"batch_input_shape", {nullptr, 3}}}},
                  {"inbound_nodes", json::array()}};
    json d = tw::dense_layer("d", 2);
    d["name"] = "d";
    d["inbound_nodes"] = {{{"in", 0, 0, json::object()}}};
    json m = {{"class_name", "Functional"},
              {"config",
               {{"name", "f"},
                {"layers", {input, d}},
                {"input_layers", {{"in", 0, 0}}},
                {"output_layers", {{"d", 0, 0}, {"in", 0, 0}}}}}};
    tw::write_full_model(path("two_outputs.h5"), m.dump(), dense_weights());
  }
  cases.push_back({"two_outputs.h5", "", "output_layers", ""});
  // 20. Kernel whose input size contradicts the previous layer.
  {
    json m = dense_model();
    m["config"]["layers"][0]["config"]["batch_input_shape"] = {nullptr, 7};
    tw::write_full_model(path("kernel_vs_input.h5"), m.dump(), dense_weights());
  }
  cases.push_back({"kernel_vs_input.h5", "", "kernel", ""});
  // 21. A missing file.
  cases.push_back({"does_not_exist.h5", "", "no such file", ""});
  return cases;
}

}  // namespace

TEST_CASE("malformed model inputs: exit code 2 and one line naming the file and the field") {
  TempDir dir("bad_models");
  const auto corpus = make_corpus(dir.path());
  CHECK(corpus.size() >= 16);
  for (const auto& c : corpus) {
    CAPTURE(c.file);
    CAPTURE(c.extra_args);
    const auto r = run_cli("inspect '" + (dir / c.file).string() + "' " + c.extra_args);
    CAPTURE(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    // Exactly one line on stderr.
    CHECK(!r.err.empty());
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(r.err.find(c.named_file.empty() ? c.file : c.named_file) != std::string::npos);
    CHECK(r.err.find(c.field) != std::string::npos);
  }
}

TEST_CASE("the valid twin of the corpus imports (so the corpus tests the faults, not the writer)") {
  TempDir dir("good_model");
  tw::write_full_model(dir / "valid.h5", dense_model().dump(), dense_weights());
  const auto r = run_cli("inspect '" + (dir / "valid.h5").string() + "' --json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto report = json::parse(r.out);
  CHECK(report.at("params_total") == 3 * 2 + 2);
}
