#pragma once
// Hand-built networks for the engine tests (tests/, snn_runtime unit tests), and an independent
// (gather-form, double) evaluation of single-pass semantics to check the engines' event-driven
// scatter against. Part of grindstone_testing_snn (testing/CMakeLists.txt).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/random.hpp"
#include "snn_runtime/network/network.hpp"

namespace grindstone::engines_testing {

using namespace grindstone::snn;

inline std::vector<std::uint8_t> random_images(std::int64_t pixels, std::int64_t count, std::uint64_t seed) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(pixels * count));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(random_bits(seed, 1, i) & 0xff);
  return out;
}
inline std::vector<std::uint8_t> random_image(std::int64_t pixels, std::uint64_t seed) {
  return random_images(pixels, 1, seed);
}
/// Uniform in [lo, hi), rounded to a multiple of 2^-fraction_bits when fraction_bits > 0.
inline float random_weight(std::uint64_t seed, std::uint64_t stream, std::uint64_t i, double lo, double hi,
                           int fraction_bits = 0) {
  double w = lo + (hi - lo) * random_uniform(seed, stream, i);
  if (fraction_bits > 0) w = std::round(std::ldexp(w, fraction_bits)) / std::ldexp(1.0, fraction_bits);
  return static_cast<float>(w);
}

inline Population layer(const std::string& name, std::int64_t size, int tick, PopulationRole role = PopulationRole::Hidden) {
  Population p;
  p.name = name;
  p.role = role;
  p.shape = Shape{size};
  p.tick = tick;
  p.threshold.assign(static_cast<std::size_t>(size), 0.5f);
  return p;
}

inline Projection dense(const std::string& name, int pre, int post, std::int64_t pre_size, std::int64_t post_size,
                        float scale = 1.0f) {
  Projection pr;
  pr.name = name;
  pr.pre = pre;
  pr.post = post;
  pr.connector = DenseConnector{Eigen::MatrixXf::Zero(pre_size, post_size)};
  pr.weight_scale = scale;
  return pr;
}

inline void finish_chain(Network& net, const std::vector<std::int64_t>& sizes, int first_layer_pop) {
  // Layers after the input: one population each, dense from the previous one.
  int prev = first_layer_pop;
  for (std::size_t l = 2; l < sizes.size(); ++l) {
    net.populations.push_back(layer("layer" + std::to_string(l), sizes[l], static_cast<int>(l)));
    const int post = static_cast<int>(net.populations.size()) - 1;
    net.projections.push_back(dense("p" + std::to_string(l), prev, post, sizes[l - 1], sizes[l]));
    prev = post;
  }
  net.output = prev;
  net.populations[static_cast<std::size_t>(prev)].role = PopulationRole::Output;
  net.decode.kind = Decode::Kind::SpikeCount;
  net.decode.classes = static_cast<int>(sizes.back());
}

/// Input (sizes[0], threshold/real encoded) → dense layers of sizes[1..]; weights zero,
/// thresholds 0.5, spike-count decode.
inline Network dense_chain(const std::vector<std::int64_t>& sizes, InputEncoding encoding) {
  Network net;
  net.input = encoding;
  net.input_shape = Shape{sizes[0]};
  Population in = layer("input", sizes[0], 0, PopulationRole::Input);
  in.threshold.clear();
  net.populations.push_back(in);
  net.populations.push_back(layer("layer1", sizes[1], 1));
  net.projections.push_back(dense("p1", 0, 1, sizes[0], sizes[1]));
  finish_chain(net, sizes, 1);
  return net;
}

/// Same with 8 bit-plane input populations (bit k → weight_scale 2^k/255), all sharing weights
/// (the projections' weights are zero; set each of the 8).
inline Network bitplane_chain(const std::vector<std::int64_t>& sizes) {
  Network net;
  net.input = InputEncoding::Bitplanes;
  net.input_shape = Shape{sizes[0]};
  for (int k = 0; k < 8; ++k) {
    Population in = layer("input_bit" + std::to_string(k), sizes[0], 0, PopulationRole::Input);
    in.threshold.clear();
    in.input_bit = k;
    net.populations.push_back(in);
  }
  net.populations.push_back(layer("layer1", sizes[1], 1));
  for (int k = 0; k < 8; ++k)
    net.projections.push_back(dense("p1_bit" + std::to_string(k), k, 8, sizes[0], sizes[1],
                                    static_cast<float>(std::ldexp(1.0, k) / 255.0)));
  finish_chain(net, sizes, 8);
  return net;
}

