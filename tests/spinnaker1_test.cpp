// SpiNNaker 1 mapping and executor (snn_runtime/spinnaker1): packet conservation with faults,
// equality with the single-pass engine, late spikes at too small a time-scale factor,
// determinism across thread counts, routing-table overflow errors, and the seed's core counts.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <nlohmann/json.hpp>

#include "common/paths.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "converter/ann/inference.hpp"
#include "converter/passes/pipeline.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "snn_runtime/spinnaker1/simulation.hpp"
#include "testing/engine_networks.hpp"
#include "testing/test_models.hpp"
#include "tests/test_support.hpp"

namespace {

using namespace grindstone;
namespace s1 = grindstone::snn::spinnaker1;
using grindstone::testing::require_shared;
using grindstone::testing::run_cli;

bool quick() { return std::getenv("GRINDSTONE_TEST_QUICK") != nullptr; }

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

/// An in-memory dataset of random images (labels 0..3).
datasets::Dataset random_dataset(std::int64_t pixels, std::int64_t count, std::uint64_t seed) {
  datasets::Dataset d;
  d.name = "random";
  d.rows = 1;
  d.cols = pixels;
  d.pixels = engines_testing::random_images(pixels, count, seed);
  for (std::int64_t i = 0; i < count; ++i) d.labels.push_back(static_cast<std::uint8_t>(random_bits(seed, 7, static_cast<std::uint64_t>(i)) % 4));
  d.num_classes = 4;
  return d;
}

/// A small fixed-point dense network: 64 inputs → 40 → 24 → 16 (n-hot decode over 4 classes).
snn::Network small_network(std::uint64_t seed = 3) {
  snn::Network net = engines_testing::random_dense_network({64, 40, 24, 16}, seed, snn::InputEncoding::Threshold, 8);
  net.weights.is_float = false;
  net.weights.fixed = FixedPointFormat{4, 8};
  return net;
}

/// One tile per chip of a SpiNN-3 board, cores forced onto several chips (4 neurons per core).
s1::SimulationOptions spread_options(int tiles) {
  s1::SimulationOptions o;
  o.mapping.tiles = tiles;
  o.mapping.max_neurons_per_core = 8;
  o.mapping.machine = hw::s1::Machine::Params::spinn5();
  o.mapping.machine.chip.n_reserved_cores = 2;
  o.executor.time_scale_factor = 10;
  o.executor.between_sample_ms = 1.0;
  return o;
}

void check_conservation(const s1::ExecutorResult& r) {
  CHECK(r.packets_sent > 0);
  CHECK(r.packets_sent == r.packets_delivered + r.packets_dropped);
  CHECK(r.packets_dropped == r.packets_dropped_random + r.packets_dropped_router + r.packets_dropped_input_queue);
}

}  // namespace

TEST_CASE("spinnaker1: packets are conserved, with and without faults") {
  const snn::Network net = small_network();
  const auto data = random_dataset(64, 40, 11);
  s1::SimulationOptions o = spread_options(6);

  const s1::Simulation clean = s1::simulate(net, data, o, "small");
  check_conservation(clean.result);
  CHECK(clean.result.packets_dropped == 0);
  CHECK(clean.mapping.chips_used.size() > 1);

  // Random drops: lost deliveries counted exactly, classes may change.
  o.executor.drop_probability = 0.05;
  const s1::Simulation dropping = s1::simulate(net, data, o, "small");
  check_conservation(dropping.result);
  CHECK(dropping.result.packets_dropped_random > 0);

  // Dead chip and dead link on the routes of the clean run: placement and routes avoid them.
  o.executor.drop_probability = 0.01;
  const hw::s1::ChipCoord used = clean.mapping.machine.chips()[static_cast<std::size_t>(clean.mapping.chips_used[1])];
  o.mapping.machine.dead_chips.push_back(used);
  o.mapping.machine.dead_links.push_back({{0, 0}, hw::s1::Link::East});
  const s1::Simulation faulty = s1::simulate(net, data, o, "small");
  check_conservation(faulty.result);
  for (int c : faulty.mapping.chips_used) CHECK(faulty.mapping.machine.chips()[static_cast<std::size_t>(c)] != used);
}

TEST_CASE("spinnaker1: router overload drops and reinjects, and the books still balance") {
  // Every core sends its spikes across the same links at once: a tiny router wait forces drops.
  const snn::Network net = small_network(5);
  const auto data = random_dataset(64, 30, 12);
  s1::SimulationOptions o = spread_options(8);
  o.mapping.machine.chip.n_reserved_cores = 14;  // 4 application cores per chip: tiles span chips
  o.executor.router.wait1_cycles = hw::s1::RouterCycles(0);
  o.executor.router.link.output_buffer_packets = 1;
  o.executor.router.link.bits_per_second = 1e6;  // 40 µs per packet: every burst blocks
  o.executor.router.reinjection_queue_packets = 4;
  const s1::Simulation sim = s1::simulate(net, data, o, "small");
  check_conservation(sim.result);
  CHECK(sim.result.packets_reinjected > 0);
}

