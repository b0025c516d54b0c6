// The SpiNNaker 2 int8 path below the converter: the one int8 quantiser (round trip,
// requantisation), the ANN program's classifier (max pool, channels_first layout permutation)
// against plain loops, the estimate's figures moving with the hardware parameters they are
// derived from, and the report carrying every component stat.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "common/error.hpp"
#include "snn_runtime/spinnaker2/ann_program.hpp"
#include "snn_runtime/spinnaker2/quantise.hpp"
#include "snn_runtime/spinnaker2/report.hpp"

namespace datasets = grindstone::datasets;
using grindstone::InputError;
using grindstone::InternalError;
using grindstone::Shape;
using namespace grindstone::snn::s2;

namespace {

std::vector<double> random_matrix(std::int64_t k, std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0.0, 0.2);
  std::vector<double> w(static_cast<std::size_t>(k * n));
  for (auto& x : w) x = d(rng);
  return w;
}

// A 4×4 image → conv 1×1 (2 filters, ReLU, requantised by 1/2) → max pool 2×2 → channels_first
// flatten → dense 8×3 scores.
AnnProgram small_program() {
  AnnProgram p;
  AnnStep conv;
  conv.name = "conv";
  conv.conv = true;
  conv.geometry = {4, 4, 1, 2, 1, 1, 1, 1, 1, 1, 0, 0, 4, 4};
  conv.k = 1, conv.n = 2;
  conv.in_shape = Shape{4, 4, 1};
  conv.out_shape = Shape{4, 4, 2};
  conv.weights = {1, -1};
  conv.write_out.bias = {0, 100};
  conv.write_out.multiplier = 1;
  conv.write_out.shift = 1;
  conv.write_out.relu = true;
  conv.write_out.clamp_min = 0;
  conv.write_out.clamp_max = 127;
  p.steps.push_back(conv);
  AnnStep pool;
  pool.kind = AnnStep::Kind::MaxPool;
  pool.name = "pool";
  pool.in_shape = Shape{4, 4, 2};
  pool.out_shape = Shape{2, 2, 2};
  pool.pool_h = pool.pool_w = pool.stride_h = pool.stride_w = 2;
  p.steps.push_back(pool);
  AnnStep flat;
  flat.kind = AnnStep::Kind::FlattenChw;
  flat.name = "flatten";
  flat.in_shape = Shape{2, 2, 2};
  flat.out_shape = Shape{8};
  p.steps.push_back(flat);
  AnnStep dense;
  dense.name = "dense";
  dense.k = 8, dense.n = 3;
  dense.in_shape = Shape{8};
  dense.out_shape = Shape{3};
  // class 0 reads channel 0 of the top-left window, class 1 channel 1 (CHW index 4) of it,
  // class 2 channel 0 of the bottom-right window (CHW index 3)
  dense.weights.assign(24, 0);
  dense.weights[0 * 3 + 0] = 1;
  dense.weights[4 * 3 + 1] = 1;
  dense.weights[3 * 3 + 2] = 1;
  dense.last = true;
  dense.write_out.multiplier = 1;
  dense.write_out.clamp_min = std::numeric_limits<std::int32_t>::min();
  dense.write_out.clamp_max = std::numeric_limits<std::int32_t>::max();
  dense.write_out.bytes_per_value = 4;
  p.steps.push_back(dense);
  p.quantisation = "hand-built";
  return p;
}

// The same program as plain loops: channel 0 = round(x/2), channel 1 = round((100 − x)/2), both
// clamped to [0, 127]; scores are three pooled values.
std::vector<int> small_scores(const std::vector<std::uint8_t>& x) {
  const auto ch = [&](int y, int xx, int c) {
    const int v = x[static_cast<std::size_t>(y * 4 + xx)];
    const int acc = c == 0 ? v : 100 - v;
    return std::clamp((acc + 1) >> 1, 0, 127);  // rounding half up, as the write-out
  };
  const auto pooled = [&](int py, int px, int c) {
    int m = 0;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) m = std::max(m, ch(2 * py + i, 2 * px + j, c));
    return m;
  };
  return {pooled(0, 0, 0), pooled(0, 0, 1), pooled(1, 1, 0)};
}