inline void add_start_source(Network& net) {
  Population start = layer("bias_start", 1, 0, PopulationRole::Bias);
  start.threshold.clear();
  net.populations.push_back(start);
}

/// Random weights in ±2/sqrt(fan-in) (multiples of 2^-fraction_bits when > 0), thresholds 0.5,
/// n-hot key decode (4 classes) over the last layer.
inline Network random_dense_network(const std::vector<std::int64_t>& sizes, std::uint64_t seed, InputEncoding encoding,
                                    int fraction_bits = 0) {
  Network net = encoding == InputEncoding::Bitplanes ? bitplane_chain(sizes) : dense_chain(sizes, encoding);
  std::uint64_t stream = 0;
  for (auto& pr : net.projections) {
    auto& w = std::get<DenseConnector>(pr.connector).weights;
    const double r = 2.0 / std::sqrt(static_cast<double>(w.rows()));
    for (Eigen::Index j = 0; j < w.rows(); ++j)
      for (Eigen::Index i = 0; i < w.cols(); ++i)
        w(j, i) = random_weight(seed, stream, static_cast<std::uint64_t>(j * w.cols() + i), -r, r, fraction_bits);
    if (encoding != InputEncoding::Bitplanes || pr.pre >= 8) ++stream;  // bit planes share one kernel
  }
  const auto width = net.populations[static_cast<std::size_t>(net.output)].size();
  net.decode.kind = Decode::Kind::NHotKey;
  net.decode.classes = 4;
  net.decode.key = Eigen::MatrixXf(4, width);
  for (Eigen::Index c = 0; c < 4; ++c)
    for (Eigen::Index j = 0; j < width; ++j) net.decode.key(c, j) = (random_bits(seed, 99, static_cast<std::uint64_t>(c * width + j)) & 1) ? 1.0f : 0.0f;
  return net;
}

/// Every layer split into K temporal groups; ticks scaled by K as the converter does, so the
/// derived delays compensate.
inline Network with_temporal_groups(Network net, int groups) {
  for (auto& p : net.populations) {
    p.tick *= groups;
    if (!p.is_source()) p.temporal_groups = groups;
  }
  return net;
}

/// Input side×side×1 (threshold) → conv 3×3 (pad, stride), ch1 channels → OR pool 2×2 stride 1 →
/// conv 2×2 × ch2 channels → dense output (5, spike count). Random weights, thresholds 0.5.
inline Network conv_pool_network(std::uint64_t seed, int pad, int stride, std::int64_t side = 8, int ch1 = 2,
                                 int ch2 = 3) {
  Network net;
  net.input = InputEncoding::Threshold;
  net.input_shape = Shape{side, side, 1};
  Population in = layer("input", side * side, 0, PopulationRole::Input);
  in.shape = Shape{side, side, 1};
  in.threshold.clear();
  net.populations.push_back(in);
  const std::int64_t c1 = (side + 2 * pad - 3) / stride + 1, p1 = c1 - 1, c2 = p1 - 1;
  auto image_layer = [&](const std::string& name, std::int64_t h, std::int64_t ch, int tick) {
    Population p = layer(name, h * h * ch, tick);
    p.shape = Shape{h, h, ch};
    net.populations.push_back(p);
  };
  image_layer("conv1", c1, ch1, 1);
  image_layer("pool1", p1, ch1, 2);
  image_layer("conv2", c2, ch2, 3);
  net.populations.push_back(layer("out", 5, 4, PopulationRole::Output));
  ConvConnector conv1{3, 3, 1, ch1, stride, stride, 1, 1, pad, pad, Eigen::MatrixXf(9, ch1)};
  ConvConnector conv2{2, 2, ch1, ch2, 1, 1, 1, 1, 0, 0, Eigen::MatrixXf(4 * ch1, ch2)};
  for (Eigen::Index i = 0; i < conv1.kernel.size(); ++i) conv1.kernel.data()[i] = random_weight(seed, 1, static_cast<std::uint64_t>(i), -0.6, 1.0);
  for (Eigen::Index i = 0; i < conv2.kernel.size(); ++i) conv2.kernel.data()[i] = random_weight(seed, 2, static_cast<std::uint64_t>(i), -0.5, 0.8);
  net.projections.push_back(Projection{"conv1", 0, 1, conv1, 1.0f});
  net.projections.push_back(Projection{"pool1", 1, 2, PoolConnector{2, 2, 1, 1, 0, 0, 1.0f}, 1.0f});
  net.projections.push_back(Projection{"conv2", 2, 3, conv2, 1.0f});
  Projection out = dense("out", 3, 4, c2 * c2 * ch2, 5);
  auto& w = std::get<DenseConnector>(out.connector).weights;
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = random_weight(seed, 3, static_cast<std::uint64_t>(i), -0.5, 0.7);
  net.projections.push_back(out);
  net.output = 4;
  net.decode.kind = Decode::Kind::SpikeCount;
  net.decode.classes = 5;
  return net;
}

