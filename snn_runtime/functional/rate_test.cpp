// Rate engine read-outs and per-population counts on small random ReLU networks.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "snn_runtime/functional/rate.hpp"
#include "testing/engine_networks.hpp"

using namespace grindstone::snn;
using namespace grindstone::engines_testing;

TEST_CASE("rate: accumulated-input read-out is the arg-max of W·(hidden counts) + T·b") {
  // The output layer is linear in the hidden spikes, so its input accumulated over T timesteps is
  // W2ᵀ·counts_hidden + T·b2 — computed here from the hidden population's spike counts,
  // independently of the engine's output potentials.
  const ReluNet relu = random_relu_net(11);
  const Network net = relu.rate_network();
  const RateEngine engine(net, "relu");
  const auto images = random_images(relu.inputs, 40, 5);
  const auto& w2 = std::get<DenseConnector>(net.projections[1].connector).weights;
  for (int T : {3, 17, 64}) {
    RateOptions options;
    options.timesteps = T;
    options.readout = RateReadout::AccumulatedInput;
    const auto run = engine.run(images.data(), nullptr, 40, options);
    int differs_from_spike_count = 0;
    RateOptions counting = options;
    counting.readout = RateReadout::SpikeCount;
    const auto by_count = engine.run(images.data(), nullptr, 40, counting);
    for (std::int64_t s = 0; s < 40; ++s) {
      const auto counts = engine.population_counts(images.data() + s * relu.inputs, options, s);
      Eigen::VectorXd hidden(relu.hidden);
      for (std::int64_t i = 0; i < relu.hidden; ++i) hidden(i) = counts[1][static_cast<std::size_t>(i)];
      Eigen::VectorXd accumulated = w2.cast<double>().transpose() * hidden;
      for (std::int64_t c = 0; c < relu.classes; ++c)
        accumulated(c) += T * static_cast<double>(net.populations[2].bias_current[static_cast<std::size_t>(c)]);
      Eigen::Index best = 0;
      accumulated.maxCoeff(&best);
      CHECK(run.predictions[static_cast<std::size_t>(s)] == static_cast<int>(best));
      // The output population's counts are the ones the spike-count read-out used.
      const auto& out = counts[2];
      int best_count = 0;
      for (std::size_t c = 1; c < out.size(); ++c)
        if (out[c] > out[static_cast<std::size_t>(best_count)]) best_count = static_cast<int>(c);
      CHECK(out[static_cast<std::size_t>(by_count.predictions[static_cast<std::size_t>(s)])] == out[static_cast<std::size_t>(best_count)]);
      differs_from_spike_count += by_count.predictions[static_cast<std::size_t>(s)] != run.predictions[static_cast<std::size_t>(s)];
    }
    // Both read-outs are recorded in every run, whichever one `readout` selects.
    CHECK(run.spike_count_accuracy_by_timestep == by_count.accuracy_by_timestep);
    CHECK(by_count.accumulated_input_accuracy_by_timestep == run.accuracy_by_timestep);
    MESSAGE("T " << T << ": read-outs differ on " << differs_from_spike_count << " of 40 samples");
  }
}

TEST_CASE("rate: population counts match the output counts and converge to activations/λ") {
  const ReluNet relu = random_relu_net(12);
  const RateEngine engine(relu.rate_network(), "relu");
  const auto images = random_images(relu.inputs, 5, 6);
  RateOptions options;
  options.timesteps = 512;
  for (std::int64_t s = 0; s < 5; ++s) {
    const std::uint8_t* image = images.data() + s * relu.inputs;
    const auto counts = engine.population_counts(image, options, s);
    REQUIRE(counts.size() == 3);
    CHECK(counts[2] == engine.output_counts(image, options, s));
    const Eigen::VectorXd hidden = relu.hidden_of(image) / relu.lambda1;
    for (std::int64_t i = 0; i < relu.hidden; ++i)  // IF with reset by subtraction: |count − T·a/λ| ≤ 1
      CHECK(std::abs(counts[1][static_cast<std::size_t>(i)] - options.timesteps * std::min(1.0, hidden(i))) <= 1.0 + 1e-6);
  }
}

