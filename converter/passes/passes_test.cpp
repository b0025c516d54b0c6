#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "common/error.hpp"
#include "common/random.hpp"
#include "converter/ann/inference.hpp"
#include "converter/passes/ann_passes.hpp"
#include "converter/passes/lower.hpp"
#include "converter/passes/pipeline.hpp"
#include "testing/reference_snn.hpp"
#include "converter/passes/snn_passes.hpp"
#include "testing/test_models.hpp"

using namespace grindstone;
using namespace grindstone::passes;
using grindstone::passes::testing::ChainBuilder;

namespace {

ann::RowMatrix random_inputs(std::int64_t n, std::int64_t size, std::uint64_t seed) {
  ann::RowMatrix x(n, size);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(random_uniform(seed, 3, static_cast<std::uint64_t>(i)));
  return x;
}

/// 8-bit images with a deterministic pattern; returns them as bytes.
std::vector<std::uint8_t> random_images(std::int64_t n, std::int64_t size, std::uint64_t seed) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(n * size));
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(random_bits(seed, 5, i) & 255);
  return px;
}

ann::Model sharpened_mlp() {
  return ChainBuilder(Shape{16}).dense("d1", 12).step("s1").dense("d2", 10).step("s2").softmax_decode("decode", 5).build();
}

ann::Model sharpened_cnn() {
  return ChainBuilder(Shape{8, 8, 1})
      .conv("c1", 3, 4, ann::Padding::Same)
      .step("s1")
      .max_pool("p1")
      .conv("c2", 3, 4, ann::Padding::Valid)
      .step("s2")
      .flatten("f")
      .dense("d", 6)
      .step("s3")
      .build();
}

/// ANN output of the last step layer (binary inputs) vs the converted network's output spikes.
void check_equivalent(const ann::Model& model, const snn::Network& net, int samples, int last_step_layer) {
  const auto size = model.input_shape().size();
  const auto images = random_images(samples, size, 11);
  ann::RowMatrix x(samples, size);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = images[static_cast<std::size_t>(i)] >= 128 ? 1.0f : 0.0f;
  ann::ReferenceInference inference(model);
  const auto ann_out = inference.layer_outputs(x, {last_step_layer}).at(0);
  for (int s = 0; s < samples; ++s) {
    const auto spikes = testing::reference_spikes(net, images.data() + s * size);
    const auto& out = spikes.at(static_cast<std::size_t>(net.output));
    REQUIRE(static_cast<Eigen::Index>(out.size()) == ann_out.cols());
    for (std::size_t i = 0; i < out.size(); ++i) CHECK(out[i] == ann_out(s, static_cast<Eigen::Index>(i)));
  }
}

}  // namespace

TEST_CASE("drop_identities removes Dropout-like layers and linear activations, rewiring readers") {
  ann::Activation linear;
  auto model = ChainBuilder(Shape{4}).dense("d1", 3).add("drop", ann::Identity{}, "Dropout").add("lin", linear).step("s1").build();
  CHECK(drop_identities(model) == 2);
  REQUIRE(model.layers.size() == 3);
  CHECK(model.layers[2].name == "s1");
  CHECK(model.layers[2].inputs == std::vector<int>{1});
  CHECK(model.output == 2);
  model.validate();
}

