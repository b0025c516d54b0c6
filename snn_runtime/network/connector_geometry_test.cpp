// Connector geometry against brute-force references: every connector kind, padding, stride,
// dilation and image edges; for_each_target / for_each_source / for_each_synapse against each
// other and against synapse_count.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

#include "common/error.hpp"
#include "snn_runtime/network/connector_geometry.hpp"

using namespace grindstone;
using namespace grindstone::snn;

namespace {

using Synapse = std::tuple<std::int64_t, std::int64_t, float>;  // pre, post, weight

struct Lcg {
  std::uint64_t s;
  int next(int n) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((s >> 33) % static_cast<std::uint64_t>(n));
  }
};

Population image(std::string name, std::int64_t h, std::int64_t w, std::int64_t c, int tick) {
  Population p;
  p.name = std::move(name);
  p.shape = Shape{h, w, c};
  p.tick = tick;
  if (tick > 0) p.threshold.assign(static_cast<std::size_t>(p.size()), 1.0f);
  return p;
}

Network two_populations(Population pre, Population post, Connector connector) {
  Network n;
  n.populations = {std::move(pre), std::move(post)};
  n.projections.push_back({"p", 0, 1, std::move(connector), 1.0f});
  return n;
}

/// Output extent of a window axis (at least 1), with `extra` padding after the image.
std::int64_t out_extent(std::int64_t in, int taps, int stride, int dilation, int pad, int extra) {
  const std::int64_t span = in + pad + extra - (std::int64_t{taps - 1} * dilation + 1);
  return span < 0 ? 1 : span / stride + 1;
}

