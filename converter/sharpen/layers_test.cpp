// Finite-difference gradient checks of the sharpening trainer's layers.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <tuple>

#include "common/parallel.hpp"
#include "common/random.hpp"
#include "converter/sharpen/key.hpp"
#include "converter/sharpen/layers.hpp"

using namespace grindstone;
using namespace grindstone::sharpen;

namespace {

Batch random_batch(Eigen::Index rows, Eigen::Index cols, std::uint64_t stream, float lo = -1.0f, float hi = 1.0f) {
  Batch b(rows, cols);
  for (Eigen::Index i = 0; i < b.size(); ++i)
    b.data()[i] = lo + (hi - lo) * static_cast<float>(random_uniform(7, stream, static_cast<std::uint64_t>(i)));
  return b;
}

void randomise(const Parameter& p, std::uint64_t stream, float scale) {
  for (Eigen::Index i = 0; i < p.size; ++i)
    p.value[i] = scale * (2.0f * static_cast<float>(random_uniform(11, stream, static_cast<std::uint64_t>(i))) - 1.0f);
}

/// L = Σ w ⊙ layer(x) in double.
double probe(TrainableLayer& layer, const Batch& x, const Batch& w, bool training) {
  Batch out;
  layer.forward(x, out, StepContext{training, 1, 0});
  return out.cast<double>().cwiseProduct(w.cast<double>()).sum();
}

/// Compares analytic gradients of L = Σ w ⊙ layer(x) with central differences, for inputs and
/// every trainable parameter. `skip(x_value)` excludes inputs near kinks.
void check_layer(TrainableLayer& layer, Batch x, double h, double tolerance, bool training = true,
                 const std::function<bool(float)>& skip = {}) {
  Batch out;
  layer.forward(x, out, StepContext{training, 1, 0});
  const Batch w = random_batch(out.rows(), out.cols(), 99);
  Batch grad_in;
  layer.backward(x, out, w, &grad_in);
  // Analytic parameter gradients (copied: later forwards don't touch them, but be explicit).
  std::vector<std::vector<float>> analytic;
  auto params = layer.parameters();
  for (const auto& p : params) analytic.emplace_back(p.gradient ? std::vector<float>(p.gradient, p.gradient + p.size) : std::vector<float>{});

  int checked = 0;
  for (Eigen::Index i = 0; i < x.size(); i += std::max<Eigen::Index>(1, x.size() / 40)) {
    if (skip && skip(x.data()[i])) continue;
    const float saved = x.data()[i];
    x.data()[i] = saved + static_cast<float>(h);
    const double plus = probe(layer, x, w, training);
    x.data()[i] = saved - static_cast<float>(h);
    const double minus = probe(layer, x, w, training);
    x.data()[i] = saved;
    const double fd = (plus - minus) / (2 * h);
    const double an = grad_in.data()[i];
    INFO("input " << i << " fd " << fd << " analytic " << an);
    CHECK(std::abs(fd - an) <= tolerance * std::max({1.0, std::abs(fd), std::abs(an)}));
    ++checked;
  }
  CHECK(checked > 5);
  for (std::size_t k = 0; k < params.size(); ++k) {
    const auto& p = params[k];
    if (!p.gradient) continue;
    for (Eigen::Index i = 0; i < p.size; i += std::max<Eigen::Index>(1, p.size / 25)) {
      const float saved = p.value[i];
      p.value[i] = saved + static_cast<float>(h);
      const double plus = probe(layer, x, w, training);
      p.value[i] = saved - static_cast<float>(h);
      const double minus = probe(layer, x, w, training);
      p.value[i] = saved;
      const double fd = (plus - minus) / (2 * h);
      const double an = analytic[k][static_cast<std::size_t>(i)];
      INFO(p.name << "[" << i << "] fd " << fd << " analytic " << an);
      CHECK(std::abs(fd - an) <= tolerance * std::max({1.0, std::abs(fd), std::abs(an)}));
    }
  }
}

}  // namespace

TEST_CASE("Dense gradients match finite differences") {
  DenseLayer dense("dense", 7, 5);
  for (const auto& p : dense.parameters()) randomise(p, 1, 0.5f);
  check_layer(dense, random_batch(4, 7, 2), 1e-2, 2e-3);
}

TEST_CASE("Conv2D gradients match finite differences (same and valid, stride 1 and 2)") {
  for (auto padding : {ann::Padding::Same, ann::Padding::Valid}) {
    for (int stride : {1, 2}) {
      Conv2DLayer conv("conv2d", Shape{6, 5, 2}, 3, 3, 3, stride, padding);
      for (const auto& p : conv.parameters()) randomise(p, 3, 0.5f);
      INFO("padding " << (padding == ann::Padding::Same ? "same" : "valid") << " stride " << stride);
      check_layer(conv, random_batch(2, 6 * 5 * 2, 4), 1e-2, 2e-3);
    }
  }
  Conv2DLayer conv("conv2d", Shape{5, 5, 1}, 2, 3, 3, 1, ann::Padding::Same);
  CHECK(conv.output_shape() == Shape{5, 5, 2});
  Conv2DLayer valid("conv2d", Shape{28, 28, 1}, 2, 5, 5, 1, ann::Padding::Valid);
  CHECK(valid.output_shape() == Shape{24, 24, 2});
}