TEST_CASE("fold_batch_norm gives the same float outputs as the unfolded model") {
  SUBCASE("dense") {
    auto model = ChainBuilder(Shape{6}).dense("d1", 5).batch_norm("bn").relu("r").dense("d2", 3).build();
    auto folded = model;
    CHECK(fold_batch_norm(folded) == 1);
    CHECK(folded.find("bn") < 0);
    const auto x = random_inputs(20, 6, 1);
    const auto a = ann::ReferenceInference(model).run(x, 1);
    const auto b = ann::ReferenceInference(folded).run(x, 1);
    CHECK((a - b).cwiseAbs().maxCoeff() < 1e-5f);
  }
  SUBCASE("conv with same padding") {
    auto model = ChainBuilder(Shape{6, 6, 2}).conv("c", 3, 3, ann::Padding::Same).batch_norm("bn").build();
    auto folded = model;
    CHECK(fold_batch_norm(folded) == 1);
    const auto x = random_inputs(5, 72, 2);
    const auto a = ann::ReferenceInference(model).run(x, 1);
    const auto b = ann::ReferenceInference(folded).run(x, 1);
    CHECK((a - b).cwiseAbs().maxCoeff() < 1e-5f);
  }
  SUBCASE("after an activation: folded forward into the next Dense") {
    auto model = ChainBuilder(Shape{6}).dense("d1", 5).relu("r").batch_norm("bn").dense("d2", 3).build();
    auto folded = model;
    CHECK(fold_batch_norm(folded) == 1);
    const auto x = random_inputs(20, 6, 3);
    CHECK((ann::ReferenceInference(model).run(x, 1) - ann::ReferenceInference(folded).run(x, 1)).cwiseAbs().maxCoeff() <
          1e-5f);
  }
  SUBCASE("uses sqrt(var + eps), not sqrt(var) + eps") {
    auto model = ChainBuilder(Shape{1}).dense("d", 1).batch_norm("bn").build();
    auto& bn = model.layers[2].as<ann::BatchNorm>();
    bn.gamma[0] = 1;
    bn.beta[0] = 0;
    bn.moving_mean[0] = 0;
    bn.moving_variance[0] = 0.0f;
    bn.epsilon = 0.25f;
    auto& d = model.layers[1].as<ann::Dense>();
    d.kernel(0, 0) = 1;
    d.bias[0] = 0;
    fold_batch_norm(model);
    CHECK(model.layers[1].as<ann::Dense>().kernel(0, 0) == doctest::Approx(2.0));  // 1/sqrt(0.25)
  }
}

TEST_CASE("canonicalise_flatten permutes the Dense rows so a channels_first flatten becomes a no-op") {
  auto model = ChainBuilder(Shape{3, 3, 2}).flatten("f", ann::Flatten::Order::CHW).dense("d", 4).build();
  auto canon = model;
  CHECK(canonicalise_flatten(canon) == 1);
  CHECK(canon.layers[1].as<ann::Flatten>().order == ann::Flatten::Order::HWC);
  const auto x = random_inputs(7, 18, 4);
  CHECK((ann::ReferenceInference(model).run(x, 1) - ann::ReferenceInference(canon).run(x, 1)).cwiseAbs().maxCoeff() <
        1e-6f);
  auto bad = ChainBuilder(Shape{3, 3, 2}).flatten("f", ann::Flatten::Order::CHW).build();
  CHECK_THROWS_AS(canonicalise_flatten(bad), InputError);
}

TEST_CASE("fold_average_pool folds average pooling of spikes into the next Dense exactly") {
  for (auto padding : {ann::Padding::Valid, ann::Padding::Same}) {
    ann::Pool2D avg;
    avg.kind = ann::PoolKind::Average;
    avg.pool_h = avg.pool_w = 2;
    avg.stride_h = avg.stride_w = 2;
    avg.padding = padding;
    auto model = ChainBuilder(Shape{5, 5, 2}).add("avg", avg, "AveragePooling2D").flatten("f").dense("d", 3).build();
    auto folded = model;
    CHECK(fold_average_pool(folded) == 1);
    CHECK(folded.layers[static_cast<std::size_t>(folded.find("avg"))].is<ann::Flatten>());
    folded.validate();
    const auto x = random_inputs(6, 50, 8);
    CHECK((ann::ReferenceInference(model).run(x, 1) - ann::ReferenceInference(folded).run(x, 1)).cwiseAbs().maxCoeff() <
          1e-5f);
  }
  auto global = ChainBuilder(Shape{3, 3, 4}).add("gap", ann::GlobalAveragePool2D{}, "GlobalAveragePooling2D").dense("d", 2).build();
  auto folded = global;
  CHECK(fold_average_pool(folded) == 1);
  const auto x = random_inputs(6, 36, 9);
  CHECK((ann::ReferenceInference(global).run(x, 1) - ann::ReferenceInference(folded).run(x, 1)).cwiseAbs().maxCoeff() <
        1e-5f);
  // A sharpened conv net with global average pooling before its classifier converts.
  auto net_model = ChainBuilder(Shape{6, 6, 1})
                       .conv("c", 3, 4, ann::Padding::Same)
                       .step("s")
                       .add("gap", ann::GlobalAveragePool2D{}, "GlobalAveragePooling2D")
                       .dense("d", 3)
                       .step("s2")
                       .build();
  CHECK(count(convert_single_pass(net_model, {}).network).neurons == 6 * 6 * 4 + 3);
}

