#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "common/error.hpp"
#include "converter/ann/model.hpp"

using namespace grindstone;
using namespace grindstone::ann;

namespace {

Layer make_layer(std::string name, LayerParams params, std::vector<int> inputs, Shape shape) {
  Layer l;
  l.name = std::move(name);
  l.params = std::move(params);
  l.inputs = std::move(inputs);
  l.output_shape = std::move(shape);
  return l;
}

Dense dense(int in, int out) {
  Dense d;
  d.kernel = Matrix::Constant(in, out, 0.1f);
  d.bias = Vector::Zero(out);
  return d;
}

Conv2D conv(int kh, int kw, int cin, int cout, Padding padding, int stride = 1, int dilation = 1) {
  Conv2D c;
  c.kernel_h = kh;
  c.kernel_w = kw;
  c.in_channels = cin;
  c.filters = cout;
  c.stride_h = c.stride_w = stride;
  c.dilation_h = c.dilation_w = dilation;
  c.padding = padding;
  c.kernel = Matrix::Zero(kh * kw * cin, cout);
  c.bias = Vector::Zero(cout);
  return c;
}

/// Input (28,28,1) → Conv 5x5x6 valid → MaxPool 2 → Flatten → Dense 10.
Model small_cnn() {
  Model m;
  m.name = "cnn";
  m.layers.push_back(make_layer("input", InputLayer{}, {}, Shape{28, 28, 1}));
  m.layers.push_back(make_layer("conv", conv(5, 5, 1, 6, Padding::Valid), {0}, Shape{24, 24, 6}));
  m.layers.push_back(make_layer("pool", Pool2D{}, {1}, Shape{12, 12, 6}));
  m.layers.push_back(make_layer("flatten", Flatten{}, {2}, Shape{864}));
  m.layers.push_back(make_layer("dense", dense(864, 10), {3}, Shape{10}));
  m.output = 4;
  return m;
}

Shape infer(const LayerParams& p, Shape in) {
  return infer_output_shape(make_layer("l", p, {0}, {}), {std::move(in)});
}

}  // namespace

TEST_CASE("param_count follows Keras's counting") {
  Layer d = make_layer("d", dense(784, 128), {0}, Shape{128});
  CHECK(d.param_count() == 784 * 128 + 128);
  d.as<Dense>().use_bias = false;
  CHECK(d.param_count() == 784 * 128);
  Layer c = make_layer("c", conv(3, 3, 2, 8, Padding::Same), {0}, Shape{});
  CHECK(c.param_count() == 3 * 3 * 2 * 8 + 8);
  BatchNorm bn;
  bn.gamma = bn.beta = bn.moving_mean = bn.moving_variance = Vector::Ones(16);
  CHECK(make_layer("bn", bn, {0}, Shape{16}).param_count() == 64);
  CHECK(make_layer("p", Pool2D{}, {0}, Shape{}).param_count() == 0);
  SoftmaxDecode sd;
  sd.key = Matrix::Zero(10, 100);
  CHECK(make_layer("sd", sd, {0}, Shape{10}).param_count() == 0);

  Model m = small_cnn();
  CHECK(m.param_count() == 5 * 5 * 6 + 6 + 864 * 10 + 10);
  CHECK(m.input_index() == 0);
  CHECK(m.find("pool") == 2);
  CHECK(m.find("nope") == -1);
  CHECK(m.input_shape() == Shape{28, 28, 1});
  CHECK(m.output_shape() == Shape{10});
}

TEST_CASE("conv output shapes follow Keras 'same' and 'valid'") {
  CHECK(infer(conv(5, 5, 1, 6, Padding::Valid), Shape{28, 28, 1}) == Shape{24, 24, 6});
  CHECK(infer(conv(5, 5, 1, 6, Padding::Same), Shape{28, 28, 1}) == Shape{28, 28, 6});
  CHECK(infer(conv(3, 3, 1, 4, Padding::Same, 2), Shape{7, 7, 1}) == Shape{4, 4, 4});     // ceil(7/2)
  CHECK(infer(conv(3, 3, 1, 4, Padding::Valid, 2), Shape{7, 7, 1}) == Shape{3, 3, 4});    // floor(4/2)+1
  CHECK(infer(conv(3, 3, 1, 4, Padding::Valid, 1, 2), Shape{9, 9, 1}) == Shape{5, 5, 4});  // 9-(2·2+1)+1
  CHECK_THROWS_AS(infer(conv(5, 5, 1, 6, Padding::Valid), Shape{4, 4, 1}), InputError);
  CHECK_THROWS_AS(infer(conv(3, 3, 2, 6, Padding::Valid), Shape{8, 8, 1}), InputError);  // channel mismatch
  CHECK_THROWS_AS(infer(conv(3, 3, 1, 6, Padding::Valid), Shape{8, 8}), InputError);     // not an image
}

