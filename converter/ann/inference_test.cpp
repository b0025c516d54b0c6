#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "common/error.hpp"
#include "converter/ann/inference.hpp"

using namespace grindstone;
using namespace grindstone::ann;

namespace {

struct Builder {
  Model model;
  explicit Builder(Shape input) {
    model.name = "test";
    add("input", InputLayer{}, std::move(input), -1);
  }
  /// Appends a layer reading the previous one; infers its shape.
  Builder& add(const std::string& name, LayerParams params, Shape shape = {}, int from = -2) {
    Layer l;
    l.name = name;
    l.params = std::move(params);
    if (from == -2) from = static_cast<int>(model.layers.size()) - 1;
    if (from >= 0) l.inputs = {from};
    if (from >= 0) {
      l.output_shape = infer_output_shape(l, {model.layers[static_cast<std::size_t>(from)].output_shape});
    } else {
      l.output_shape = std::move(shape);
    }
    model.layers.push_back(std::move(l));
    model.output = static_cast<int>(model.layers.size()) - 1;
    return *this;
  }
};

Matrix random_matrix(Eigen::Index r, Eigen::Index c, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Matrix m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

RowMatrix random_inputs(Eigen::Index n, Eigen::Index size, unsigned seed) {
  return RowMatrix(random_matrix(n, size, seed));
}

Conv2D make_conv(int kh, int kw, int cin, int cout, Padding pad, int stride, int dilation, unsigned seed) {
  Conv2D c;
  c.kernel_h = kh;
  c.kernel_w = kw;
  c.in_channels = cin;
  c.filters = cout;
  c.stride_h = c.stride_w = stride;
  c.dilation_h = c.dilation_w = dilation;
  c.padding = pad;
  c.kernel = random_matrix(kh * kw * cin, cout, seed);
  c.bias = random_matrix(cout, 1, seed + 1);
  return c;
}

/// Direct convolution with plain loops (Keras 'same': the smaller half of the padding first).
std::vector<float> naive_conv(const Conv2D& c, const float* x, int H, int W, int OH, int OW) {
  int pad_top = 0, pad_left = 0;
  if (c.padding == Padding::Same) {
    pad_top = std::max((OH - 1) * c.stride_h + (c.kernel_h - 1) * c.dilation_h + 1 - H, 0) / 2;
    pad_left = std::max((OW - 1) * c.stride_w + (c.kernel_w - 1) * c.dilation_w + 1 - W, 0) / 2;
  }
  std::vector<float> y(static_cast<std::size_t>(OH * OW * c.filters));
  for (int oh = 0; oh < OH; ++oh)
    for (int ow = 0; ow < OW; ++ow)
      for (int f = 0; f < c.filters; ++f) {
        double acc = c.bias(f);
        for (int i = 0; i < c.kernel_h; ++i)
          for (int j = 0; j < c.kernel_w; ++j)
            for (int ch = 0; ch < c.in_channels; ++ch) {
              const int ih = oh * c.stride_h - pad_top + i * c.dilation_h;
              const int iw = ow * c.stride_w - pad_left + j * c.dilation_w;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              acc += static_cast<double>(x[(ih * W + iw) * c.in_channels + ch]) *
                     c.kernel((i * c.kernel_w + j) * c.in_channels + ch, f);
            }
        y[static_cast<std::size_t>((oh * OW + ow) * c.filters + f)] = static_cast<float>(acc);
      }
  return y;
}

}  // namespace

TEST_CASE("Dense + ReLU matches a hand computation") {
  Dense d;
  d.kernel = Matrix(2, 3);
  d.kernel << 1, -1, 0.5, 2, 0, -2;
  d.bias = Vector(3);
  d.bias << 0.1f, 0.2f, 0.3f;
  Activation relu;
  relu.kind = ActivationKind::ReLU;
  Builder b(Shape{2});
  b.add("dense", d).add("relu", relu);
  ReferenceInference inf(b.model);
  RowMatrix x(2, 2);
  x << 1, 2, -1, 0.5;
  const RowMatrix y = inf.run(x, 1);
  CHECK(y(0, 0) == doctest::Approx(5.1));   // 1 + 4 + 0.1
  CHECK(y(0, 1) == doctest::Approx(0.0));   // -1 + 0.2 < 0
  CHECK(y(0, 2) == doctest::Approx(0.0));   // 0.5 - 4 + 0.3 < 0
  CHECK(y(1, 0) == doctest::Approx(0.1));   // -1 + 1 + 0.1
  CHECK(y(1, 1) == doctest::Approx(1.2));
  CHECK(y(1, 2) == doctest::Approx(0.0));   // -0.5 - 1 + 0.3
  CHECK_THROWS_AS(inf.run(RowMatrix::Zero(1, 3)), InputError);
}

TEST_CASE("Conv2D (im2col + GEMM) matches direct convolution for same/valid, stride, dilation") {
  struct Case { int kh, kw, cin, cout, stride, dilation; Padding pad; int H, W; };
  const Case cases[] = {{3, 3, 2, 4, 1, 1, Padding::Same, 7, 6},  {5, 5, 1, 6, 1, 1, Padding::Valid, 12, 12},
                        {3, 3, 3, 2, 2, 1, Padding::Same, 8, 7},  {2, 2, 1, 3, 1, 1, Padding::Same, 5, 5},
                        {3, 2, 2, 2, 2, 1, Padding::Valid, 9, 8}, {3, 3, 1, 2, 1, 2, Padding::Same, 9, 9},
                        {3, 3, 2, 2, 1, 2, Padding::Valid, 9, 10}};
  unsigned seed = 1;
  for (const auto& k : cases) {
    const Conv2D c = make_conv(k.kh, k.kw, k.cin, k.cout, k.pad, k.stride, k.dilation, seed++);
    Builder b(Shape{k.H, k.W, k.cin});
    b.add("conv", c);
    const Shape out = b.model.output_shape();
    ReferenceInference inf(b.model);
    const RowMatrix x = random_inputs(70, k.H * k.W * k.cin, seed++);  // > one chunk
    const RowMatrix y = inf.run(x, 2);
    for (Eigen::Index s : {Eigen::Index{0}, Eigen::Index{33}, Eigen::Index{69}}) {
      const auto ref = naive_conv(c, x.row(s).data(), k.H, k.W, static_cast<int>(out[0]), static_cast<int>(out[1]));
      for (std::size_t i = 0; i < ref.size(); ++i) REQUIRE(y(s, static_cast<Eigen::Index>(i)) == doctest::Approx(ref[i]).epsilon(1e-4));
    }
  }
}

TEST_CASE("Keras 'same' puts the extra padding row/column after the image") {
  Conv2D c = make_conv(2, 2, 1, 1, Padding::Same, 1, 1, 3);
  c.kernel.setOnes();
  c.bias.setZero();
  Builder b(Shape{3, 3, 1});
  b.add("conv", c);
  RowMatrix x(1, 9);
  x << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  const RowMatrix y = ReferenceInference(b.model).run(x, 1);
  CHECK(y(0, 0) == 12.0f);  // 1+2+4+5: no padding before
  CHECK(y(0, 8) == 9.0f);   // bottom-right: padding after
}

TEST_CASE("pooling: max, average excluding padding, global average") {
  Builder b(Shape{3, 3, 1});
  b.add("avg", Pool2D{PoolKind::Average, 2, 2, 2, 2, Padding::Same});
  RowMatrix x(1, 9);
  x << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  const RowMatrix avg = ReferenceInference(b.model).run(x, 1);
  REQUIRE(avg.cols() == 4);
  CHECK(avg(0, 0) == doctest::Approx(3.0));   // (1+2+4+5)/4
  CHECK(avg(0, 1) == doctest::Approx(4.5));   // (3+6)/2: padding excluded
  CHECK(avg(0, 3) == doctest::Approx(9.0));
  Builder m(Shape{3, 3, 1});
  m.add("max", Pool2D{PoolKind::Max, 2, 2, 1, 1, Padding::Valid});
  const RowMatrix mx = ReferenceInference(m.model).run(-x, 1);
  CHECK(mx(0, 0) == -1.0f);
  CHECK(mx(0, 3) == -5.0f);
  Builder g(Shape{2, 2, 2});
  g.add("gap", GlobalAveragePool2D{});
  RowMatrix x2(1, 8);
  x2 << 1, 10, 2, 20, 3, 30, 4, 40;
  const RowMatrix gy = ReferenceInference(g.model).run(x2, 1);
  CHECK(gy(0, 0) == doctest::Approx(2.5));
  CHECK(gy(0, 1) == doctest::Approx(25.0));
}

TEST_CASE("ZeroPad, Flatten CHW, Reshape, BatchNorm") {
  Builder b(Shape{2, 2, 2});
  b.add("pad", ZeroPad2D{1, 0, 0, 1}).add("flat", Flatten{Flatten::Order::CHW});
  RowMatrix x(1, 8);
  x << 1, 10, 2, 20, 3, 30, 4, 40;  // (h, w, c)
  const RowMatrix y = ReferenceInference(b.model).run(x, 1);
  // padded (3, 3, 2): row 0 zeros, column 2 zeros. CHW order: channel 0 then channel 1.
  const float expected[] = {0, 0, 0, 1, 2, 0, 3, 4, 0, 0, 0, 0, 10, 20, 0, 30, 40, 0};
  REQUIRE(y.cols() == 18);
  for (int i = 0; i < 18; ++i) CHECK(y(0, i) == expected[i]);

  BatchNorm bn;
  bn.gamma = Vector::Constant(2, 2.0f);
  bn.beta = Vector::Constant(2, 1.0f);
  bn.moving_mean = Vector::Constant(2, 0.5f);
  bn.moving_variance = Vector::Constant(2, 3.0f);
  bn.epsilon = 1.0f;
  Builder n(Shape{4});
  n.add("reshape", Reshape{Shape{2, -1}}).add("bn", bn);
  RowMatrix v(1, 4);
  v << 0.5f, 2.5f, 4.5f, 0.0f;
  const RowMatrix bny = ReferenceInference(n.model).run(v, 1);
  CHECK(bny(0, 0) == doctest::Approx(1.0));        // (0.5-0.5)·2/sqrt(4) + 1
  CHECK(bny(0, 1) == doctest::Approx(3.0));        // 2·2/2 + 1
  CHECK(bny(0, 3) == doctest::Approx(0.5));        // -0.5·2/2 + 1
}

TEST_CASE("Whetstone activations and Softmax_Decode") {
  CHECK(spiking_brelu(0.5f, 1.0f) == 1.0f);
  CHECK(spiking_brelu(0.4999f, 1.0f) == 0.0f);
  CHECK(spiking_brelu(0.5f, 0.0f) == doctest::Approx(0.5));
  CHECK(spiking_brelu(0.7f, 0.5f) == doctest::Approx((0.2 / 0.501) + 0.5));
  CHECK(spiking_brelu(3.0f, 0.5f) == 1.0f);
  CHECK(spiking_brelu(-3.0f, 0.2f) == 0.0f);
  CHECK(spiking_sigmoid(0.0f, 1.0f) == 1.0f);
  CHECK(spiking_sigmoid(-1e-6f, 1.0f) == 0.0f);
  CHECK(spiking_sigmoid(0.0f, 0.3f) == doctest::Approx(0.5));

  Activation brelu;
  brelu.kind = ActivationKind::SpikingBRelu;
  brelu.sharpness = 1.0f;
  SoftmaxDecode dec;
  dec.key = Matrix(2, 3);
  dec.key << 1, 0, 1, 0, 1, 1;
  Builder b(Shape{3});
  b.add("brelu", brelu).add("decode", dec);
  RowMatrix x(1, 3);
  x << 0.6f, 0.2f, 0.5f;  // → spikes (1, 0, 1)
  const RowMatrix y = ReferenceInference(b.model).run(x, 1);
  // class 0 key (1,0,1) → signed (1,-1,1), spikes signed (1,-1,1): score 3; class 1 (-1,1,1): score -1
  CHECK(y(0, 0) == doctest::Approx(std::exp(3.0) / (std::exp(3.0) + std::exp(-1.0))));
  CHECK(argmax_rows(y).front() == 0);

  Activation soft;
  soft.kind = ActivationKind::Softmax;
  Builder s(Shape{2, 2});
  s.add("softmax", soft);
  RowMatrix z(1, 4);
  z << 0, 0, 1, 3;
  const RowMatrix sz = ReferenceInference(s.model).run(z, 1);
  CHECK(sz(0, 0) == doctest::Approx(0.5));  // softmax over the last axis only
  CHECK(sz(0, 3) == doctest::Approx(1.0 / (1.0 + std::exp(-2.0))));

  Activation relu6;
  relu6.kind = ActivationKind::ReLU;
  relu6.relu_max_value = 6.0f;
  relu6.relu_negative_slope = 0.1f;
  CHECK(keras_relu(7.0f, relu6) == 6.0f);
  CHECK(keras_relu(-2.0f, relu6) == doctest::Approx(-0.2));
}

TEST_CASE("results are identical for any thread count; layer_outputs agree with run") {
  Builder b(Shape{8, 8, 1});
  Activation relu;
  relu.kind = ActivationKind::ReLU;
  b.add("conv", make_conv(3, 3, 1, 4, Padding::Same, 1, 1, 7)).add("relu", relu)
      .add("pool", Pool2D{}).add("flat", Flatten{});
  Dense d;
  d.kernel = random_matrix(64, 10, 9);
  d.bias = random_matrix(10, 1, 10);
  b.add("dense", d);
  ReferenceInference inf(b.model);
  const RowMatrix x = random_inputs(300, 64, 11);
  const RowMatrix one = inf.run(x, 1);
  const RowMatrix two = inf.run(x, 2);
  CHECK((one.array() == two.array()).all());
  const auto outs = inf.layer_outputs(x, {}, 2);
  REQUIRE(outs.size() == b.model.layers.size());
  CHECK((outs.back().array() == one.array()).all());
  CHECK((outs.front().array() == x.array()).all());
  CHECK(outs[2].minCoeff() >= 0.0f);  // after ReLU
  const auto some = inf.layer_outputs(x, {3}, 1);
  REQUIRE(some.size() == 1);
  CHECK((some[0].array() == outs[3].array()).all());
  CHECK_THROWS_AS(inf.layer_outputs(x, {17}), InputError);
}

namespace {

/// Appends a layer reading `from` (several for merge layers); infers its shape.
int add_layer(Model& model, const std::string& name, LayerParams params, std::vector<int> from) {
  Layer l;
  l.name = name;
  l.params = std::move(params);
  l.inputs = std::move(from);
  std::vector<Shape> shapes;
  for (int i : l.inputs) shapes.push_back(model.layers[static_cast<std::size_t>(i)].output_shape);
  l.output_shape = infer_output_shape(l, shapes);
  model.layers.push_back(std::move(l));
  model.output = static_cast<int>(model.layers.size()) - 1;
  return model.output;
}

Activation relu() {
  Activation a;
  a.kind = ActivationKind::ReLU;
  return a;
}

}  // namespace

TEST_CASE("merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum by hand") {
  Builder b(Shape{3});
  Model& m = b.model;
  Dense twice;  // x ↦ 2x
  twice.kernel = 2.0f * Matrix::Identity(3, 3);
  twice.bias = Vector::Zero(3);
  const int d = add_layer(m, "twice", twice, {0});
  const RowMatrix x = (RowMatrix(1, 3) << 1.0f, -2.0f, 3.0f).finished();
  struct Case {
    MergeKind kind;
    std::vector<float> expected;  // merge(x, 2x, x) (Subtract: x − 2x)
  };
  const Case cases[] = {{MergeKind::Add, {4, -8, 12}},      {MergeKind::Subtract, {-1, 2, -3}},
                        {MergeKind::Multiply, {2, -16, 54}}, {MergeKind::Average, {4.0f / 3, -8.0f / 3, 4}},
                        {MergeKind::Maximum, {2, -2, 6}},   {MergeKind::Minimum, {1, -4, 3}}};
  for (const auto& c : cases) {
    CAPTURE(static_cast<int>(c.kind));
    Model mm = m;
    const std::vector<int> from = c.kind == MergeKind::Subtract ? std::vector<int>{0, d} : std::vector<int>{0, d, 0};
    add_layer(mm, "merge", Merge{c.kind}, from);
    const auto y = ReferenceInference(mm).run(x, 1);
    for (int i = 0; i < 3; ++i) CHECK(y(0, i) == doctest::Approx(c.expected[static_cast<std::size_t>(i)]));
  }
  // Subtract takes exactly two; merge inputs must have equal shapes; a Dense takes one input.
  Model bad = m;
  CHECK_THROWS_AS(add_layer(bad, "sub3", Merge{MergeKind::Subtract}, {0, d, 0}), InputError);
  Dense narrow;
  narrow.kernel = Matrix::Ones(3, 2);
  narrow.bias = Vector::Zero(2);
  const int n2 = add_layer(bad, "narrow", narrow, {0});
  CHECK_THROWS_WITH_AS(add_layer(bad, "add", Merge{}, {0, n2}), doctest::Contains("equal shapes"), InputError);
  CHECK_THROWS_WITH_AS(add_layer(bad, "dense2", twice, {0, d}), doctest::Contains("exactly one input"), InputError);
  CHECK_THROWS_WITH_AS(add_layer(bad, "add1", Merge{}, {0}), doctest::Contains("at least two"), InputError);
}

TEST_CASE("residual block: relu(conv(x)) + x, evaluated on the DAG, equals the hand computation") {
  Builder b(Shape{4, 4, 2});
  Model& m = b.model;
  const Conv2D conv = make_conv(3, 3, 2, 2, Padding::Same, 1, 1, 7);
  const int c = add_layer(m, "conv", conv, {0});
  const int r = add_layer(m, "conv/activation", relu(), {c});
  add_layer(m, "add", Merge{}, {r, 0});
  add_layer(m, "gmp", GlobalMaxPool2D{}, {m.output});
  m.validate();
  CHECK_FALSE(m.is_chain());
  const RowMatrix x = random_inputs(3, 32, 11);
  const auto y = ReferenceInference(m).run(x, 1);
  REQUIRE(y.cols() == 2);
  for (Eigen::Index s = 0; s < x.rows(); ++s) {
    const auto z = naive_conv(conv, x.row(s).data(), 4, 4, 4, 4);
    for (int ch = 0; ch < 2; ++ch) {
      float best = -1e30f;
      for (int p = 0; p < 16; ++p)
        best = std::max(best, std::max(z[static_cast<std::size_t>(p * 2 + ch)], 0.0f) + x(s, p * 2 + ch));
      CHECK(y(s, ch) == doctest::Approx(best).epsilon(1e-5));
    }
  }
  // Any thread count gives the same bits.
  const RowMatrix many = random_inputs(300, 32, 12);
  CHECK(ReferenceInference(m).run(many, 1) == ReferenceInference(m).run(many, 4));
}

TEST_CASE("Concatenate along channels, rows and the flat axis interleaves as Keras does") {
  Builder b(Shape{2, 2, 1});
  Model& m = b.model;
  Rescale tenfold{Vector::Constant(1, 10.0f), Vector::Constant(1, 0.5f)};
  const int t = add_layer(m, "tenfold", tenfold, {0});
  const RowMatrix x = (RowMatrix(1, 4) << 1, 2, 3, 4).finished();
  SUBCASE("channels (axis 2)") {
    add_layer(m, "cat", Concatenate{2}, {0, t});
    CHECK(m.layers.back().output_shape == Shape{2, 2, 2});
    const auto y = ReferenceInference(m).run(x, 1);
    CHECK(y == (RowMatrix(1, 8) << 1, 10.5f, 2, 20.5f, 3, 30.5f, 4, 40.5f).finished());
  }
  SUBCASE("rows (axis 0)") {
    add_layer(m, "cat", Concatenate{0}, {t, 0});
    CHECK(m.layers.back().output_shape == Shape{4, 2, 1});
    const auto y = ReferenceInference(m).run(x, 1);
    CHECK(y == (RowMatrix(1, 8) << 10.5f, 20.5f, 30.5f, 40.5f, 1, 2, 3, 4).finished());
  }
  SUBCASE("columns (axis 1)") {
    add_layer(m, "cat", Concatenate{1}, {0, t});
    CHECK(m.layers.back().output_shape == Shape{2, 4, 1});
    const auto y = ReferenceInference(m).run(x, 1);
    CHECK(y == (RowMatrix(1, 8) << 1, 2, 10.5f, 20.5f, 3, 4, 30.5f, 40.5f).finished());
  }
  SUBCASE("mismatched shapes are refused") {
    const int p = add_layer(m, "pool", Pool2D{}, {0});
    CHECK_THROWS_WITH_AS(add_layer(m, "cat", Concatenate{2}, {0, p}), doctest::Contains("except along axis"), InputError);
  }
}

TEST_CASE("DepthwiseConv2D equals a Conv2D whose kernel is zero between different channels") {
  for (const auto pad : {Padding::Same, Padding::Valid}) {
    for (const int stride : {1, 2}) {
      CAPTURE(stride);
      const int C = 3, M = 2, K = 3;
      DepthwiseConv2D d;
      d.kernel_h = d.kernel_w = K;
      d.channels = C;
      d.depth_multiplier = M;
      d.stride_h = d.stride_w = stride;
      d.padding = pad;
      d.kernel = random_matrix(K * K, C * M, 21);
      d.bias = random_matrix(C * M, 1, 22);
      Conv2D full = make_conv(K, K, C, C * M, pad, stride, 1, 23);
      full.kernel.setZero();
      full.bias = d.bias;
      for (int r = 0; r < K * K; ++r)
        for (int c = 0; c < C; ++c)
          for (int k = 0; k < M; ++k) full.kernel(r * C + c, c * M + k) = d.kernel(r, c * M + k);
      Builder a(Shape{5, 6, C});
      a.add("dw", d);
      Builder e(Shape{5, 6, C});
      e.add("conv", full);
      CHECK(a.model.output_shape() == e.model.output_shape());
      CHECK(a.model.param_count() == K * K * C * M + C * M);
      const RowMatrix x = random_inputs(4, 5 * 6 * C, 24);
      const auto ya = ReferenceInference(a.model).run(x, 1);
      const auto ye = ReferenceInference(e.model).run(x, 1);
      CHECK((ya - ye).cwiseAbs().maxCoeff() < 1e-5f);
    }
  }
}
