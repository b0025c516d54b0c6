// Benchmark: the seed's dense SpiNNaker 1 experiment (dense:100,100 sharpened network, binary
// inputs, 190 tiles on one 48-chip board, 2 ms between samples, time-scale factor 5, the 10,000
// MNIST test images) on the event-driven executor, against the single-pass engine on the same
// network as the baseline measured in the same run. Prints one JSON object: wall times, the
// ratio, the real board's 0.657 s, peak memory, the executor's phase profile and the model's
// figures.
//
//   bench_spinnaker1_dense [NET.snn.h5] [--tiles N] [--tsf X] [--limit N] [--threads N]
//                          [--drop-probability P]
// Without a network file, a randomly initialised 784-100-100-100 network (thresholds carrying
// the biases, Q4.8 weights) of the seed's shape is used — same traffic shape, not its accuracy.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "common/random.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "snn_runtime/spinnaker1/report.hpp"
#include "snn_runtime/spinnaker1/simulation.hpp"

namespace {

using namespace grindstone;

snn::Network random_seed_shape() {
  snn::Network net;
  net.input = snn::InputEncoding::Threshold;
  net.input_shape = Shape{28, 28, 1};
  net.weights.is_float = false;
  net.weights.fixed = FixedPointFormat{4, 8};
  const std::int64_t sizes[] = {784, 100, 100, 100};
  for (int l = 0; l < 4; ++l) {
    snn::Population p;
    p.name = l == 0 ? "input" : "dense_" + std::to_string(l);
    p.role = l == 0 ? snn::PopulationRole::Input : (l == 3 ? snn::PopulationRole::Output : snn::PopulationRole::Hidden);
    p.shape = l == 0 ? Shape{28, 28, 1} : Shape{sizes[l]};
    p.tick = l;
    if (l > 0) p.threshold.assign(static_cast<std::size_t>(sizes[l]), 0.5f);
    net.populations.push_back(p);
  }
  for (int l = 1; l < 4; ++l) {
    snn::Projection pr;
    pr.name = "p" + std::to_string(l);
    pr.pre = l - 1;
    pr.post = l;
    Eigen::MatrixXf w(sizes[l - 1], sizes[l]);
    const double r = 2.0 / std::sqrt(static_cast<double>(sizes[l - 1]));
    for (Eigen::Index j = 0; j < w.rows(); ++j)
      for (Eigen::Index i = 0; i < w.cols(); ++i)
        w(j, i) = static_cast<float>(std::round(256.0 * r * (2.0 * random_uniform(7, static_cast<std::uint64_t>(l), static_cast<std::uint64_t>(j * w.cols() + i)) - 1.0)) / 256.0);
    pr.connector = snn::DenseConnector{w};
    net.projections.push_back(pr);
  }
  net.output = 3;
  net.decode.kind = snn::Decode::Kind::NHotKey;
  net.decode.classes = 10;
  net.decode.key = Eigen::MatrixXf::Zero(10, 100);
  for (int c = 0; c < 10; ++c)
    for (int j = 0; j < 10; ++j) net.decode.key(c, c * 10 + j) = 1.0f;
  return net;
}

/// Process CPU time (user + system, all threads), seconds: meaningful when the machine is shared.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/// FNV-1a over a sequence of integers: a compact fingerprint of per-sample / per-chip results, so
/// two runs can be compared bit for bit from their JSON.
template <class Range>
std::string fingerprint(const Range& values) {
  std::uint64_t h = 1469598103934665603ull;
  for (const auto v : values) {
    auto x = static_cast<std::uint64_t>(static_cast<std::int64_t>(v));
    for (int b = 0; b < 8; ++b, x >>= 8) h = (h ^ (x & 0xFFu)) * 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string net_path;
    int tiles = 190, threads = 2;
    double tsf = 5.0, drop_probability = 0.0;
    std::int64_t limit = 0;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw InputError(a + ": missing value");
        return argv[++i];
      };
      if (a == "--tiles") tiles = std::stoi(next());
      else if (a == "--tsf") tsf = std::stod(next());
      else if (a == "--limit") limit = std::stoll(next());
      else if (a == "--threads") threads = std::stoi(next());
      else if (a == "--drop-probability") drop_probability = std::stod(next());
      else net_path = a;
    }
    ThreadLimit limit_threads(threads);
    const snn::Network net = net_path.empty() ? random_seed_shape() : snn::load_network(net_path);
    const auto data = datasets::load("mnist", datasets::Split::Test, {}, limit);

