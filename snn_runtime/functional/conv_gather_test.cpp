// The vectorised conv, pool and dense deliveries of the single-pass engine against spike-by-spike
// delivery and a direct double-precision evaluation: identical integer sums (int16 kernels
// widened into int32, int32, int64), float sums within rounding, gather and scatter forms, with
// padding, strides and dilation; whole networks with 8-/16-/32-channel convs in float and fixed
// point, on 1 and 2 threads (the shipped conv network: tests/engines_test.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "common/parallel.hpp"
#include "snn_runtime/functional/conv_gather.hpp"
#include "snn_runtime/functional/dense_gather.hpp"
#include "snn_runtime/functional/scatter.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "testing/engine_networks.hpp"
#include "testing/single_pass_checks.hpp"

using namespace grindstone;
using namespace grindstone::snn;
using namespace grindstone::engines_testing;

namespace {

/// side×side×cin → conv k×k (pad, stride, dilation) × cout, weights multiples of 1/64.
Network one_conv(std::int64_t side, int cin, int cout, int k, int pad, int stride, int dilation, std::uint64_t seed) {
  Network net;
  net.input = InputEncoding::Threshold;
  net.input_shape = Shape{side, side, cin};
  Population in = layer("input", side * side * cin, 0, PopulationRole::Input);
  in.shape = Shape{side, side, cin};
  in.threshold.clear();
  net.populations.push_back(in);
  const std::int64_t out = (side + 2 * pad - (k - 1) * dilation - 1) / stride + 1;
  Population post = layer("conv", out * out * cout, 1, PopulationRole::Output);
  post.shape = Shape{out, out, cout};
  net.populations.push_back(post);
  ConvConnector c{k, k, cin, cout, stride, stride, dilation, dilation, pad, pad, Eigen::MatrixXf(k * k * cin, cout)};
  for (Eigen::Index i = 0; i < c.kernel.size(); ++i)
    c.kernel.data()[i] = std::round(random_weight(seed, 1, static_cast<std::uint64_t>(i), -1.0, 1.0) * 64.0f) / 64.0f;
  net.projections.push_back(Projection{"conv", 0, 1, c, 1.0f});
  net.output = 1;
  net.decode.kind = Decode::Kind::SpikeCount;
  net.decode.classes = 1;
  return net;
}

std::vector<std::int32_t> fired_of(const std::vector<std::uint8_t>& image) {
  std::vector<std::int32_t> fired;
  for (std::size_t i = 0; i < image.size(); ++i)
    if (image[i] >= 128) fired.push_back(static_cast<std::int32_t>(i));
  return fired;
}

Network fixed_point(Network net, int fraction_bits) {
  net.weights.is_float = false;
  net.weights.fixed = FixedPointFormat{4, fraction_bits};
  return net;
}

}  // namespace