datasets::Dataset images(std::int64_t n, std::uint64_t seed) {
  datasets::Dataset d;
  d.name = "synthetic";
  d.rows = d.cols = 4;
  std::mt19937_64 rng(seed);
  for (std::int64_t i = 0; i < n * 16; ++i) d.pixels.push_back(static_cast<std::uint8_t>(rng() % 256));
  for (std::int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<std::uint8_t>(i % 3));
  return d;
}

}  // namespace

TEST_CASE("int8 quantiser: values within half a step of w·scale, extremes at ±127, per-column scales") {
  const std::int64_t k = 50, n = 7;
  std::vector<double> w = random_matrix(k, n, 3);
  for (std::int64_t r = 0; r < k; ++r) w[static_cast<std::size_t>(r * n + 6)] = 0.0;  // an all-zero column
  for (const ScaleGroup group : {ScaleGroup::Tensor, ScaleGroup::Column}) {
    const Int8Weights q = quantise_int8(w, k, n, group);
    REQUIRE(q.values.size() == w.size());
    CHECK(q.scales.size() == (group == ScaleGroup::Tensor ? 1u : static_cast<std::size_t>(n)));
    int extreme = 0;
    for (std::int64_t r = 0; r < k; ++r)
      for (std::int64_t c = 0; c < n; ++c) {
        const auto i = static_cast<std::size_t>(r * n + c);
        const double scale = q.scale_of_column(c);
        // round trip: dequantised value within half a quantisation step of the original
        CHECK(std::abs(q.values[i] / scale - w[i]) <= 0.5 / scale + 1e-12);
        extreme = std::max(extreme, std::abs(static_cast<int>(q.values[i])));
      }
    CHECK(extreme == 127);
  }
  const Int8Weights col = quantise_int8(w, k, n, ScaleGroup::Column);
  CHECK(col.scales[6] == 1.0);  // all-zero column keeps scale 1 and zero values
  for (std::int64_t c = 0; c < 6; ++c) {
    int m = 0;
    for (std::int64_t r = 0; r < k; ++r) m = std::max(m, std::abs(static_cast<int>(col.values[static_cast<std::size_t>(r * n + c)])));
    CHECK(m == 127);  // every non-zero column uses the full range
  }
  CHECK_THROWS_AS(quantise_int8(w, k, n + 1, ScaleGroup::Tensor), InternalError);
}

TEST_CASE("requantisation: multiplier·2^-shift equals the ratio to 15 significant bits") {
  for (const double ratio : {1e-4, 0.0123, 0.5, 0.999, 1.0, 3.7, 250.0}) {
    const Requantisation r = requantisation(ratio);
    CHECK(r.shift >= 0);
    CHECK(r.shift <= 31);
    CHECK(std::abs(r.multiplier * std::ldexp(1.0, -r.shift) - ratio) / ratio < std::ldexp(1.0, -14));
  }
  CHECK_THROWS_AS(requantisation(0.0), InputError);
  CHECK_THROWS_AS(requantisation(std::nan("")), InputError);
  CHECK(round_to_int32(-2.5, "b") == -3);
  CHECK_THROWS_AS(round_to_int32(3e9, "bias"), InputError);
}

TEST_CASE("classifier: conv, max pool and the channels_first permutation equal plain loops") {
  const AnnProgram program = small_program();
  const datasets::Dataset data = images(64, 9);
  hw::MacArray mac;
  for (std::int64_t i = 0; i < data.size(); ++i) {
    const std::vector<std::uint8_t> x(data.image(i), data.image(i) + 16);
    const std::vector<int> scores = small_scores(x);
    std::int64_t nonzero = 0;
    const int cls = classify(program, x, mac, nonzero);
    CHECK(cls == static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin()));
    CHECK(nonzero >= std::count_if(x.begin(), x.end(), [](std::uint8_t v) { return v != 0; }));
  }
  CHECK(mac.stats().invocations == 2 * data.size());
  CHECK(mac.stats().accumulator_overflows == 0);
}