/// Gather-form evaluation in double: per population, 0/1 per neuron.
inline std::vector<std::vector<std::uint8_t>> direct_evaluation(const Network& net, const std::vector<std::uint8_t>& image) {
  std::vector<std::vector<std::uint8_t>> fired(net.populations.size());
  for (std::size_t p = 0; p < net.populations.size(); ++p) {
    const Population& pop = net.populations[p];
    const auto n = static_cast<std::size_t>(pop.size());
    fired[p].assign(n, 0);
    if (pop.is_source()) {
      for (std::size_t i = 0; i < n; ++i)
        fired[p][i] = pop.role == PopulationRole::Bias ? 1
                      : pop.input_bit >= 0             ? ((image[i] >> pop.input_bit) & 1)
                                                       : image[i] >= 128;
      continue;
    }
    std::vector<double> sum(n, 0.0);
    for (const Projection& pr : net.projections) {
      if (pr.post != static_cast<int>(p)) continue;
      const Population& pre = net.populations[static_cast<std::size_t>(pr.pre)];
      const auto& in = fired[static_cast<std::size_t>(pr.pre)];
      const double s = pr.weight_scale;
      if (const auto* d = std::get_if<DenseConnector>(&pr.connector)) {
        for (std::size_t i = 0; i < n; ++i)
          for (std::size_t j = 0; j < in.size(); ++j)
            if (in[j]) sum[i] += static_cast<double>(d->weights(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(i))) * s;
      } else if (const auto* c = std::get_if<ConvConnector>(&pr.connector)) {
        const std::int64_t H = pre.shape[0], W = pre.shape[1], C = pre.shape[2];
        const std::int64_t OW = pop.shape[1], O = pop.shape[2];
        for (std::size_t i = 0; i < n; ++i) {
          const std::int64_t o = static_cast<std::int64_t>(i) % O, oy = static_cast<std::int64_t>(i) / O / OW,
                             ox = static_cast<std::int64_t>(i) / O % OW;
          for (int a = 0; a < c->kernel_h; ++a)
            for (int b = 0; b < c->kernel_w; ++b)
              for (std::int64_t ch = 0; ch < C; ++ch) {
                const std::int64_t y = oy * c->stride_h - c->pad_top + a * c->dilation_h;
                const std::int64_t x = ox * c->stride_w - c->pad_left + b * c->dilation_w;
                if (y < 0 || y >= H || x < 0 || x >= W || !in[static_cast<std::size_t>((y * W + x) * C + ch)]) continue;
                sum[i] += static_cast<double>(c->kernel((a * c->kernel_w + b) * C + ch, o)) * s;
              }
        }
      } else if (const auto* q = std::get_if<PoolConnector>(&pr.connector)) {
        const std::int64_t H = pre.shape[0], W = pre.shape[1], C = pre.shape[2], OW = pop.shape[1];
        for (std::size_t i = 0; i < n; ++i) {
          const std::int64_t ch = static_cast<std::int64_t>(i) % C, oy = static_cast<std::int64_t>(i) / C / OW,
                             ox = static_cast<std::int64_t>(i) / C % OW;
          for (int a = 0; a < q->pool_h; ++a)
            for (int b = 0; b < q->pool_w; ++b) {
              const std::int64_t y = oy * q->stride_h - q->pad_top + a, x = ox * q->stride_w - q->pad_left + b;
              if (y >= 0 && y < H && x >= 0 && x < W && in[static_cast<std::size_t>((y * W + x) * C + ch)]) sum[i] += q->weight * s;
            }
        }
      } else {
        const float w = std::get<OneToOneConnector>(pr.connector).weight;
        for (std::size_t i = 0; i < n; ++i)
          if (in[i]) sum[i] += w * s;
      }
    }
    for (std::size_t i = 0; i < n; ++i) fired[p][i] = sum[i] >= static_cast<double>(pop.threshold[i]);
  }
  return fired;
}