TEST_CASE("lower_activations: step neurons at 0.5 (BRelu) and 0 (Sigmoid), biases left pending") {
  auto model = sharpened_mlp();
  auto state = lower_activations(model);
  const auto& net = state.network;
  REQUIRE(net.populations.size() == 3);
  CHECK(net.populations[0].role == snn::PopulationRole::Input);
  CHECK(net.populations[1].threshold == std::vector<float>(12, 0.5f));
  CHECK(net.populations[2].role == snn::PopulationRole::Output);
  CHECK(net.populations[1].tick == 1);
  CHECK(net.populations[2].tick == 2);
  CHECK(state.pending_bias.count("d1") == 1);
  REQUIRE(state.decode_key.has_value());
  CHECK(state.decode_key->rows() == 5);

  ann::Activation sig;
  sig.kind = ann::ActivationKind::SpikingSigmoid;
  sig.sharpness = 1.0f;
  auto sigmoid_model = ChainBuilder(Shape{4}).dense("d", 3).add("sig", sig).build();
  CHECK(lower_activations(sigmoid_model).network.populations[1].threshold == std::vector<float>(3, 0.0f));
}

TEST_CASE("lower_activations refuses the FIRST unsharpened layer by name") {
  auto relu_first = ChainBuilder(Shape{4}).dense("d1", 3).relu("d1_relu").dense("d2", 3).step("s2", 0.5f).build();
  try {
    lower_activations(relu_first);
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("'d1_relu'") != std::string::npos);
    CHECK(msg.find("'s2'") == std::string::npos);
  }
  auto soft = ChainBuilder(Shape{4}).dense("d1", 3).step("s1").dense("d2", 3).step("s2", 0.99f).build();
  CHECK_THROWS_WITH_AS(lower_activations(soft), doctest::Contains("'s2'"), InputError);
  auto no_activation = ChainBuilder(Shape{4}).dense("d1", 3).step("s1").dense("logits", 3).build();
  CHECK_THROWS_WITH_AS(lower_activations(no_activation), doctest::Contains("'logits'"), InputError);
}

TEST_CASE("maxpool_to_or: OR neurons with weight >= threshold, also for conv -> pool -> step order") {
  auto model = sharpened_cnn();
  const auto state = lower_activations(model);
  const auto& net = state.network;
  const int pool = net.find("p1");
  REQUIRE(pool >= 0);
  CHECK(net.populations[static_cast<std::size_t>(pool)].shape == Shape{4, 4, 4});
  bool found = false;
  for (const auto& pr : net.projections)
    if (pr.post == pool) {
      const auto& pc = std::get<snn::PoolConnector>(pr.connector);
      CHECK(pc.weight >= net.populations[static_cast<std::size_t>(pool)].threshold[0]);
      found = true;
    }
  CHECK(found);
  CHECK(std::find(state.lowerings_applied.begin(), state.lowerings_applied.end(), "maxpool_to_or") !=
        state.lowerings_applied.end());

  // Conv -> MaxPool -> step: max and the monotone step commute, so the OR layer is exact.
  auto swapped = ChainBuilder(Shape{6, 6, 1}).conv("c", 3, 2, ann::Padding::Same).max_pool("p").step("s").build();
  const auto s2 = lower_activations(swapped);
  CHECK(s2.network.populations.size() == 3);
  CHECK(s2.network.populations[2].name == "p");
}

TEST_CASE("bias_neurons: daisy chain from the start source, one tick before each layer") {
  auto state = lower_activations(sharpened_cnn());
  bias_neurons(state, BiasMode::Neurons);
  const auto& net = state.network;
  const int start = net.find("bias_start");
  REQUIRE(start >= 0);
  CHECK(net.populations[static_cast<std::size_t>(start)].is_source());
  CHECK(net.populations[static_cast<std::size_t>(start)].tick == 0);
  for (const auto* layer : {"c1", "p1", "c2", "d"}) {
    const int l = net.find(layer);
    const int b = std::string(layer) == "c1" ? start : net.find(std::string("bias_") + layer);
    REQUIRE(b >= 0);
    CHECK(net.populations[static_cast<std::size_t>(b)].tick == net.populations[static_cast<std::size_t>(l)].tick - 1);
    CHECK(b < l);
  }
  CHECK(state.pending_bias.empty());
  // The pool layer's bias neuron only relays; every other layer gets a 1 × N dense projection.
  int bias_projections = 0;
  for (const auto& pr : net.projections)
    if (net.populations[static_cast<std::size_t>(pr.pre)].role == snn::PopulationRole::Bias &&
        std::holds_alternative<snn::DenseConnector>(pr.connector))
      ++bias_projections;
  CHECK(bias_projections == 3);
  decode_output(state);
  snn::validate(state.network, "test");
}

