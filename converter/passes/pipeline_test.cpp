#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/random.hpp"
#include "converter/passes/lower.hpp"
#include "converter/passes/pass_report.hpp"
#include "converter/passes/pipeline.hpp"
#include "converter/passes/rate.hpp"
#include "converter/passes/snn_passes.hpp"
#include "testing/test_models.hpp"

using namespace grindstone;
using namespace grindstone::passes;
using grindstone::passes::testing::ChainBuilder;

namespace {

/// Conv → BN → step → pool → Dropout → flatten → dense → step → Softmax_Decode: every
/// single-pass pass has something to do on it.
ann::Model busy_cnn() {
  return ChainBuilder(Shape{8, 8, 1})
      .conv("c1", 3, 4, ann::Padding::Same)
      .batch_norm("bn")
      .step("s1")
      .max_pool("p1")
      .add("drop", ann::Identity{}, "Dropout")
      .flatten("f")
      .dense("d", 6)
      .step("s2")
      .softmax_decode("decode", 3)
      .build();
}

/// What lowering accepts without the ANN passes.
ann::Model plain_cnn() {
  return ChainBuilder(Shape{8, 8, 1}).conv("c1", 3, 4, ann::Padding::Same).step("s1").max_pool("p1").flatten("f").dense("d", 6).step("s2").build();
}

/// The "pass <name>: …" line of `log` (empty when absent).
std::string line_of(const std::string& log, const std::string& pass) {
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("pass " + pass + ": ", 0) == 0) return line;
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Pipeline lowering_only() {
  Pipeline p;
  p.lower_with(Lowering{"lower_activations", [](const ann::Model& m) { return lower_activations(m); }});
  return p;
}

}  // namespace

TEST_CASE("verbose lists every pass with what it changed, computed from the IR") {
  ConvertOptions options;
  options.input = snn::InputEncoding::Bitplanes;
  options.temporal_groups = 2;
  options.weights = parse_weight_format("Q4.8");
  std::ostringstream log;
  const auto result = convert_single_pass(busy_cnn(), options, &log);
  const std::string text = log.str();
  INFO(text);
  for (const auto& name : result.network.provenance.passes) CHECK(!line_of(text, name).empty());
  CHECK(contains(line_of(text, "drop_identities"), "Identity 1 → 0"));
  CHECK(contains(line_of(text, "fold_batch_norm"), "BatchNorm 1 → 0"));
  CHECK(contains(line_of(text, "fold_batch_norm"), "1 layer changed"));
  CHECK(line_of(text, "canonicalise_flatten") == "pass canonicalise_flatten: no change");  // already HWC
  CHECK(contains(line_of(text, "lower_activations"), "populations 4"));
  CHECK(line_of(text, "maxpool_to_or") == "pass maxpool_to_or: applied within lower_activations");
  CHECK(contains(line_of(text, "encode_input"), "populations 4 → 11"));
  CHECK(contains(line_of(text, "encode_input"), "input threshold → bitplanes"));
  CHECK(contains(line_of(text, "bias_neurons"), "bias neurons 0 → 2"));
  CHECK(contains(line_of(text, "decode_output"), "decode spike_count → n_hot_key"));
  CHECK(contains(line_of(text, "decode_output"), "classes 6 → 3"));
  CHECK(contains(line_of(text, "temporal_groups"), "temporal groups 1 → 2"));
  CHECK(contains(line_of(text, "temporal_groups"), "max delay 1 → 3"));
  CHECK(contains(line_of(text, "quantise"), "weights float → Q4.8"));
  CHECK(contains(line_of(text, "quantise"), "weights changed"));
}

TEST_CASE("threshold bias mode is reported as thresholds rewritten in place") {
  ConvertOptions options;
  options.bias = BiasMode::Threshold;
  std::ostringstream log;
  convert_single_pass(busy_cnn(), options, &log);
  const auto line = line_of(log.str(), "bias_neurons");
  CHECK(contains(line, "bias mode neurons → threshold"));
  CHECK(contains(line, "threshold/bias values changed"));
  CHECK(!contains(line, "populations"));
}

TEST_CASE("a pass that leaves the network invalid is named, and no later pass runs") {
  Pipeline p = lowering_only();
  bool later_ran = false;
  p.add(SnnPass{"temporal_groups", [](SnnState& s) {
          for (auto& pop : s.network.populations) pop.tick = 0;  // broken: every delay becomes 0
        }});
  p.add(SnnPass{"decode_output", [&](SnnState& s) {
          later_ran = true;
          decode_output(s);
        }});
  CHECK_THROWS_WITH_AS(p.run(plain_cnn()), doctest::Contains("pass 'temporal_groups' produced an invalid network: "),
                       InputError);
  CHECK_THROWS_WITH_AS(p.run(plain_cnn()), doctest::Contains("delay < 1"), InputError);
  CHECK(!later_ran);
}

TEST_CASE("an ANN pass that leaves the model invalid is named") {
  Pipeline p = lowering_only();
  p.add(AnnPass{"rewire", [](ann::Model& m) {
          m.layers.back().inputs = {static_cast<int>(m.layers.size())};  // broken: reads a layer that does not exist
          return 1;
        }});
  CHECK_THROWS_WITH_AS(p.run(plain_cnn()), doctest::Contains("pass 'rewire' produced an invalid model: "), InputError);
}

TEST_CASE("a lowering that emits an invalid network is named") {
  Pipeline p;
  p.lower_with(Lowering{"lower_badly", [](const ann::Model& m) {
                          SnnState s = lower_activations(m);
                          s.network.populations.back().threshold.pop_back();
                          return s;
                        }});
  CHECK_THROWS_WITH_AS(p.run(plain_cnn()), doctest::Contains("pass 'lower_badly' produced an invalid network: "),
                       InputError);
}

TEST_CASE("describe_change: no change, field changes and in-place rewrites") {
  SnnState state = lower_activations(plain_cnn());
  const auto before = summarise(state.network);
  CHECK(describe_change(before, before) == "no change");
  quantise(state, parse_weight_format("Q2.2"));
  const auto line = describe_change(before, summarise(state.network));
  CHECK(contains(line, "weights float → Q2.2"));
  CHECK(contains(line, "weights changed"));
  CHECK(!contains(line, "populations"));
}

TEST_CASE("rate conversion runs as a Pipeline: every pass validated, reported and recorded") {
  const auto model = ChainBuilder(Shape{16}).dense("d1", 8).add("drop", ann::Identity{}, "Dropout").relu("r1").dense("d2", 3).build();
  datasets::Dataset training;
  training.rows = 4;
  training.cols = 4;
  for (std::uint64_t i = 0; i < 16 * 20; ++i) training.pixels.push_back(static_cast<std::uint8_t>(random_bits(3, 1, i) & 255));
  training.labels.assign(20, 0);
  std::ostringstream log;
  const auto converted = convert_for_rate(model, training, {}, &log);
  const std::vector<std::string> expected{"drop_identities", "fold_batch_norm", "canonicalise_flatten", "normalise_rate"};
  CHECK(converted.network.provenance.passes == expected);
  for (const auto& name : expected) CHECK(!line_of(log.str(), name).empty());
  CHECK(contains(line_of(log.str(), "drop_identities"), "Identity 1 → 0"));
  CHECK(contains(line_of(log.str(), "normalise_rate"), "input real"));
}