TEST_CASE("pooling, padding, flatten, reshape, decode shapes") {
  Pool2D p;
  CHECK(infer(p, Shape{7, 7, 3}) == Shape{3, 3, 3});
  p.padding = Padding::Same;
  CHECK(infer(p, Shape{7, 7, 3}) == Shape{4, 4, 3});
  Pool2D p3{PoolKind::Average, 3, 3, 1, 1, Padding::Valid};
  CHECK(infer(p3, Shape{5, 6, 2}) == Shape{3, 4, 2});
  CHECK(infer(GlobalAveragePool2D{}, Shape{5, 6, 7}) == Shape{7});
  CHECK(infer(ZeroPad2D{1, 2, 3, 4}, Shape{5, 5, 1}) == Shape{8, 12, 1});
  CHECK(infer(Flatten{}, Shape{4, 4, 2}) == Shape{32});
  CHECK(infer(Flatten{Flatten::Order::CHW}, Shape{4, 4, 2}) == Shape{32});
  CHECK_THROWS_AS(infer(Flatten{Flatten::Order::CHW}, Shape{32}), InputError);
  CHECK(infer(Reshape{Shape{-1, 7}}, Shape{28, 2}) == Shape{8, 7});
  CHECK(infer(Reshape{Shape{28, 28, 1}}, Shape{784}) == Shape{28, 28, 1});
  CHECK_THROWS_AS(infer(Reshape{Shape{-1, -1}}, Shape{784}), InputError);
  CHECK_THROWS_AS(infer(Reshape{Shape{-1, 5}}, Shape{784}), InputError);
  CHECK_THROWS_AS(infer(Reshape{Shape{27, 28}}, Shape{784}), InputError);
  SoftmaxDecode sd;
  sd.key = Matrix::Zero(10, 100);
  CHECK(infer(sd, Shape{100}) == Shape{10});
  CHECK_THROWS_AS(infer(sd, Shape{99}), InputError);
  sd.key(0, 0) = 0.5f;
  CHECK_THROWS_AS(infer(sd, Shape{100}), InputError);
  CHECK(infer(dense(3, 5), Shape{4, 3}) == Shape{4, 5});  // Dense acts on the last axis
  CHECK_THROWS_AS(infer(dense(3, 5), Shape{4}), InputError);
  BatchNorm bn;
  bn.gamma = bn.beta = bn.moving_mean = bn.moving_variance = Vector::Ones(3);
  CHECK(infer(bn, Shape{2, 2, 3}) == Shape{2, 2, 3});
  CHECK_THROWS_AS(infer(bn, Shape{2, 2, 4}), InputError);
}

TEST_CASE("validate accepts a good model and names the layer and field of a bad one") {
  CHECK_NOTHROW(small_cnn().validate());

  auto message_of = [](const Model& m) {
    try {
      m.validate();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };

  Model wrong_shape = small_cnn();
  wrong_shape.layers[4].as<Dense>().kernel = Matrix::Zero(800, 10);
  auto msg = message_of(wrong_shape);
  CHECK(msg.find("layer 'dense'") != std::string::npos);
  CHECK(msg.find("kernel") != std::string::npos);

  Model wrong_recorded = small_cnn();
  wrong_recorded.layers[2].output_shape = Shape{13, 13, 6};
  msg = message_of(wrong_recorded);
  CHECK(msg.find("layer 'pool'") != std::string::npos);
  CHECK(msg.find("output_shape") != std::string::npos);

  Model nan_weight = small_cnn();
  nan_weight.layers[4].as<Dense>().bias(3) = std::numeric_limits<float>::quiet_NaN();
  msg = message_of(nan_weight);
  CHECK(msg.find("layer 'dense'") != std::string::npos);
  CHECK(msg.find("bias") != std::string::npos);

  Model inf_weight = small_cnn();
  inf_weight.layers[1].as<Conv2D>().kernel(0, 0) = std::numeric_limits<float>::infinity();
  CHECK(message_of(inf_weight).find("layer 'conv': kernel") != std::string::npos);

  Model cycle = small_cnn();
  cycle.layers[1].inputs = {3};
  CHECK(message_of(cycle).find("cycle") != std::string::npos);

  Model out_of_order = small_cnn();
  out_of_order.layers[1].inputs = {0};
  out_of_order.layers[2].inputs = {3};  // pool ← flatten: no cycle (flatten ← pool would be), so build one
  out_of_order.layers[3].inputs = {1};
  out_of_order.layers[4].inputs = {2};
  CHECK(message_of(out_of_order).find("topological order") != std::string::npos);

  Model dangling = small_cnn();
  dangling.layers.push_back(make_layer("extra", dense(10, 2), {4}, Shape{2}));
  CHECK(message_of(dangling).find("layer 'extra'") != std::string::npos);

  Model two_inputs = small_cnn();
  two_inputs.layers.push_back(make_layer("input2", InputLayer{}, {}, Shape{3}));
  CHECK(message_of(two_inputs).find("more than one InputLayer") != std::string::npos);

  Model duplicate = small_cnn();
  duplicate.layers[3].name = "pool";
  CHECK(message_of(duplicate).find("duplicate") != std::string::npos);

  Model bad_output = small_cnn();
  bad_output.output = 9;
  CHECK(message_of(bad_output).find("output") != std::string::npos);

  Model bad_index = small_cnn();
  bad_index.layers[2].inputs = {42};
  CHECK(message_of(bad_index).find("out of range") != std::string::npos);
}