    const snn::SinglePassEngine engine(net, "bench");
    const double sp_cpu0 = cpu_seconds();
    const auto sp = engine.run(data);
    const double sp_cpu = cpu_seconds() - sp_cpu0;

    namespace s1 = snn::spinnaker1;
    s1::SimulationOptions o;
    o.mapping.tiles = tiles;
    o.executor.time_scale_factor = tsf;
    o.executor.between_sample_ms = 2.0;
    o.executor.drop_probability = drop_probability;
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = cpu_seconds();
    const s1::Simulation sim = s1::simulate(net, data, o, "bench");
    const double sim_cpu = cpu_seconds() - cpu0;
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    nlohmann::json j = s1::report_json(net, sim, "mnist");
    j["network"] = net_path.empty() ? "random 784-100-100-100 (Q4.8, seed shape)" : net_path;
    j["threads"] = threads;
    j["executor_wall_seconds"] = sim.result.wall_seconds;
    j["mapping_and_routing_seconds"] = sim.mapping_seconds;
    j["total_wall_seconds"] = total;
    j["board_seconds"] = 0.657;
    j["executor_vs_board"] = sim.result.wall_seconds / 0.657;
    j["single_pass_wall_seconds"] = sp.wall_seconds;
    j["single_pass_accuracy"] = sp.accuracy;
    j["executor_vs_single_pass"] = sim.result.wall_seconds / std::max(sp.wall_seconds, 1e-9);
    j["same_predictions_as_single_pass"] = sim.result.predictions == sp.predictions;
    j["phase_seconds"] = {{"update", sim.result.phase_seconds[0]},
                          {"routing", sim.result.phase_seconds[1]},
                          {"delivery", sim.result.phase_seconds[2]}};
    // Everything the model computed (not host times): must not change under host optimisations.
    const auto& r = sim.result;
    const auto& rs = r.router_stats;
    j["model_stats"] = {
        {"predictions_fnv", fingerprint(r.predictions)},
        {"router_packets_fnv", fingerprint(r.router_packets)},
        {"spikes", r.spikes},
        {"synaptic_events", r.synaptic_events},
        {"router", {{"packets_received", rs.packets_received}, {"packets_routed", rs.packets_routed},
                    {"table_lookups", rs.table_lookups}, {"table_hits", rs.table_hits},
                    {"default_routed", rs.default_routed}, {"no_route_dropped", rs.no_route_dropped},
                    {"multicast_replications", rs.multicast_replications}, {"link_sends", rs.link_sends},
                    {"core_deliveries", rs.core_deliveries}, {"emergency_routed", rs.emergency_routed},
                    {"dropped", rs.dropped}, {"reinjection_queued", rs.reinjection_queued},
                    {"reinjection_lost", rs.reinjection_lost}, {"dead_link_drops", rs.dead_link_drops},
                    {"reinjected", rs.reinjected}, {"total_blocking_ps", rs.total_blocking.ps},
                    {"max_reinjection_queue", rs.max_reinjection_queue}}},
        {"links", {{"packets", r.link_stats.packets}, {"payload_packets", r.link_stats.payload_packets},
                   {"bits", r.link_stats.bits}, {"busy_ps", r.link_stats.busy.ps}, {"max_wait_ps", r.link_stats.max_wait.ps}}},
        {"ring_buffers", {{"additions", r.ring_buffer_stats.additions}, {"saturations", r.ring_buffer_stats.saturations},
                          {"drains", r.ring_buffer_stats.drains}}}};
    j["peak_rss_mib"] = peak_rss_mib();
    j["simulate_cpu_seconds"] = sim_cpu;  // mapping + routing + executor, all threads
    j["single_pass_cpu_seconds"] = sp_cpu;
    std::cout << j.dump(2) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_spinnaker1_dense: " << e.what() << "\n";
    return 2;
  }
}