TEST_CASE("spinnaker1: emergency routing detours blocked packets, ends, balances and is deterministic") {
  // The overload case of the test above with wait2 > 0: a packet blocked on one link takes the
  // two-hop detour around it. Detoured packets used to lose their state at the middle chip and
  // be default-routed away, so the run never ended.
  const snn::Network net = small_network(5);
  const auto data = random_dataset(64, 30, 12);
  s1::SimulationOptions o = spread_options(8);
  o.mapping.machine.chip.n_reserved_cores = 14;
  o.executor.router.wait1_cycles = hw::s1::RouterCycles(0);
  o.executor.router.wait2_cycles = hw::s1::RouterCycles(2000);
  o.executor.router.link.output_buffer_packets = 1;
  o.executor.router.link.bits_per_second = 1e6;
  o.executor.router.reinjection_queue_packets = 4;
  s1::ExecutorResult a, b;
  {
    ThreadLimit limit(1);
    a = s1::simulate(net, data, o, "small").result;
  }
  {
    ThreadLimit limit(2);
    b = s1::simulate(net, data, o, "small").result;
  }
  check_conservation(a);
  CHECK(a.router_stats.emergency_routed > 0);
  CHECK(a.predictions == b.predictions);
  CHECK(a.packets_delivered == b.packets_delivered);
  CHECK(a.packets_dropped_router == b.packets_dropped_router);
  CHECK(a.router_stats.emergency_routed == b.router_stats.emergency_routed);
  CHECK(a.router_traversals == b.router_traversals);
}

TEST_CASE("spinnaker1: same classes as the single-pass engine when nothing is lost; determinism") {
  const snn::Network net = small_network(9);
  const auto data = random_dataset(64, 60, 13);
  const snn::SinglePassEngine engine(net, "small");
  const auto reference = engine.run(data.pixels.data(), data.labels.data(), data.size());
  s1::SimulationOptions o = spread_options(4);
  std::optional<s1::Simulation> one, two;
  {
    ThreadLimit limit(1);
    one.emplace(s1::simulate(net, data, o, "small"));
  }
  {
    ThreadLimit limit(2);
    two.emplace(s1::simulate(net, data, o, "small"));
  }
  REQUIRE(s1::no_overrun(one->result));
  CHECK(one->result.packets_dropped == 0);
  CHECK(one->result.predictions == reference.predictions);
  CHECK(one->result.synaptic_events == reference.synaptic_events);
  CHECK(one->result.spikes == reference.spikes);

  // With faults too, 1 and 2 threads agree on everything.
  o.executor.drop_probability = 0.1;
  s1::ExecutorResult a, b;
  {
    ThreadLimit limit(1);
    a = s1::simulate(net, data, o, "small").result;
  }
  {
    ThreadLimit limit(2);
    b = s1::simulate(net, data, o, "small").result;
  }
  CHECK(a.predictions == b.predictions);
  CHECK(a.packets_sent == b.packets_sent);
  CHECK(a.packets_delivered == b.packets_delivered);
  CHECK(a.packets_dropped == b.packets_dropped);
  CHECK(a.late_spikes == b.late_spikes);
  CHECK(a.router_packets == b.router_packets);
  CHECK(two->result.predictions == one->result.predictions);
  CHECK(two->result.router_packets == one->result.router_packets);
}

TEST_CASE("spinnaker1: temporal groups beyond the ring buffer use delay-extension cores and stay exact") {
  const snn::Network net = engines_testing::with_temporal_groups(small_network(21), 12);  // delays up to 23
  const auto data = random_dataset(64, 30, 14);
  const snn::SinglePassEngine engine(net, "groups");
  const auto reference = engine.run(data.pixels.data(), data.labels.data(), data.size());
  s1::SimulationOptions o = spread_options(2);
  o.executor.between_sample_ms = 12.0;
  const s1::Simulation sim = s1::simulate(net, data, o, "groups");
  int delay_cores = 0;
  for (const auto& s : sim.mapping.slices) delay_cores += s.kind == s1::CoreKind::DelayExtension ? 1 : 0;
  CHECK(delay_cores > 0);
  check_conservation(sim.result);
  REQUIRE(s1::no_overrun(sim.result));
  CHECK(sim.result.predictions == reference.predictions);
  CHECK(sim.result.synaptic_events == reference.synaptic_events);
}