/// The same random 2-layer network in `neurons` bias mode (start source + daisy-chained relay)
/// and in `threshold` mode (θ = 0.5 − b). Weights and biases are multiples of 1/64 so that
/// 0.5 − b and every sum are exact.
inline std::pair<Network, Network> bias_mode_pair(std::uint64_t seed) {
  const std::int64_t I = 16, H = 12, O = 8;
  Network a;
  a.input = InputEncoding::Threshold;
  a.input_shape = Shape{I};
  Population in = layer("input", I, 0, PopulationRole::Input);
  in.threshold.clear();
  Population start = layer("bias_start", 1, 0, PopulationRole::Bias);
  start.threshold.clear();
  Population relay = layer("bias_relay", 1, 1, PopulationRole::Bias);
  a.populations = {in, start, layer("hidden", H, 1), relay, layer("out", O, 2, PopulationRole::Output)};
  Projection w1 = dense("w1", 0, 2, I, H), b1 = dense("b1", 1, 2, 1, H), chain = dense("chain", 1, 3, 1, 1);
  Projection w2 = dense("w2", 2, 4, H, O), b2 = dense("b2", 3, 4, 1, O);
  auto fill = [&](Projection& pr, std::uint64_t stream, double lo, double hi) {
    auto& w = std::get<DenseConnector>(pr.connector).weights;
    for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = random_weight(seed, stream, static_cast<std::uint64_t>(i), lo, hi, 6);
  };
  fill(w1, 1, -0.6, 0.6);
  fill(b1, 2, -0.5, 0.5);
  fill(w2, 3, -0.6, 0.6);
  fill(b2, 4, -0.5, 0.5);
  std::get<DenseConnector>(chain.connector).weights(0, 0) = 1.0f;
  a.projections = {w1, b1, chain, w2, b2};
  a.output = 4;
  a.decode.kind = Decode::Kind::SpikeCount;
  a.decode.classes = static_cast<int>(O);
  a.bias_mode = "neurons";

  Network b;
  b.input = a.input;
  b.input_shape = a.input_shape;
  Population hidden = layer("hidden", H, 1), out = layer("out", O, 2, PopulationRole::Output);
  const auto& bias1 = std::get<DenseConnector>(a.projections[1].connector).weights;
  const auto& bias2 = std::get<DenseConnector>(a.projections[4].connector).weights;
  for (std::int64_t i = 0; i < H; ++i) hidden.threshold[static_cast<std::size_t>(i)] = 0.5f - bias1(0, i);
  for (std::int64_t i = 0; i < O; ++i) out.threshold[static_cast<std::size_t>(i)] = 0.5f - bias2(0, i);
  b.populations = {in, hidden, out};
  Projection v1 = w1, v2 = w2;
  v1.post = 1;
  v2.pre = 1;
  v2.post = 2;
  b.projections = {v1, v2};
  b.output = 2;
  b.decode = a.decode;
  b.bias_mode = "threshold";
  return {a, b};
}