TEST_CASE("MaxPool routes the gradient to the window maximum") {
  MaxPoolLayer pool("max_pooling2d", Shape{4, 4, 2}, 2, 2, ann::Padding::Valid);
  CHECK(pool.output_shape() == Shape{2, 2, 2});
  check_layer(pool, random_batch(3, 32, 5), 1e-3, 2e-3);
}

TEST_CASE("BatchNormalization gradients (training mode) match finite differences") {
  SUBCASE("dense features") {
    BatchNormLayer bn("batch_normalization", Shape{6});
    randomise(bn.parameters()[0], 6, 1.5f);
    randomise(bn.parameters()[1], 7, 0.5f);
    check_layer(bn, random_batch(8, 6, 8), 1e-2, 1e-2);
  }
  SUBCASE("image channels") {
    BatchNormLayer bn("batch_normalization", Shape{3, 3, 2});
    randomise(bn.parameters()[0], 9, 1.5f);
    check_layer(bn, random_batch(4, 18, 10), 1e-2, 1e-2);
  }
  SUBCASE("more rows than one statistics block (4,480 = 70 samples x 64 pixels)") {
    BatchNormLayer bn("batch_normalization", Shape{8, 8, 2});
    randomise(bn.parameters()[0], 12, 1.5f);
    check_layer(bn, random_batch(70, 128, 13), 1e-2, 1e-2);
  }
}

TEST_CASE("BatchNormalization on 25,600 rows: the same for 1 and 2 threads, and equal to statistics in double") {
  const Batch x = random_batch(100, 16 * 16 * 4, 14, -2.0f, 3.0f);  // 25,600 rows of 4 channels
  const Batch dy = random_batch(100, 16 * 16 * 4, 15);
  auto run = [&](int threads) {
    ThreadLimit limit(threads);
    BatchNormLayer bn("bn", Shape{16, 16, 4});
    randomise(bn.parameters()[0], 16, 1.5f);
    Batch out, dx;
    bn.forward(x, out, StepContext{true, 0, 0});
    bn.backward(x, out, dy, &dx);
    return std::make_tuple(out, dx, Eigen::VectorXf(bn.gamma_grad), Eigen::VectorXf(bn.moving_variance),
                           Eigen::VectorXf(bn.gamma), bn.epsilon);
  };
  const auto one = run(1), two = run(2);
  CHECK(std::get<0>(one) == std::get<0>(two));
  CHECK(std::get<1>(one) == std::get<1>(two));
  CHECK(std::get<2>(one) == std::get<2>(two));
  CHECK(std::get<3>(one) == std::get<3>(two));
  // Against statistics computed directly in double: each output channel has mean β = 0 and
  // variance γ²·var/(var + ε).
  const auto& out = std::get<0>(one);
  const auto& gamma = std::get<4>(one);
  const double eps = std::get<5>(one);
  using Pixels = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, 4, Eigen::RowMajor>>;
  const Pixels xs(x.data(), x.size() / 4, 4), y(out.data(), out.size() / 4, 4);
  for (int c = 0; c < 4; ++c) {
    const Eigen::ArrayXd in = xs.col(c).cast<double>().array(), col = y.col(c).cast<double>().array();
    const double var_in = (in - in.mean()).square().mean();
    const double var_out = (col - col.mean()).square().mean();
    CHECK(std::abs(col.mean()) < 1e-4);
    CHECK(var_out == doctest::Approx(gamma(c) * gamma(c) * var_in / (var_in + eps)).epsilon(1e-4));
  }
}

TEST_CASE("BatchNormalization moving averages and inference use Keras's formulas") {
  BatchNormLayer bn("bn", Shape{1}, 0.99f, 1e-3f);
  Batch x(4, 1);
  x << 1, 2, 3, 4;  // mean 2.5, biased var 1.25
  Batch out;
  bn.forward(x, out, StepContext{true, 0, 0});
  CHECK(out(0, 0) == doctest::Approx(-1.5 / std::sqrt(1.25 + 1e-3)).epsilon(1e-5));
  CHECK(bn.moving_mean(0) == doctest::Approx(0.025).epsilon(1e-5));
  // unbiased estimate n/(n − 1 − ε): 1.25·4/2.999
  CHECK(bn.moving_variance(0) == doctest::Approx(0.99 + 0.01 * 1.25 * 4 / 2.999).epsilon(1e-5));
  bn.forward(x, out, StepContext{false, 0, 0});
  CHECK(out(3, 0) == doctest::Approx((4 - bn.moving_mean(0)) / std::sqrt(bn.moving_variance(0) + 1e-3)).epsilon(1e-5));
}