TEST_CASE("spinnaker1: a routing table that cannot fit names the chip") {
  const snn::Network net = small_network();
  s1::MappingOptions o = spread_options(6).mapping;
  o.router_table.capacity = 1;
  const s1::Mapping m = s1::map_network(net, o, "net.snn.h5");
  try {
    (void)s1::build_routing(m, "net.snn.h5");
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("net.snn.h5") != std::string::npos);
    CHECK(msg.find("chip (") != std::string::npos);
    CHECK(msg.find("entries") != std::string::npos);
  }
}

TEST_CASE("spinnaker1: the seed's dense layout is 760 cores on 48 chips with 57,000 neurons") {
  // dense:100,100 with a 100-wide output, thresholds carrying the biases: 4 cores per tile.
  const snn::Network net = engines_testing::random_dense_network({784, 100, 100, 100}, 1, snn::InputEncoding::Threshold);
  s1::MappingOptions o;
  o.tiles = 190;
  const s1::Mapping m = s1::map_network(net, o, "dense");
  CHECK(m.cores.size() == 760);
  CHECK(m.chips_used.size() == 48);
  CHECK(m.neurons_per_tile * o.tiles == 57000);
  const s1::Routing r = s1::build_routing(m, "dense");
  CHECK(r.entries_max <= hw::s1::kRouterUsableEntries);
  o.tiles = 193;  // 772 cores > 768 application cores of one board
  CHECK_THROWS_AS(s1::map_network(net, o, "dense"), InputError);
}

TEST_CASE("spinnaker1: Whetstone model — equal to single-pass, late spikes at too small a time-scale factor") {
  auto shared = require_shared("spinnaker1 whetstone");
  if (!shared) return;
  grindstone::testing::TempDir tmp("s1");
  const auto model = *shared / "models/whetstone/whetstone_dense_mnist.h5";
  const std::int64_t limit = quick() ? 40 : 200;
  for (const std::string input : {"threshold", "bitplanes"}) {
    CAPTURE(input);
    const auto path = tmp / (input + ".snn.h5");
    const auto conv = run_cli("convert " + quoted(model) + " -o " + quoted(path) + " --weights Q4.8 --input " + input);
    REQUIRE_MESSAGE(conv.exit_code == 0, conv.err);
    const snn::Network net = snn::load_network(path);
    auto data = datasets::load("mnist", datasets::Split::Test, *shared / "datasets/mnist", limit);
    const snn::SinglePassEngine engine(net, "whetstone");
    const auto reference = engine.run(data);

    s1::SimulationOptions o;
    o.mapping.tiles = 8;
    o.executor.time_scale_factor = 20;
    // Bit planes send up to 8 spikes per pixel at once: a 256-packet input buffer overflows, so
    // this run uses sPyNNaker's incoming_spike_buffer_size option to make room.
    // Their ~8× traffic also needs a slower timer.
    if (input == "bitplanes") {
      o.executor.input_queue_packets = 8192;
      o.executor.time_scale_factor = 100;
    }
    const s1::Simulation sim = s1::simulate(net, data, o, "whetstone");
    check_conservation(sim.result);
    REQUIRE(s1::no_overrun(sim.result));
    REQUIRE(sim.result.packets_dropped == 0);
    CHECK(sim.result.ring_buffer_saturations == 0);
    CHECK(sim.result.predictions == reference.predictions);
    CHECK(sim.result.accuracy == doctest::Approx(reference.accuracy));

    if (input == "threshold") {
      o.executor.time_scale_factor = 1;
      const s1::Simulation rushed = s1::simulate(net, data, o, "whetstone");
      check_conservation(rushed.result);
      CHECK(rushed.result.late_spikes > 0);
      CHECK(rushed.result.accuracy < sim.result.accuracy);
    }
  }
}

TEST_CASE("spinnaker1: the trainer's sharpened networks (dense and conv) — equal to single-pass") {
  auto shared = require_shared("spinnaker1 on tests/data networks");
  if (!shared) return;
  grindstone::testing::TempDir tmp("s1data");
  const std::filesystem::path data_dir = grindstone::source_dir() / "tests/data";
  struct Case {
    const char* file;
    std::int64_t limit;
  };
  for (const Case& c : {Case{"sharpened_mnist_dense100_100_binary.h5", quick() ? 40 : 300},
                        Case{"sharpened_mnist_cnn32x3_64x3_real.h5", quick() ? 8 : 40}}) {
    CAPTURE(c.file);
    const auto path = tmp / "net.snn.h5";
    const auto conv = run_cli("convert " + quoted(data_dir / c.file) + " -o " + quoted(path) + " --weights Q4.8");
    REQUIRE_MESSAGE(conv.exit_code == 0, conv.err);
    const snn::Network net = snn::load_network(path);
    const auto data = datasets::load("mnist", datasets::Split::Test, *shared / "datasets/mnist", c.limit);
    const auto reference = snn::SinglePassEngine(net, c.file).run(data);
    s1::SimulationOptions o;
    o.executor.time_scale_factor = 20;
    const s1::Simulation sim = s1::simulate(net, data, o, c.file);
    check_conservation(sim.result);
    REQUIRE(s1::no_overrun(sim.result));
    REQUIRE(sim.result.packets_dropped == 0);
    CHECK(sim.result.late_spikes == 0);
    CHECK(sim.result.predictions == reference.predictions);
    CHECK(reference.accuracy > 0.85);
  }
}

