// Operator fusion for the SpiNNaker 2 mapper on a hand-built model.
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "converter/passes/mac_graph.hpp"

using namespace grindstone;

namespace {

int add_layer(ann::Model& m, std::string name, std::string cls, ann::LayerParams params, std::vector<int> inputs, Shape out) {
  ann::Layer l;
  l.name = std::move(name);
  l.keras_class = std::move(cls);
  l.params = std::move(params);
  l.inputs = std::move(inputs);
  l.output_shape = std::move(out);
  m.layers.push_back(std::move(l));
  return static_cast<int>(m.layers.size()) - 1;
}

}  // namespace

TEST_CASE("fuse_mac_operators: conv + BN + ReLU + pool become one op; Flatten is layout; Dense another op") {
  ann::Model m;
  m.name = "small";
  const int in = add_layer(m, "input", "InputLayer", ann::InputLayer{}, {}, Shape{32, 32, 3});
  ann::Conv2D c;
  c.kernel_h = c.kernel_w = 3;
  c.in_channels = 3;
  c.filters = 16;
  c.padding = ann::Padding::Same;
  const int conv = add_layer(m, "conv", "Conv2D", c, {in}, Shape{32, 32, 16});
  const int bn = add_layer(m, "bn", "BatchNormalization", ann::BatchNorm{}, {conv}, Shape{32, 32, 16});
  ann::Activation relu;
  relu.kind = ann::ActivationKind::ReLU;
  const int act = add_layer(m, "relu", "Activation", relu, {bn}, Shape{32, 32, 16});
  const int pool = add_layer(m, "pool", "MaxPooling2D", ann::Pool2D{}, {act}, Shape{16, 16, 16});
  const int flat = add_layer(m, "flatten", "Flatten", ann::Flatten{}, {pool}, Shape{4096});
  ann::Dense d;
  d.kernel = ann::Matrix::Zero(4096, 10);
  m.output = add_layer(m, "dense", "Dense", d, {flat}, Shape{10});

  const auto g = passes::fuse_mac_operators(m);
  REQUIRE(g.ops.size() == 2);
  const auto& op = g.ops[0];
  CHECK(op.name == "conv");
  CHECK(op.fused == std::vector<std::string>{"bn", "relu", "pool"});
  CHECK(op.out_h == 32);
  CHECK(op.result_h == 16);
  CHECK(op.macs() == 32 * 32 * 16 * 27);
  CHECK(op.output_bytes() == 16 * 16 * 16);
  CHECK(g.ops[1].in_channels == 4096);
  CHECK(g.ops[1].out_channels == 10);
  CHECK(g.macs() == 32 * 32 * 16 * 27 + 4096 * 10);
  CHECK(g.input_bytes == 32 * 32 * 3);

  // A pool over a tensor another layer also reads cannot be fused: refused, naming the layer.
  ann::Model shared = m;
  shared.layers[static_cast<std::size_t>(flat)].inputs = {act};
  shared.layers[static_cast<std::size_t>(flat)].output_shape = Shape{16384};
  shared.layers.back().params = [] {
    ann::Dense d2;
    d2.kernel = ann::Matrix::Zero(16384, 10);
    return d2;
  }();
  CHECK_THROWS_WITH_AS(passes::fuse_mac_operators(shared), doctest::Contains("'pool'"), InputError);
}