TEST_CASE("Spiking_BRelu forward and gradient at several sharpness values") {
  for (float s : {0.0f, 0.3f, 0.75f, 0.95f}) {
    SpikingBReluLayer act("spiking_b_relu", Shape{10}, s);
    const float half_width = (1.0f - s + 0.001f) / 2.0f;
    // Inputs spread over both clipped sides and the linear region, away from the two kinks.
    Batch x = random_batch(6, 10, 12, 0.5f - 3 * half_width, 0.5f + 3 * half_width);
    const double h = half_width * 0.01;
    INFO("sharpness " << s);
    check_layer(act, x, h, 2e-3, true, [&](float v) {
      return std::abs(v - (0.5f - half_width)) < 3 * h || std::abs(v - (0.5f + half_width)) < 3 * h;
    });
    Batch out;
    Batch probe_x(1, 3);
    probe_x << 0.5f, 0.5f + half_width * 0.5f, 0.5f + 2 * half_width;
    act.forward(probe_x, out, {});
    CHECK(out(0, 0) == doctest::Approx(0.5));
    CHECK(out(0, 1) == doctest::Approx(0.75).epsilon(1e-4));
    CHECK(out(0, 2) == 1.0f);
  }
}

TEST_CASE("Spiking_BRelu at sharpness 1 is the step x >= 0.5 with zero gradient") {
  SpikingBReluLayer act("spiking_b_relu", Shape{4}, 1.0f);
  Batch x(1, 4);
  x << 0.4999f, 0.5f, 0.5001f, 3.0f;
  Batch out, grad_in;
  act.forward(x, out, {});
  CHECK(out(0, 0) == 0.0f);
  CHECK(out(0, 1) == 1.0f);
  CHECK(out(0, 2) == 1.0f);
  CHECK(out(0, 3) == 1.0f);
  act.backward(x, out, Batch::Ones(1, 4), &grad_in);
  CHECK(grad_in.isZero());
}

TEST_CASE("Softmax_Decode + categorical cross-entropy gradient matches finite differences") {
  const ann::Matrix key = generate_key(4, 12, true, 3);
  SoftmaxDecodeLayer decode("softmax__decode", key);
  Batch x = random_batch(5, 12, 13, 0.0f, 1.0f);
  const std::vector<int> labels{0, 1, 2, 3, 1};
  auto loss = [&](const Batch& in) {
    Batch scores, g;
    decode.forward(in, scores, {});
    return softmax_cross_entropy(scores, labels, g) / static_cast<double>(in.rows());
  };
  Batch scores, grad_scores, grad_in;
  decode.forward(x, scores, {});
  // Scores are Σ_j (2x_j − 1)(2K_cj − 1).
  const double expected = ((2.0 * x.row(0).cast<double>().array() - 1.0) *
                           (2.0 * key.row(2).cast<double>().array() - 1.0)).sum();
  CHECK(scores(0, 2) == doctest::Approx(expected).epsilon(1e-5));
  softmax_cross_entropy(scores, labels, grad_scores);
  decode.backward(x, scores, grad_scores, &grad_in);
  const double h = 1e-3;
  for (Eigen::Index i = 0; i < x.size(); i += 3) {
    Batch xp = x, xm = x;
    xp.data()[i] += static_cast<float>(h);
    xm.data()[i] -= static_cast<float>(h);
    const double fd = (loss(xp) - loss(xm)) / (2 * h);
    INFO("element " << i);
    CHECK(fd == doctest::Approx(grad_in.data()[i]).epsilon(2e-2).scale(1.0));
  }
}

TEST_CASE("Cross-entropy clips probabilities as Keras: a hopeless sample gets zero gradient") {
  Batch scores(1, 3);
  scores << 0.0f, 40.0f, -40.0f;  // p(class 0) ≈ e^-40 < 1e-7
  Batch g;
  const double loss = softmax_cross_entropy(scores, {0}, g);
  CHECK(loss == doctest::Approx(-std::log(1e-7)).epsilon(1e-4));
  CHECK(g.isZero());
}

TEST_CASE("Glorot-uniform initialisation is seeded and within its limit") {
  ann::Matrix a(30, 20), b(30, 20), c(30, 20);
  glorot_uniform(a, 30, 20, 5, 1);
  glorot_uniform(b, 30, 20, 5, 1);
  glorot_uniform(c, 30, 20, 6, 1);
  CHECK(a == b);
  CHECK(a != c);
  const double limit = std::sqrt(6.0 / 50.0);
  CHECK(a.cwiseAbs().maxCoeff() <= limit);
  CHECK(a.cwiseAbs().maxCoeff() > 0.8 * limit);
  CHECK(std::abs(a.mean()) < 0.05);
}