TEST_CASE("bias_neurons threshold mode: threshold_i = 0.5 - b_i") {
  auto model = sharpened_mlp();
  auto state = lower_activations(model);
  bias_neurons(state, BiasMode::Threshold);
  const auto& b = model.layers[1].as<ann::Dense>().bias;
  CHECK(state.network.populations[1].threshold[3] == doctest::Approx(0.5f - b[3]));
  CHECK(state.network.find("bias_start") < 0);
}

TEST_CASE("converted networks fire exactly like the binary ANN (bias neurons and threshold mode)") {
  for (auto mode : {BiasMode::Neurons, BiasMode::Threshold}) {
    ConvertOptions opt;
    opt.bias = mode;
    const auto cnn = sharpened_cnn();
    check_equivalent(cnn, convert_single_pass(cnn, opt).network, 12, cnn.output);
    const auto mlp = sharpened_mlp();
    check_equivalent(mlp, convert_single_pass(mlp, opt).network, 12, mlp.output - 1);
  }
}

TEST_CASE("encode_input bitplanes: 8 sub-populations with 2^k/255, exact real-valued first layer") {
  auto model = sharpened_mlp();
  ConvertOptions opt;
  opt.input = snn::InputEncoding::Bitplanes;
  const auto net = convert_single_pass(model, opt).network;
  int inputs = 0;
  for (const auto& p : net.populations)
    if (p.role == snn::PopulationRole::Input) {
      CHECK(p.input_bit == inputs);
      ++inputs;
    }
  CHECK(inputs == 8);
  for (const auto& pr : net.projections)
    if (net.populations[static_cast<std::size_t>(pr.pre)].role == snn::PopulationRole::Input) {
      const int k = net.populations[static_cast<std::size_t>(pr.pre)].input_bit;
      CHECK(pr.weight_scale == doctest::Approx(std::ldexp(1.0, k) / 255.0));
    }
  // Equivalence with the ANN on real inputs pixel/255.
  const auto images = random_images(10, 16, 9);
  ann::RowMatrix x(10, 16);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = images[static_cast<std::size_t>(i)] / 255.0f;
  const auto first = ann::ReferenceInference(model).layer_outputs(x, {2}).at(0);
  for (int s = 0; s < 10; ++s) {
    const auto spikes = testing::reference_spikes(net, images.data() + s * 16);
    const auto& d1 = spikes.at(static_cast<std::size_t>(net.find("d1")));
    for (std::size_t i = 0; i < d1.size(); ++i) CHECK(d1[i] == first(s, static_cast<Eigen::Index>(i)));
  }
  // A pooling first layer is not linear: refused.
  auto pool_first = ChainBuilder(Shape{4, 4, 1}).max_pool("p").flatten("f").dense("d", 2).step("s").build();
  CHECK_THROWS_AS(convert_single_pass(pool_first, opt), InputError);
}

TEST_CASE("decode_output: N-hot key, or spike count without Softmax_Decode") {
  auto with_key = lower_activations(sharpened_mlp());
  decode_output(with_key);
  CHECK(with_key.network.decode.kind == snn::Decode::Kind::NHotKey);
  CHECK(with_key.network.decode.classes == 5);
  auto without = lower_activations(sharpened_cnn());
  decode_output(without);
  CHECK(without.network.decode.kind == snn::Decode::Kind::SpikeCount);
  CHECK(without.network.decode.classes == 6);
}

