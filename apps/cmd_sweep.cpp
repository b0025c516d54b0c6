// `grindstone sweep NET.snn.h5 --engine spinnaker1 --time-scale-factor 1,2,4,8,14
// [--temporal-groups 5,20] [--plot sweep.png]`: the SpiNNaker 1 settings map
// (snn_runtime/spinnaker1/sweep.hpp) — accuracy, drops, late spikes, overruns, throughput and
// latency per (temporal groups, time-scale factor), against the single-pass engine's accuracy on
// the same images. A table, or one JSON object with --json; the PNG is written atomically.
#include <iomanip>
#include <memory>
#include <sstream>

#include "apps/run_command.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "snn_runtime/spinnaker1/plots.hpp"
#include "snn_runtime/spinnaker1/sweep.hpp"

namespace grindstone::cli {
namespace {

struct SweepCliOptions {
  RunOptions run;
  std::string factors = "1,2,4,8,14";
  std::string groups;  ///< empty: the network's own
  std::optional<std::filesystem::path> plot;
};

/// "a,b,c" → numbers; InputError naming `option` on anything else.
template <class T>
std::vector<T> parse_list(const std::string& text, const std::string& option) {
  std::vector<T> v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      std::size_t used = 0;
      const double x = std::stod(item, &used);
      require_input(used == item.size(), option, "'" + text + "' is not a comma-separated list of numbers");
      v.push_back(static_cast<T>(x));
      require_input(static_cast<double>(v.back()) == x, option, "'" + item + "' is not a whole number");
    } catch (const std::logic_error&) {
      throw InputError(option + ": '" + text + "' is not a comma-separated list of numbers");
    }
  }
  require_input(!v.empty(), option, "needs at least one value");
  return v;
}

std::string table(const std::vector<snn::spinnaker1::SweepPoint>& points, double single_pass) {
  std::ostringstream o;
  o << "SpiNNaker 1 settings map (single-pass accuracy " << std::fixed << std::setprecision(4) << single_pass << ")\n"
    << "  K   tsf  accuracy      sent   dropped  (queue  router)      late  overruns  samples/s  latency s  clean\n";
  for (const auto& p : points)
    o << std::setw(3) << p.temporal_groups << std::setw(6) << std::setprecision(1) << p.time_scale_factor << std::setw(10)
      << std::setprecision(4) << p.accuracy << std::setw(10) << p.packets_sent << std::setw(10) << p.packets_dropped
      << std::setw(8) << p.packets_dropped_input_queue << std::setw(8) << p.packets_dropped_router << std::setw(10)
      << p.late_spikes << std::setw(10) << p.core_overruns << std::setw(11) << std::setprecision(2)
      << p.hw_throughput_samples_per_second << std::setw(11) << std::setprecision(3) << p.hw_latency_seconds
      << (p.clean ? "  yes" : "  no") << "\n";
  return o.str();
}

}  // namespace

void register_sweep(CLI::App& app) {
  auto opt = std::make_shared<SweepCliOptions>();
  auto* cmd = app.add_subcommand("sweep", "SpiNNaker 1 settings map: accuracy, drops, late spikes per time-scale factor and temporal groups");
  RunOptions& r = opt->run;
  add_common_options(*cmd, r.common);
  cmd->add_option("network", r.network, "Converted network (.snn.h5)")->required();
  cmd->add_option("--engine", r.engine, "spinnaker1")->required()->check(CLI::IsMember({"spinnaker1"}));
  cmd->add_option("--time-scale-factor", opt->factors, "Comma-separated factors to try (default 1,2,4,8,14)");
  cmd->add_option("--temporal-groups", opt->groups, "Comma-separated temporal-group counts to re-group into (default: the network's)");
  cmd->add_option("--plot", opt->plot, "Write the settings map as a PNG");
  cmd->add_option("--dataset", r.dataset, "mnist | fashion-mnist")->check(CLI::IsMember({"mnist", "fashion-mnist"}));
  cmd->add_option("--data-dir", r.data_dir, "Folder holding the dataset's IDX files");
  cmd->add_option("--limit", r.limit, "Use only the first N test samples (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--tiles", r.tiles, "Copies of the network streaming samples")->check(CLI::Range(1, 100000));
  cmd->add_option("--boards", r.boards, "SpiN-5 boards")->check(CLI::Range(1, 1200));
  cmd->add_option("--between-sample-ms", r.between_sample_ms, "Simulated ms between samples on a tile")->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--timestep-ms", r.timestep_ms, "Simulated ms per tick")->check(CLI::Range(0.001, 1000.0));
  cmd->callback([opt] {
    namespace s1 = snn::spinnaker1;
    ThreadLimit threads(opt->run.common.threads);
    const snn::Network network = snn::load_network(opt->run.network);
    const std::string context = opt->run.network.filename().string();
    s1::SweepOptions so;
    so.base = spinnaker1_options(opt->run);
    so.time_scale_factors = parse_list<double>(opt->factors, "--time-scale-factor");
    if (!opt->groups.empty()) so.temporal_groups = parse_list<int>(opt->groups, "--temporal-groups");
    const auto data = load_run_data(opt->run);
    datasets::check_fits(data, network.input_shape, context);
    const double single_pass = snn::SinglePassEngine(network, context).run(data).accuracy;
    const auto points = s1::sweep(network, data, so, context);
    if (opt->plot) s1::write_sweep_plot(*opt->plot, points, single_pass);
    nlohmann::json j;
    j["engine"] = "spinnaker1";
    j["network"] = opt->run.network.string();
    j["samples"] = data.size();
    j["tiles"] = opt->run.tiles;
    j["between_sample_ms"] = opt->run.between_sample_ms;
    j["single_pass_accuracy"] = single_pass;
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& p : points)
      arr.push_back({{"temporal_groups", p.temporal_groups}, {"time_scale_factor", p.time_scale_factor}, {"accuracy", p.accuracy},
                     {"packets_sent", p.packets_sent}, {"packets_dropped", p.packets_dropped},
                     {"packets_dropped_input_queue", p.packets_dropped_input_queue},
                     {"packets_dropped_router", p.packets_dropped_router}, {"late_spikes", p.late_spikes},
                     {"core_overruns", p.core_overruns}, {"worst_tick_cycles", p.worst_tick_cycles}, {"cores", p.cores},
                     {"hw_throughput_samples_per_second", p.hw_throughput_samples_per_second},
                     {"hw_latency_seconds", p.hw_latency_seconds}, {"clean", p.clean}});
    j["points"] = arr;
    emit(opt->run.common, j, table(points, single_pass));
  });
}

}  // namespace grindstone::cli