TEST_CASE("conv gather/scatter: the same sums as spike-by-spike delivery (int16→int32, int32, int64, float)") {
  struct Geometry {
    std::int64_t side;
    int cin, cout, k, pad, stride, dilation;
  };
  for (const Geometry& g : {Geometry{9, 3, 16, 3, 1, 1, 1}, Geometry{10, 4, 32, 5, 2, 2, 1}, Geometry{11, 2, 8, 3, 2, 1, 2},
                            Geometry{7, 16, 64, 2, 0, 1, 1}, Geometry{6, 1, 24, 3, 0, 1, 1}}) {
    CAPTURE(g.cin);
    CAPTURE(g.cout);
    const Network net = fixed_point(one_conv(g.side, g.cin, g.cout, g.k, g.pad, g.stride, g.dilation, 5), 6);
    const WeightUnits units = integer_weight_units(net, "conv");
    const functional::ScatterProjection proj(net, 0, &units);
    const auto& kernel = proj.integer_weights();
    const std::vector<std::int32_t> kernel32(kernel.begin(), kernel.end());
    std::vector<float> kernel_f(kernel.size());
    for (std::size_t i = 0; i < kernel.size(); ++i) kernel_f[i] = static_cast<float>(kernel[i]);
    std::vector<std::int16_t> kernel16(kernel.begin(), kernel.end());
    const WindowGeometry geom = window_geometry(net.populations[0], net.populations[1], std::get<ConvConnector>(net.projections[0].connector));
    const auto post = static_cast<std::size_t>(net.populations[1].size());
    for (int density : {5, 50, 95}) {
      CAPTURE(density);
      std::vector<std::uint8_t> image(static_cast<std::size_t>(net.populations[0].size()));
      for (std::size_t i = 0; i < image.size(); ++i)
        image[i] = random_weight(7, static_cast<std::uint64_t>(density), i, 0.0, 100.0) < static_cast<float>(density) ? 200 : 0;
      const auto fired = fired_of(image);
      const auto count = static_cast<std::int64_t>(fired.size());
      std::vector<std::int64_t> expected(post, 3);
      for (std::int32_t j : fired) proj.deliver(j, expected.data());
      functional::ConvGatherScratch scratch;
      std::vector<std::int64_t> a64(post, 3), s64(post, 3);
      functional::gather_conv(geom, kernel.data(), fired.data(), count, scratch, a64.data());
      functional::scatter_conv(geom, kernel.data(), fired.data(), count, s64.data());
      CHECK(a64 == expected);
      CHECK(s64 == expected);
      const std::vector<std::int32_t> expected32(expected.begin(), expected.end());
      std::vector<std::int32_t> a32(post, 3), s32(post, 3), h32(post, 3);
      functional::gather_conv(geom, kernel32.data(), fired.data(), count, scratch, a32.data());
      functional::scatter_conv(geom, kernel32.data(), fired.data(), count, s32.data());
      CHECK(a32 == expected32);
      CHECK(s32 == expected32);
      if (functional::gather_conv_supported(g.cout, sizeof(std::int16_t))) {
        functional::gather_conv(geom, kernel16.data(), fired.data(), count, scratch, h32.data());
        CHECK(h32 == expected32);
      }
      std::vector<float> af(post, 3.0f), sf(post, 3.0f);  // small integers: exact in float
      functional::gather_conv(geom, kernel_f.data(), fired.data(), count, scratch, af.data());
      functional::scatter_conv(geom, kernel_f.data(), fired.data(), count, sf.data());
      for (std::size_t i = 0; i < post; ++i) {
        CHECK(af[i] == static_cast<float>(expected[i]));
        CHECK(sf[i] == static_cast<float>(expected[i]));
      }
    }
  }
  CHECK_FALSE(functional::gather_conv_supported(12, sizeof(std::int32_t)));
  CHECK_FALSE(functional::gather_conv_supported(8, sizeof(std::int16_t)));
  CHECK(functional::gather_conv_supported(8, sizeof(float)));
}