TEST_CASE("temporal_groups: every delay in [1, 2K-1], post.tick = pre.tick + K") {
  for (int k : {1, 2, 3, 5}) {
    ConvertOptions opt;
    opt.temporal_groups = k;
    const auto net = convert_single_pass(sharpened_cnn(), opt).network;
    int max_seen = 0;
    for (const auto& pr : net.projections) {
      CHECK(snn::min_delay(net, pr) >= 1);
      CHECK(snn::max_delay(net, pr) <= 2 * k - 1);
      max_seen = std::max(max_seen, snn::max_delay(net, pr));
      const auto& pre = net.populations[static_cast<std::size_t>(pr.pre)];
      const auto& post = net.populations[static_cast<std::size_t>(pr.post)];
      CHECK(post.tick - pre.tick == k);
    }
    CHECK(max_seen == 2 * k - 1);
    CHECK(net.populations[static_cast<std::size_t>(net.find("c1"))].temporal_groups == k);
  }
  SnnState s;
  CHECK_THROWS_AS(temporal_groups(s, 0), InputError);
}

TEST_CASE("quantise: weights and thresholds to Qm.n, clipped weights counted per projection") {
  auto model = ChainBuilder(Shape{4}).dense("d1", 3).step("s1").build();
  auto& d = model.layers[1].as<ann::Dense>();
  d.kernel(0, 0) = 3.0f;     // clips in Q1.2 (max 1.75)
  d.kernel(1, 0) = -2.5f;    // clips
  d.kernel(2, 0) = 0.3f;     // → 0.25
  auto state = lower_activations(model);
  bias_neurons(state, BiasMode::Threshold);
  quantise(state, parse_weight_format("Q1.2"));
  REQUIRE(state.clipped.size() == 1);
  CHECK(state.clipped[0].clipped == 2);
  CHECK(state.clipped[0].weights == 12);
  const auto& w = std::get<snn::DenseConnector>(state.network.projections[0].connector).weights;
  CHECK(w(0, 0) == 1.75f);
  CHECK(w(1, 0) == -1.75f);
  CHECK(w(2, 0) == 0.25f);
  for (float t : state.network.populations[1].threshold) CHECK(std::fmod(t * 4.0f, 1.0f) == 0.0f);
  CHECK(state.network.weights.to_string() == "Q1.2");
}

TEST_CASE("counts: the seed conv network has 47,640 neurons; dense 100-100 + 100 key layer 300") {
  auto cnn = ChainBuilder(Shape{28, 28, 1})
                 .conv("c1", 5, 32, ann::Padding::Same, 0.05f)
                 .step("s1")
                 .max_pool("p1")
                 .conv("c2", 5, 64, ann::Padding::Same, 0.05f)
                 .step("s2")
                 .max_pool("p2")
                 .flatten("f")
                 .dense("d1", 500, 0.05f)
                 .step("s3")
                 .dense("d2", 100, 0.05f)
                 .step("s4")
                 .softmax_decode("decode", 10)
                 .build();
  const auto counts = count(convert_single_pass(cnn, {}).network);
  CHECK(counts.neurons == 47640);
  CHECK(counts.input_neurons == 784 + 1);  // pixels + the bias start source
  CHECK(counts.bias_neurons == 5);         // relays for p1, c2, p2, d1, d2
  auto mlp = ChainBuilder(Shape{784})
                 .dense("d1", 100)
                 .step("s1")
                 .dense("d2", 100)
                 .step("s2")
                 .dense("key", 100)
                 .step("s3")
                 .softmax_decode("decode", 10)
                 .build();
  const auto c2 = count(convert_single_pass(mlp, {}).network);
  CHECK(c2.neurons == 300);
  CHECK(c2.synapses >= 784 * 100);
}

TEST_CASE("the pipeline records every pass name in order") {
  const auto net = convert_single_pass(sharpened_cnn(), {}).network;
  const std::vector<std::string> expected{"drop_identities",   "fold_batch_norm", "canonicalise_flatten",
                                          "fold_average_pool", "lower_activations", "maxpool_to_or", "encode_input",
                                          "bias_neurons", "decode_output", "temporal_groups", "quantise"};
  CHECK(net.provenance.passes == expected);
}