// Brute force from the connector definitions in network.hpp: post (y, x, o) reads pre
// (y·s − pad + i·d, x·s − pad + j·d, c) for every tap and channel inside the image.
std::vector<Synapse> brute_force(const Network& n) {
  const Population& pre = n.populations[0];
  const Population& post = n.populations[1];
  const Projection& pr = n.projections[0];
  std::vector<Synapse> out;
  const std::int64_t ih = pre.shape[0], iw = pre.shape[1], ic = pre.shape[2];
  const std::int64_t oh = post.shape[0], ow = post.shape[1], oc = post.shape[2];
  if (const auto* c = std::get_if<ConvConnector>(&pr.connector)) {
    for (std::int64_t y = 0; y < oh; ++y)
      for (std::int64_t x = 0; x < ow; ++x)
        for (std::int64_t o = 0; o < oc; ++o)
          for (int i = 0; i < c->kernel_h; ++i)
            for (int j = 0; j < c->kernel_w; ++j)
              for (std::int64_t ch = 0; ch < ic; ++ch) {
                const std::int64_t py = y * c->stride_h - c->pad_top + std::int64_t{i} * c->dilation_h;
                const std::int64_t px = x * c->stride_w - c->pad_left + std::int64_t{j} * c->dilation_w;
                if (py < 0 || py >= ih || px < 0 || px >= iw) continue;
                const float w = c->kernel((i * c->kernel_w + j) * c->in_channels + ch, o);
                if (w != 0.0f) out.emplace_back((py * iw + px) * ic + ch, (y * ow + x) * oc + o, w);
              }
  } else if (const auto* p = std::get_if<PoolConnector>(&pr.connector)) {
    for (std::int64_t y = 0; y < oh; ++y)
      for (std::int64_t x = 0; x < ow; ++x)
        for (std::int64_t ch = 0; ch < oc; ++ch)
          for (int i = 0; i < p->pool_h; ++i)
            for (int j = 0; j < p->pool_w; ++j) {
              const std::int64_t py = y * p->stride_h - p->pad_top + i, px = x * p->stride_w - p->pad_left + j;
              if (py < 0 || py >= ih || px < 0 || px >= iw || p->weight == 0.0f) continue;
              out.emplace_back((py * iw + px) * ic + ch, (y * ow + x) * oc + ch, p->weight);
            }
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// The three enumerations, each sorted, and synapse_count, must all equal the reference.
void check_against(const Network& n, const std::vector<Synapse>& expected) {
  const Projection& pr = n.projections[0];
  std::vector<Synapse> by_target, by_source, all;
  for (std::int64_t j = 0; j < n.populations[0].size(); ++j)
    for_each_target(n, pr, j, [&](std::int64_t i, float w) { by_target.emplace_back(j, i, w); });
  for (std::int64_t i = 0; i < n.populations[1].size(); ++i)
    for_each_source(n, pr, i, [&](std::int64_t j, float w) { by_source.emplace_back(j, i, w); });
  for_each_synapse(n, pr, [&](std::int64_t j, std::int64_t i, float w) { all.emplace_back(j, i, w); });
  CHECK(all == by_target);  // for_each_synapse is for_each_target in pre order
  std::sort(by_target.begin(), by_target.end());
  std::sort(by_source.begin(), by_source.end());
  CHECK(by_target == expected);
  CHECK(by_source == expected);
  CHECK(synapse_count(n, pr) == static_cast<std::int64_t>(expected.size()));
}

}  // namespace

TEST_CASE("geometry: WindowAxis positions, inverse and closed-form counts against brute force") {
  Lcg rng{7};
  for (int trial = 0; trial < 400; ++trial) {
    WindowAxis a;
    a.in = 1 + rng.next(9);
    a.taps = 1 + rng.next(4);
    a.stride = 1 + rng.next(3);
    a.dilation = 1 + rng.next(3);
    a.pad = rng.next(4);
    a.out = out_extent(a.in, a.taps, a.stride, a.dilation, a.pad, rng.next(3));
    CHECK(a.extent() == std::int64_t{a.taps - 1} * a.dilation + 1);
    for (int k = 0; k < a.taps; ++k) {
      std::int64_t inside = 0;
      for (std::int64_t o = 0; o < a.out; ++o) {
        const std::int64_t p = a.input_of(o, k);
        if (!a.inside(p)) continue;
        ++inside;
        CHECK(a.output_of(p, k) == o);
      }
      CHECK(a.outputs_inside(k) == inside);
      // output_of finds nothing for positions no output reads with tap k.
      for (std::int64_t p = -3; p < a.in + 3; ++p) {
        const std::int64_t o = a.output_of(p, k);
        if (o >= 0) CHECK(a.input_of(o, k) == p);
      }
    }
  }
}

TEST_CASE("geometry: conv connectors (padding, stride, dilation, edges, zero entries) against brute force") {
  Lcg rng{11};
  for (int trial = 0; trial < 120; ++trial) {
    ConvConnector c;
    c.kernel_h = 1 + rng.next(4);
    c.kernel_w = 1 + rng.next(4);
    c.stride_h = 1 + rng.next(3);
    c.stride_w = 1 + rng.next(3);
    c.dilation_h = 1 + rng.next(2);
    c.dilation_w = 1 + rng.next(2);
    c.pad_top = rng.next(3);
    c.pad_left = rng.next(3);
    c.in_channels = 1 + rng.next(3);
    c.out_channels = 1 + rng.next(3);
    const std::int64_t ih = 1 + rng.next(8), iw = 1 + rng.next(8);
    const std::int64_t oh = out_extent(ih, c.kernel_h, c.stride_h, c.dilation_h, c.pad_top, rng.next(3));
    const std::int64_t ow = out_extent(iw, c.kernel_w, c.stride_w, c.dilation_w, c.pad_left, rng.next(3));
    c.kernel = Eigen::MatrixXf(c.kernel_h * c.kernel_w * c.in_channels, c.out_channels);
    for (Eigen::Index i = 0; i < c.kernel.size(); ++i)
      c.kernel.data()[i] = rng.next(4) == 0 ? 0.0f : static_cast<float>(rng.next(17) - 8) / 4.0f;
    const Network n = two_populations(image("a", ih, iw, c.in_channels, 0), image("b", oh, ow, c.out_channels, 1), c);
    CAPTURE(trial);
    check_against(n, brute_force(n));
  }
}

TEST_CASE("geometry: pool connectors (padding, stride, overlapping and partial windows) against brute force") {
  Lcg rng{13};
  for (int trial = 0; trial < 120; ++trial) {
    PoolConnector p;
    p.pool_h = 1 + rng.next(3);
    p.pool_w = 1 + rng.next(3);
    p.stride_h = 1 + rng.next(3);
    p.stride_w = 1 + rng.next(3);
    p.pad_top = rng.next(2);
    p.pad_left = rng.next(2);
    p.weight = trial % 10 == 0 ? 0.0f : 0.25f;
    const std::int64_t ih = 1 + rng.next(8), iw = 1 + rng.next(8), ch = 1 + rng.next(3);
    const std::int64_t oh = out_extent(ih, p.pool_h, p.stride_h, 1, p.pad_top, rng.next(2));
    const std::int64_t ow = out_extent(iw, p.pool_w, p.stride_w, 1, p.pad_left, rng.next(2));
    const Network n = two_populations(image("a", ih, iw, ch, 0), image("b", oh, ow, ch, 1), p);
    CAPTURE(trial);
    check_against(n, brute_force(n));
  }
}

TEST_CASE("geometry: dense and one-to-one connectors; zero weights are not synapses") {
  Eigen::MatrixXf w(3, 4);
  w << 1, 0, 2, 0,  //
      0, 0, 0, 0,   //
      -1, 3, 0, 0.5f;
  Population a = image("a", 1, 1, 3, 0), b = image("b", 1, 1, 4, 1);
  a.shape = Shape{3};
  b.shape = Shape{4};
  const Network dense = two_populations(a, b, DenseConnector{w});
  std::vector<Synapse> expected;
  for (std::int64_t j = 0; j < 3; ++j)
    for (std::int64_t i = 0; i < 4; ++i)
      if (w(j, i) != 0.0f) expected.emplace_back(j, i, w(j, i));
  check_against(dense, expected);

  Population c = b;
  c.name = "c";
  const Network one = two_populations(b, c, OneToOneConnector{0.75f});
  expected.clear();
  for (std::int64_t i = 0; i < 4; ++i) expected.emplace_back(i, i, 0.75f);
  check_against(one, expected);
  const Network none = two_populations(b, c, OneToOneConnector{0.0f});
  check_against(none, {});
}

TEST_CASE("geometry: window connectors need image populations; same_connector compares everything") {
  Population a = image("a", 4, 4, 1, 0), flat = image("flat", 1, 1, 16, 1);
  flat.shape = Shape{16};
  PoolConnector p;
  const Network bad = two_populations(a, flat, p);
  CHECK_THROWS_AS(for_each_target(bad, bad.projections[0], 0, [](std::int64_t, float) {}), InputError);

  ConvConnector c1{2, 2, 1, 1, 1, 1, 1, 1, 0, 0, Eigen::MatrixXf::Ones(4, 1)};
  ConvConnector c2 = c1;
  CHECK(same_connector(c1, c2));
  c2.stride_w = 2;
  CHECK_FALSE(same_connector(c1, c2));
  c2 = c1;
  c2.kernel(3, 0) = 2.0f;
  CHECK_FALSE(same_connector(c1, c2));
  CHECK_FALSE(same_connector(c1, PoolConnector{}));
  CHECK(same_connector(PoolConnector{}, PoolConnector{}));
  CHECK_FALSE(same_connector(OneToOneConnector{1.0f}, OneToOneConnector{2.0f}));
}
