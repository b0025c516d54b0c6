// `grindstone run NET.snn.h5 --engine spinnaker1`: maps the network onto a modelled SpiNNaker 1
// machine and runs the test set through the event-driven executor (snn_runtime/spinnaker1).
#include <sstream>

#include "apps/run_command.hpp"
#include "common/error.hpp"
#include "datasets/user_data.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "snn_runtime/spinnaker1/plots.hpp"
#include "snn_runtime/spinnaker1/report.hpp"
#include "snn_runtime/spinnaker1/simulation.hpp"

namespace grindstone::cli {
namespace {

/// Splits "a,b,c" into integers; InputError naming `option` unless exactly `n` integers.
std::vector<int> parse_ints(const std::string& text, std::size_t n, const std::string& option) {
  std::vector<int> v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      std::size_t used = 0;
      v.push_back(std::stoi(item, &used));
      require_input(used == item.size(), option, "'" + text + "' is not a list of integers");
    } catch (const std::logic_error&) {
      throw InputError(option + ": '" + text + "' is not a list of integers");
    }
  }
  require_input(v.size() == n, option, "'" + text + "' needs " + std::to_string(n) + " comma-separated integers");
  return v;
}

}  // namespace

snn::spinnaker1::SimulationOptions spinnaker1_options(const RunOptions& options) {
  namespace s1 = snn::spinnaker1;
  s1::SimulationOptions so;
  so.mapping.tiles = options.tiles;
  so.mapping.machine = hw::s1::Machine::Params::for_boards(options.boards);
  for (const std::string& d : options.dead_chips) {
    const auto v = parse_ints(d, 2, "--dead-chip");
    so.mapping.machine.dead_chips.push_back({v[0], v[1]});
  }
  for (const std::string& d : options.dead_links) {
    const auto v = parse_ints(d, 3, "--dead-link");
    require_input(v[2] >= 0 && v[2] < 6, "--dead-link", "link '" + d + "' must be 0..5");
    so.mapping.machine.dead_links.push_back({{v[0], v[1]}, hw::s1::link_from_index(v[2])});
  }
  so.executor.timestep_ms = options.timestep_ms;
  so.executor.between_sample_ms = options.between_sample_ms;
  so.executor.drop_probability = options.drop_probability;
  so.executor.router.wait2_cycles = hw::s1::RouterCycles(options.emergency_wait_cycles);
  so.executor.seed = options.seed;
  if (options.time_scale_factor == "auto") {
    so.auto_time_scale = true;
  } else {
    try {
      std::size_t used = 0;
      so.executor.time_scale_factor = std::stod(options.time_scale_factor, &used);
      require_input(used == options.time_scale_factor.size(), "--time-scale-factor", "not a number");
    } catch (const std::logic_error&) {
      throw InputError("--time-scale-factor: '" + options.time_scale_factor + "' is neither a number nor 'auto'");
    }
    require_input(so.executor.time_scale_factor > 0, "--time-scale-factor", "must be positive");
  }
  if (options.plots_dir) so.executor.raster_sample = 0;
  return so;
}

RunResult run_spinnaker1(const RunOptions& options, const datasets::Dataset& data) {
  namespace s1 = snn::spinnaker1;
  const snn::Network network = load_run_network(options);
  const std::string context = options.network.filename().string();
  datasets::check_fits(data, network.input_shape, context);
  const s1::SimulationOptions so = spinnaker1_options(options);

  const s1::Simulation sim = s1::simulate(network, data, so, context);
  if (options.plots_dir) s1::write_plots(*options.plots_dir, network, sim.mapping, sim.result);
  RunResult result;
  result.human = s1::report_human(sim, data.name);
  result.report = s1::report_json(network, sim, data.name);
  result.predictions = sim.result.predictions;
  return result;
}

}  // namespace grindstone::cli