TEST_CASE("spinnaker1: CLI run reports the contract keys, auto time-scale factor and plots") {
  auto shared = require_shared("spinnaker1 cli");
  if (!shared) return;
  grindstone::testing::TempDir tmp("s1cli");
  const auto net = tmp / "w.snn.h5";
  REQUIRE(run_cli("convert " + quoted(*shared / "models/whetstone/whetstone_dense_mnist.h5") + " -o " + quoted(net) +
                  " --weights Q4.8")
              .exit_code == 0);
  const auto r = run_cli("run " + quoted(net) + " --engine spinnaker1 --limit 30 --tiles 4 --time-scale-factor auto --json --plots " +
                         quoted(tmp / "plots"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"engine", "samples", "accuracy", "wall_seconds", "samples_per_second", "spikes_per_sample",
                          "synaptic_events_per_sample", "tiles", "neurons", "cores", "chips", "boards", "time_scale_factor",
                          "simulated_seconds", "hw_throughput_samples_per_second", "hw_latency_seconds", "packets_sent",
                          "packets_delivered", "packets_dropped", "packets_reinjected", "packets_emergency_routed", "router_entries_max",
                          "ring_buffer_saturations", "late_spikes", "energy_joules"})
    CHECK_MESSAGE(j.contains(key), key);
  CHECK(j["packets_sent"].get<std::int64_t>() ==
        j["packets_delivered"].get<std::int64_t>() + j["packets_dropped"].get<std::int64_t>());
  CHECK(j["late_spikes"].get<std::int64_t>() == 0);
  CHECK(j["time_scale_factor"].get<double>() >= 1.0);
  CHECK(j["neurons"].get<std::int64_t>() == 4 * (256 + 64 + 100));
  CHECK(std::filesystem::file_size(tmp / "plots" / "router_load.png") > 1000);
  CHECK(std::filesystem::file_size(tmp / "plots" / "raster.png") > 1000);

  // Emergency routing on: nothing blocks at this load, so the classes are the same.
  const auto emergency = run_cli("run " + quoted(net) + " --engine spinnaker1 --limit 30 --tiles 4 --time-scale-factor " +
                                 std::to_string(j["time_scale_factor"].get<double>()) + " --emergency-wait-cycles 240 --json");
  REQUIRE_MESSAGE(emergency.exit_code == 0, emergency.err);
  CHECK(nlohmann::json::parse(emergency.out)["accuracy"] == j["accuracy"]);

  const auto bad = run_cli("run " + quoted(net) + " --engine spinnaker1 --limit 5 --dead-link 1,2");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--dead-link") != std::string::npos);
}

TEST_CASE("residual network (issue 13): single-pass and SpiNNaker 1 give the binary ANN's classes, at K = 1 and 2") {
  const ann::Model model = passes::testing::residual_identity_model();
  datasets::Dataset data = random_dataset(64, 48, 21);
  data.rows = 8;
  data.cols = 8;
  // The binary ANN's classes: arg-max of its output spikes (first maximum, as spike-count decode).
  ann::RowMatrix x(data.size(), 64);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = data.pixels[static_cast<std::size_t>(i)] >= 128 ? 1.0f : 0.0f;
  const auto out = ann::ReferenceInference(model).layer_outputs(x, {model.output}).at(0);
  std::vector<int> expected;
  for (Eigen::Index s = 0; s < out.rows(); ++s) {
    Eigen::Index best = 0;
    out.row(s).maxCoeff(&best);
    expected.push_back(static_cast<int>(best));
  }
  CHECK(std::set<int>(expected.begin(), expected.end()).size() >= 2);  // not a constant classifier
  for (int groups : {1, 2}) {
    INFO("temporal groups " << groups);
    passes::ConvertOptions opt;
    opt.temporal_groups = groups;
    const snn::Network net = passes::convert_single_pass(model, opt).network;
    const snn::SinglePassEngine engine(net, "residual");
    const auto single = engine.run(data.pixels.data(), data.labels.data(), data.size());
    CHECK(single.predictions == expected);
    s1::SimulationOptions o = spread_options(4);
    const s1::Simulation sim = s1::simulate(net, data, o, "residual");
    REQUIRE(s1::no_overrun(sim.result));
    CHECK(sim.result.packets_dropped == 0);
    CHECK(sim.result.predictions == single.predictions);
    CHECK(sim.result.spikes == single.spikes);
    CHECK(sim.result.synaptic_events == single.synaptic_events);
  }
}