TEST_CASE("ANN program → MacGraph: one op per MAC step, the max pool fused into the write-out, the flatten only addressing") {
  const MacGraph g = mac_graph_of(small_program());
  REQUIRE(g.ops.size() == 2);
  CHECK(g.input_bytes == 16);
  const MacOp& conv = g.ops[0];
  CHECK(conv.name == "conv");
  CHECK(conv.kind == MacOp::Kind::Conv);
  CHECK(conv.in_h == 4);
  CHECK(conv.out_h == 4);
  CHECK(conv.result_h == 2);  // after the fused 2×2 pool
  CHECK(conv.result_w == 2);
  CHECK(conv.out_channels == 2);
  CHECK(conv.fused == std::vector<std::string>{"pool"});
  CHECK(conv.macs() == 4 * 4 * 2 * 1);
  const MacOp& dense = g.ops[1];
  CHECK(dense.kind == MacOp::Kind::Dense);
  CHECK(dense.in_channels == 8);
  CHECK(dense.out_channels == 3);
  CHECK(g.macs() == 32 + 24);
  AnnProgram orphan_pool = small_program();
  orphan_pool.steps.erase(orphan_pool.steps.begin());
  CHECK_THROWS_AS(mac_graph_of(orphan_pool), InputError);
}

TEST_CASE("ANN run: timed as estimate_cnn times its MacGraph; totals scale with the samples; the arithmetic ignores timing") {
  const AnnProgram program = small_program();
  const datasets::Dataset data = images(8, 1);
  const CnnMappingParams base;
  const AnnRunReport a = run_ann(program, data, base);
  CHECK(a.samples == 8);
  const CnnEstimate direct = estimate_cnn(mac_graph_of(program), base);
  CHECK(a.estimate.fps == direct.fps);
  CHECK(a.estimate.latency_seconds == direct.latency_seconds);
  CHECK(a.estimate.pes == direct.pes);
  CHECK(a.estimate.dram_bytes == direct.dram_bytes);
  CHECK(a.dram_bytes == 8 * a.estimate.dram_bytes);
  CHECK(a.energy_joules == doctest::Approx(8 * a.estimate.energy.total()));
  CHECK(a.estimate.ops.size() == 2);

  CnnMappingParams half_clock = base;
  half_clock.chip.clock.hz = base.chip.clock.hz / 2;
  const AnnRunReport c = run_ann(program, data, half_clock);
  CHECK(c.estimate.latency_seconds > a.estimate.latency_seconds);
  CHECK(c.predictions == a.predictions);  // timing parameters do not change the arithmetic

  CnnMappingParams slow_mac = base;
  slow_mac.chip.pe.mac.invocation_overhead_cycles = grindstone::hw::s2::Cycles(1000);
  const AnnRunReport m = run_ann(program, data, slow_mac);
  CHECK(m.estimate.latency_seconds > a.estimate.latency_seconds);
  CHECK(m.mac.overhead_cycles > a.mac.overhead_cycles);  // the functional run uses the same MAC array parameters
  CHECK(m.accuracy == a.accuracy);
}

TEST_CASE("ANN report: computed figures only, no spike counts, the estimate in JSON and summary") {
  const AnnProgram program = small_program();
  const CnnMappingParams mapping;
  const AnnRunReport r = run_ann(program, images(8, 2), mapping);
  const ReportContext ctx{"synthetic", "ann", 1, 300.0, 0.5};
  const nlohmann::json j = ann_report_json(r, program, mapping, ctx);
  CHECK(j["spikes_per_sample"].is_null());
  CHECK(j["synaptic_events_per_sample"].is_null());
  CHECK(j["not_applicable"].contains("spikes_per_sample"));
  CHECK(j["nonzero_activations_per_sample"].get<double>() == doctest::Approx(r.nonzero_activations_per_sample));
  CHECK(r.nonzero_activations_per_sample > 0);
  CHECK(j["hw_stats"]["mac_functional_run"]["invocations"] == r.mac.invocations);
  CHECK(j["hw_throughput_samples_per_second"].get<double>() == r.estimate.fps);
  CHECK(j["hw_latency_seconds"].get<double>() == r.estimate.latency_seconds);
  CHECK(j["pes"] == r.estimate.pes);
  CHECK(j["estimate"] == estimate_json(r.estimate, mapping));
  CHECK(j["estimate"]["layers"].size() == 2);
  CHECK(j["quantisation"] == "hand-built");
  const std::string human = ann_report_human(r, program, mapping, ctx);
  for (const char* piece : {"MAC arrays (functional run", "accumulator overflows", "as grindstone estimate", "conv", "dense", "fps"})
    CHECK_MESSAGE(human.find(piece) != std::string::npos, piece);
}