namespace {

/// input 2×2×2 → IF 2×2×2 (one-to-one, weight 1: rate = pixel/255) → 2×2 pool → 1×1×2 →
/// IF output (one-to-one, weight 1, θ 1: fires whenever the pool does).
Network pool_network() {
  Network net;
  net.input = InputEncoding::Real;
  net.input_shape = grindstone::Shape{2, 2, 2};
  auto population = [](const std::string& name, grindstone::Shape shape, int tick, PopulationRole role, float theta) {
    Population p;
    p.name = name;
    p.role = role;
    p.shape = shape;
    p.tick = tick;
    if (role != PopulationRole::Input) {
      p.model = NeuronModel::IntegrateAndFire;
      p.threshold.assign(static_cast<std::size_t>(shape.size()), theta);
      p.bias_current.assign(static_cast<std::size_t>(shape.size()), 0.0f);
    }
    return p;
  };
  net.populations = {population("input", {2, 2, 2}, 0, PopulationRole::Input, 0.0f),
                     population("relu", {2, 2, 2}, 1, PopulationRole::Hidden, 1.0f),
                     population("pool", {1, 1, 2}, 2, PopulationRole::Hidden, 1.0f),
                     population("out", {1, 1, 2}, 3, PopulationRole::Output, 1.0f)};
  auto project = [](const std::string& name, int pre, int post, Connector c) {
    Projection pr;
    pr.name = name;
    pr.pre = pre;
    pr.post = post;
    pr.connector = std::move(c);
    return pr;
  };
  PoolConnector pool;
  pool.weight = 0.25f;
  net.projections = {project("in->relu", 0, 1, OneToOneConnector{1.0f}), project("relu->pool", 1, 2, pool),
                     project("pool->out", 2, 3, OneToOneConnector{1.0f})};
  net.output = 3;
  net.decode.kind = Decode::Kind::SpikeCount;
  net.decode.classes = 2;
  net.decode.tie_break_by_potential = true;
  return net;
}

}  // namespace

TEST_CASE("rate: spiking max-pool forwards the spikes of the most active input, average pool their mean") {
  // Channels-last pixels (y, x, c): channel 0 holds 51, 230, 128, 26; channel 1 77, 77, 179, 153.
  const std::vector<std::uint8_t> image{51, 77, 230, 77, 128, 179, 26, 153};
  const double max0 = 230 / 255.0, max1 = 179 / 255.0;
  const double mean0 = (51 + 230 + 128 + 26) / 4.0 / 255.0, mean1 = (77 + 77 + 179 + 153) / 4.0 / 255.0;
  RateOptions options;
  options.timesteps = 200;
  const RateEngine gated(pool_network(), "pool", RateEngineConfig{{1}});
  const RateEngine averaged(pool_network(), "pool");
  const auto g = gated.population_counts(image.data(), options);
  const auto a = averaged.population_counts(image.data(), options);
  // Gated: the pool's count is the count of the window's most active unit once it leads (it leads
  // from its first spike on, as the currents are constant), within the one early spike of ties.
  CHECK(std::abs(g[2][0] - std::floor(options.timesteps * max0)) <= 1.0);
  CHECK(std::abs(g[2][1] - std::floor(options.timesteps * max1)) <= 1.0);
  CHECK(g[3] == g[2]);
  // Average (integrate-and-fire, weight 1/4): the mean rate.
  CHECK(std::abs(a[2][0] - options.timesteps * mean0) <= 2.0);
  CHECK(std::abs(a[2][1] - options.timesteps * mean1) <= 2.0);
  // Only spikes of the input population are forwarded: never more than the winning unit's.
  CHECK(g[2][0] <= g[1][2]);
}

TEST_CASE("rate: a max-pool config must name a pool projection with a single input") {
  CHECK_THROWS_AS(RateEngine(pool_network(), "pool", RateEngineConfig{{0}}), grindstone::InputError);
  CHECK_THROWS_AS(RateEngine(pool_network(), "pool", RateEngineConfig{{7}}), grindstone::InputError);
}