namespace {

// Residual and branching binary networks (issue 13 item 2).
ann::Model residual_identity() { return testing::residual_identity_model(); }

ann::Model residual_projection() {  // the shortcut is a 1×1 conv: two pre-activations add
  return ChainBuilder(Shape{8, 8, 1}, 4)
      .conv("c1", 3, 4, ann::Padding::Same).step("s1")
      .conv("c2", 3, 8, ann::Padding::Same).step("s2")
      .conv("c3", 3, 8, ann::Padding::Same)
      .from("s1").conv("shortcut", 1, 8, ann::Padding::Same).merge("add", "c3").step("s3")
      .flatten("f").dense("d", 6).step("s4")
      .build();
}

ann::Model branches_of_spikes(bool step_after_add) {  // two branches from the input, spikes added
  ChainBuilder b(Shape{8, 8, 1}, 5);
  b.conv("a", 3, 4, ann::Padding::Same).step("sa").from("input").conv("b", 3, 4, ann::Padding::Same).step("sb").merge("add", "sa");
  if (step_after_add) b.step("or");
  return b.conv("c", 3, 4, ann::Padding::Valid).step("sc").flatten("f").dense("d", 6).step("s4").build();
}

}  // namespace

TEST_CASE("DAG lowering: residual Add = converging projections; spikes exactly the binary ANN's") {
  for (const auto& [name, model] : {std::pair{"identity shortcut", residual_identity()},
                                    std::pair{"projection shortcut", residual_projection()},
                                    std::pair{"Add of spike branches", branches_of_spikes(false)},
                                    std::pair{"step of an Add of spikes (OR)", branches_of_spikes(true)}}) {
    INFO(std::string(name));
    {  // not a vacuous comparison: the binary ANN's output spikes vary
      const auto images = random_images(16, model.input_shape().size(), 11);
      ann::RowMatrix x(16, model.input_shape().size());
      for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = images[static_cast<std::size_t>(i)] >= 128 ? 1.0f : 0.0f;
      const auto out = ann::ReferenceInference(model).layer_outputs(x, {model.output}).at(0);
      CHECK(out.sum() > 0);
      CHECK(out.sum() < static_cast<float>(out.size()));
    }
    for (auto mode : {BiasMode::Neurons, BiasMode::Threshold})
      for (int groups : {1, 3}) {
        ConvertOptions opt;
        opt.bias = mode;
        opt.temporal_groups = groups;
        const ConversionResult state = convert_single_pass(model, opt);
        check_equivalent(model, state.network, 16, model.output);
      }
  }
  // The identity shortcut: one-to-one weight 1 from s1's population into the Add's, two layers on.
  const ConversionResult s = convert_single_pass(residual_identity(), ConvertOptions{});
  const auto& net = s.network;
  const int add = net.find("add"), c1 = net.find("c1");
  REQUIRE(add >= 0);
  REQUIRE(c1 >= 0);
  int into_add = 0;
  for (const auto& pr : net.projections) {
    if (pr.post != add) continue;
    ++into_add;
    if (pr.pre == c1) {
      CHECK(std::holds_alternative<snn::OneToOneConnector>(pr.connector));
      CHECK(snn::min_delay(net, pr) == 2);
    }
  }
  CHECK(into_add == 3);  // c3's conv (from c2), the shortcut (from c1), the bias neuron
  CHECK(net.find("c3") < 0);  // the pre-activation has no population of its own
}

TEST_CASE("DAG lowering refuses what a binary network cannot express, naming the layer") {
  const auto refuses = [](const ann::Model& m, const std::string& piece) {
    try {
      convert_single_pass(m, ConvertOptions{});
      FAIL("converted");
    } catch (const InputError& e) {
      CHECK_MESSAGE(std::string(e.what()).find(piece) != std::string::npos, e.what());
    }
  };
  // a max pool of a sum of spike trains
  refuses(ChainBuilder(Shape{8, 8, 1}).conv("a", 3, 2, ann::Padding::Same).step("sa").from("input")
              .conv("b", 3, 2, ann::Padding::Same).step("sb").merge("add", "sa").max_pool("p").flatten("f").dense("d", 3)
              .step("s").build(),
          "layer 'p'");
  // Subtract is not a binary network
  refuses(ChainBuilder(Shape{8, 8, 1}).conv("a", 3, 2, ann::Padding::Same).step("sa").conv("b", 3, 2, ann::Padding::Same)
              .merge("sub", "sa", ann::MergeKind::Subtract).step("s").flatten("f").dense("d", 3).step("s2").build(),
          "layer 'sub'");
  // the output is a sum of spike trains
  refuses(ChainBuilder(Shape{4}).dense("a", 3).step("sa").from("input").dense("b", 3).step("sb").merge("add", "sa").build(),
          "the output");
}