/// Turns a chain into a rate network: IF neurons, real input.
inline void make_rate(Network& net) {
  net.input = InputEncoding::Real;
  for (auto& p : net.populations)
    if (!p.is_source()) p.model = NeuronModel::IntegrateAndFire;
}

/// A small random ReLU network (inputs → hidden ReLU → linear outputs) and its rate conversion
/// with data-based normalisation (max activation over the images it will see → 1).
struct ReluNet {
  std::int64_t inputs = 20, hidden = 16, classes = 5;
  Eigen::MatrixXd w1, w2;
  Eigen::VectorXd b1, b2;
  double lambda1 = 1.0, lambda2 = 1.0;

  Eigen::VectorXd hidden_of(const std::uint8_t* image) const {
    Eigen::VectorXd x(inputs);
    for (std::int64_t i = 0; i < inputs; ++i) x(i) = image[i] / 255.0;
    return (w1.transpose() * x + b1).cwiseMax(0.0);
  }
  Eigen::VectorXd output_of(const std::uint8_t* image) const { return w2.transpose() * hidden_of(image) + b2; }
  int classify(const std::uint8_t* image) const {
    Eigen::Index best = 0;
    output_of(image).maxCoeff(&best);
    return static_cast<int>(best);
  }
  Network rate_network() const {
    Network net = dense_chain({inputs, hidden, classes}, InputEncoding::Real);
    make_rate(net);
    std::get<DenseConnector>(net.projections[0].connector).weights = (w1 / lambda1).cast<float>();
    std::get<DenseConnector>(net.projections[1].connector).weights = (w2 * lambda1 / lambda2).cast<float>();
    net.populations[1].bias_current.resize(static_cast<std::size_t>(hidden));
    net.populations[2].bias_current.resize(static_cast<std::size_t>(classes));
    for (std::int64_t i = 0; i < hidden; ++i) net.populations[1].bias_current[static_cast<std::size_t>(i)] = static_cast<float>(b1(i) / lambda1);
    for (std::int64_t i = 0; i < classes; ++i) net.populations[2].bias_current[static_cast<std::size_t>(i)] = static_cast<float>(b2(i) / lambda2);
    net.populations[1].threshold.assign(static_cast<std::size_t>(hidden), 1.0f);
    net.populations[2].threshold.assign(static_cast<std::size_t>(classes), 1.0f);
    net.decode.tie_break_by_potential = true;
    return net;
  }
};

inline ReluNet random_relu_net(std::uint64_t seed, std::int64_t calibration_images = 300) {
  ReluNet r;
  r.w1.resize(r.inputs, r.hidden);
  r.w2.resize(r.hidden, r.classes);
  r.b1.resize(r.hidden);
  r.b2.resize(r.classes);
  for (Eigen::Index i = 0; i < r.w1.size(); ++i) r.w1.data()[i] = random_weight(seed, 1, static_cast<std::uint64_t>(i), -0.5, 0.6);
  for (Eigen::Index i = 0; i < r.w2.size(); ++i) r.w2.data()[i] = random_weight(seed, 2, static_cast<std::uint64_t>(i), -0.7, 0.7);
  for (Eigen::Index i = 0; i < r.b1.size(); ++i) r.b1(i) = random_weight(seed, 3, static_cast<std::uint64_t>(i), -0.2, 0.2);
  for (Eigen::Index i = 0; i < r.b2.size(); ++i) r.b2(i) = random_weight(seed, 4, static_cast<std::uint64_t>(i), -0.2, 0.2);
  const auto images = random_images(r.inputs, calibration_images, 77);
  double m1 = 1e-9, m2 = 1e-9;
  for (std::int64_t s = 0; s < calibration_images; ++s) {
    m1 = std::max(m1, r.hidden_of(images.data() + s * r.inputs).maxCoeff());
    m2 = std::max(m2, r.output_of(images.data() + s * r.inputs).maxCoeff());
  }
  r.lambda1 = m1;
  r.lambda2 = m2;
  return r;
}

}  // namespace grindstone::engines_testing