TEST_CASE("dense int16 register tiles: the same sums as the rows, padding lanes ignored, refused past the bound") {
  const std::int64_t rows = 70, cols = 300;  // three tiles, the last one partial
  std::vector<std::int64_t> w(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int64_t>(random_weight(3, 1, i, -400.0, 400.0));
  REQUIRE(functional::DenseGather16::fits(w, rows, cols));
  const functional::DenseGather16 tiles(w, rows, cols);
  for (int density : {0, 10, 60, 100}) {
    std::vector<std::int32_t> fired;
    for (std::int32_t j = 0; j < rows; ++j)
      if (random_weight(4, static_cast<std::uint64_t>(density), static_cast<std::uint64_t>(j), 0.0, 100.0) < static_cast<float>(density))
        fired.push_back(j);
    std::vector<std::int32_t> acc(static_cast<std::size_t>(cols) + 1, -7), expected = acc;
    for (std::int32_t j : fired)
      for (std::int64_t i = 0; i < cols; ++i)
        expected[static_cast<std::size_t>(i)] += static_cast<std::int32_t>(w[static_cast<std::size_t>(j * cols + i)]);
    tiles.add(fired.data(), static_cast<std::int64_t>(fired.size()), acc.data());
    CHECK(acc == expected);  // including the guard element past the end
  }
  w[5] = 40000;
  CHECK_FALSE(functional::DenseGather16::fits(w, rows, cols));
}

TEST_CASE("single-pass with 8-/16-/32-channel convs, OR pools and dense: direct evaluation, float and fixed point, 1 and 2 threads") {
  for (const auto& [ch1, ch2] : {std::pair{8, 16}, std::pair{16, 32}, std::pair{32, 8}}) {
    CAPTURE(ch1);
    CAPTURE(ch2);
    Network net = conv_pool_network(3 + static_cast<std::uint64_t>(ch1), 1, 1, 12, ch1, ch2);
    // Weights on the 1/64 grid with mixed signs, so that sums are exact and layers fire partly.
    for (auto& pr : net.projections) {
      if (auto* c = std::get_if<ConvConnector>(&pr.connector))
        for (Eigen::Index i = 0; i < c->kernel.size(); ++i)
          c->kernel.data()[i] = std::round(random_weight(9, static_cast<std::uint64_t>(ch1), static_cast<std::uint64_t>(i), -0.45, 0.55) * 64.0f) / 64.0f;
      if (auto* d = std::get_if<DenseConnector>(&pr.connector))
        for (Eigen::Index i = 0; i < d->weights.size(); ++i)
          d->weights.data()[i] = std::round(d->weights.data()[i] * 64.0f) / 64.0f;
    }
    for (const Network& variant : {net, fixed_point(net, 6)}) {
      const SinglePassEngine engine(variant, "conv");
      for (int s = 0; s < 12; ++s) {
        const auto image = random_image(variant.input_shape.size(), 300 + static_cast<std::uint64_t>(s));
        std::vector<std::vector<std::uint8_t>> fired;
        engine.run_sample(image.data(), &fired);
        const auto expected = direct_evaluation(variant, image);
        for (std::size_t p = 0; p < variant.populations.size(); ++p) {
          CAPTURE(p);
          CHECK(fired[p] == expected[p]);
        }
      }
      const std::int64_t n = 2 * SinglePassEngine::kChunkSamples + 9;
      const auto images = random_images(variant.input_shape.size(), n, 8);
      check_thread_independent(engine, images.data(), nullptr, n);
    }
  }
}

TEST_CASE("bit-plane first layer as int16 multiply-adds: the same sums as pixel × weight, odd rows, partial tiles") {
  const std::int64_t rows = 71, cols = 150;  // an unpaired last row; three tiles, the last partial
  std::vector<std::int64_t> w(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int64_t>(random_weight(5, 1, i, -32767.0, 32767.0));
  w[0] = 32767;
  w[1] = -32767;
  REQUIRE(functional::PixelGather16::fits(w, rows, cols));
  const functional::PixelGather16 gemm(w, rows, cols);
  std::vector<std::int32_t> scratch;
  for (int density : {0, 20, 100}) {
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(rows));
    for (std::size_t j = 0; j < pixels.size(); ++j)
      pixels[j] = random_weight(6, static_cast<std::uint64_t>(density), j, 0.0, 100.0) < static_cast<float>(density)
                      ? static_cast<std::uint8_t>(1 + j * 37 % 255)
                      : 0;
    pixels[0] = density ? 255 : 0;
    std::vector<std::int64_t> expected(static_cast<std::size_t>(cols) + 1, 11);
    for (std::int64_t j = 0; j < rows; ++j)
      for (std::int64_t i = 0; i < cols; ++i)
        expected[static_cast<std::size_t>(i)] += std::int64_t{pixels[static_cast<std::size_t>(j)]} * w[static_cast<std::size_t>(j * cols + i)];
    std::vector<std::int32_t> acc(static_cast<std::size_t>(cols) + 1, 11);
    gemm.add(pixels.data(), acc.data(), scratch);
    CHECK(std::vector<std::int64_t>(acc.begin(), acc.end()) == expected);  // guard element untouched
  }
  w[3] = 40000;
  CHECK_FALSE(functional::PixelGather16::fits(w, rows, cols));
}