TEST_CASE("stats_json: every counter of every S2 component, and the derived ratios") {
  hw::MacArray::Stats m;
  m.invocations = 1, m.compute_cycles = 2, m.overhead_cycles = 3, m.writeout_cycles = 4, m.useful_macs = 5, m.mac_slots = 10,
  m.accumulator_overflows = 7;
  const auto mj = stats_json(m);
  CHECK(mj.size() == 9);
  CHECK(mj["total_cycles"] == 9);
  CHECK(mj["utilisation"].get<double>() == doctest::Approx(0.5));
  hw::ArmCore::Stats a;
  a.spikes_received = 1, a.synaptic_events = 2, a.neuron_updates = 3, a.spikes_sent = 4, a.cycles = 5;
  const auto aj = stats_json(a);
  CHECK(aj.size() == 5);
  CHECK(aj["spikes_sent"] == 4);
  hw::Noc::Stats n;
  n.transfers = 1, n.bytes = 10, n.flits = 2, n.byte_hops = 30, n.chip_link_bytes = 4;
  const auto nj = stats_json(n);
  CHECK(nj.size() == 6);
  CHECK(nj["mean_hops"].get<double>() == doctest::Approx(3.0));
  hw::Dram::Stats d;
  d.reads = 2, d.bytes_read = 100, d.busy = hw::Seconds(1e-6);
  const auto dj = stats_json(d);
  CHECK(dj.size() == 3);
  CHECK(dj["busy_seconds"].get<double>() == doctest::Approx(1e-6));
}

TEST_CASE("SNN report: totals are the component stats, all of them in JSON and summary; no typed-in float agreement") {
  RunReport r;
  r.samples = 10;
  r.mac.invocations = 3, r.mac.useful_macs = 99, r.mac.accumulator_overflows = 1;
  r.arm.spikes_received = 11, r.arm.synaptic_events = 12, r.arm.neuron_updates = 13, r.arm.spikes_sent = 14, r.arm.cycles = 15;
  r.noc.transfers = 2, r.noc.bytes = 40, r.noc.byte_hops = 80;
  r.dram.reads = 5, r.dram.bytes_read = 7840;
  r.partial_sum_cycles = 6;
  r.integer_exact = true;
  const ReportContext ctx{"mnist", "hybrid", 2, 250.0, 1.0};
  nlohmann::json j = report_json(r, ctx);
  CHECK(j["hw_stats"]["arm"]["neuron_updates"] == 13);
  CHECK(j["hw_stats"]["dram"]["reads"] == 5);
  CHECK(j["hw_stats"]["arm_partial_sum_cycles"] == 6);
  CHECK(j["float_agreement"].is_null());
  CHECK(j["not_applicable"].contains("float_agreement"));
  CHECK(j["chips_available"] == 2);
  std::string human = report_human(r, ctx);
  for (const char* piece : {"13 neuron updates", "14 spikes sent", "80 byte-hops", "5 reads, 7840 bytes", "1 accumulator overflows",
                            "partial-sum adds: 6 cycles"})
    CHECK_MESSAGE(human.find(piece) != std::string::npos, piece);
  CHECK(human.find("agree with float") == std::string::npos);
  r.integer_exact = false;
  r.float_agreement = 0.97;
  j = report_json(r, ctx);
  CHECK(j["float_agreement"].get<double>() == 0.97);
  CHECK_FALSE(j.contains("not_applicable"));
  human = report_human(r, ctx);
  CHECK(human.find("agree with float arithmetic on 0.9700") != std::string::npos);
}
