// The dense-tile fast path against the general event-driven path of the same engine: identical
// classes, spikes and synaptic events, for int16 and int32 accumulators, tiles that split a
// population, bias neurons (constant populations), both decodes, and any thread count.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/parallel.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "testing/engine_networks.hpp"
#include "testing/single_pass_checks.hpp"

using namespace grindstone;
using namespace grindstone::snn;
using namespace grindstone::engines_testing;

namespace {

Network fixed_point(Network net, int fraction_bits) {
  net.weights.is_float = false;
  net.weights.fixed = FixedPointFormat{4, fraction_bits};
  return net;
}

/// Runs `net` on both paths over `count` random images and checks they agree exactly.
void check_same_as_event_driven(const Network& net, std::int64_t count, std::uint64_t seed,
                                const std::string& accumulator) {
  const SinglePassEngine tiles(net, "tiles"), general(net, "general", SinglePassEngine::Path::EventDriven);
  REQUIRE(tiles.path() == "dense-tiles");
  CHECK(tiles.why_not_dense_tiles().empty());
  CHECK(general.path() == "event-driven");
  CHECK(tiles.accumulator() == accumulator);
  const auto pixels = net.input_shape.size();
  const auto images = random_images(pixels, count, seed);
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) labels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i % 4);
  const auto a = tiles.run(images.data(), labels.data(), count);
  const auto b = general.run(images.data(), labels.data(), count);
  CHECK(a.predictions == b.predictions);
  CHECK(a.spikes == b.spikes);
  CHECK(a.synaptic_events == b.synaptic_events);
  CHECK(a.correct == b.correct);
  // Not a degenerate network: some classes differ and neurons fire.
  CHECK(b.spikes > count * pixels / 4);
}

}  // namespace

TEST_CASE("dense tiles: int16 sums, one tile and several tiles per population, n-hot decode") {
  // 37 inputs (not a whole word), 230 hidden (15 int16 vectors: two tiles), 21 outputs.
  check_same_as_event_driven(fixed_point(random_dense_network({37, 230, 40, 21}, 3, InputEncoding::Threshold, 6), 6),
                             250, 11, "int16");
  check_same_as_event_driven(fixed_point(random_dense_network({64, 40, 30, 10}, 21, InputEncoding::Threshold, 6), 6),
                             3 * SinglePassEngine::kChunkSamples + 17, 4, "int16");
}

TEST_CASE("dense tiles: sums that could exceed 16 bits use int32, per population") {
  // Q4.12 weights of up to ±0.14 over 200 inputs: Σ|w| ≈ 14·4096 units > 32767 in layer 1;
  // the 12-neuron layer after it stays within 16 bits.
  const Network net = fixed_point(random_dense_network({200, 30, 12}, 8, InputEncoding::Threshold, 12), 12);
  check_same_as_event_driven(net, 300, 5, "int16+int32");
}

TEST_CASE("dense tiles: bias neurons become constant input; spike-count decode") {
  for (std::uint64_t seed : {1u, 2u}) {
    const auto pair = bias_mode_pair(seed);  // weights on a 2^-6 grid
    check_same_as_event_driven(fixed_point(pair.first, 6), 200, 30 + seed, "int16");
    check_same_as_event_driven(fixed_point(pair.second, 6), 200, 40 + seed, "int16");
  }
}

TEST_CASE("dense tiles: a sum exactly at the threshold fires") {
  Network net = fixed_point(dense_chain({2, 1}, InputEncoding::Threshold), 8);
  std::get<DenseConnector>(net.projections[0].connector).weights << 0.25f, 0.5f;
  net.populations[1].threshold = {0.75f};
  net.decode.kind = Decode::Kind::SpikeCount;
  net.decode.classes = 1;
  const SinglePassEngine engine(net, "edge");
  REQUIRE(engine.path() == "dense-tiles");
  const std::vector<std::uint8_t> images{200, 200, 200, 0};  // both inputs; only the first
  const auto run = engine.run(images.data(), nullptr, 2);
  // Sample 1: 0.75 ≥ 0.75 fires (2 inputs + 1 output spike); sample 2: 0.25 < 0.75.
  CHECK(run.spikes == 3 + 1);
  CHECK(run.synaptic_events == 2 + 1);
}

TEST_CASE("dense tiles: same results on 1 and 2 threads") {
  const Network net = fixed_point(random_dense_network({50, 120, 33}, 9, InputEncoding::Threshold, 6), 6);
  const SinglePassEngine engine(net, "threads");
  REQUIRE(engine.path() == "dense-tiles");
  const std::int64_t n = 2 * SinglePassEngine::kChunkSamples + 5;
  const auto images = random_images(50, n, 6);
  check_thread_independent(engine, images.data(), nullptr, n);
}

TEST_CASE("dense tiles: not used for float weights or bit-plane input, and says why") {
  const SinglePassEngine float_engine(random_dense_network({20, 10}, 1, InputEncoding::Threshold), "float");
  CHECK(float_engine.path() == "event-driven");
  CHECK(float_engine.why_not_dense_tiles().find("float") != std::string::npos);
  const SinglePassEngine planes(fixed_point(random_dense_network({20, 10}, 1, InputEncoding::Bitplanes, 6), 6), "planes");
  CHECK(planes.path() == "event-driven");
  CHECK(planes.why_not_dense_tiles().find("bit-plane") != std::string::npos);
}
