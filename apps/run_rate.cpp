// `grindstone run NET.snn.h5 --engine rate` (an integrate-and-fire network from the rate conversion).
#include "apps/functional_report.hpp"
#include "apps/run_command.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/rate.hpp"
#include "snn_runtime/network/snn_file.hpp"

namespace grindstone::cli {

nlohmann::json run_rate(const RunOptions& options, std::string& human) {
  snn::RateEngine engine(snn::load_network(options.network), options.network.filename().string());
  const auto data = datasets::load(options.dataset, datasets::Split::Test, options.data_dir, options.limit);
  snn::RateOptions rate;
  rate.timesteps = options.timesteps;
  rate.poisson = options.rate_input == "poisson";
  rate.readout = options.rate_readout == "accumulated-input" ? snn::RateReadout::AccumulatedInput
                                                             : snn::RateReadout::SpikeCount;
  rate.input_rate_hz = options.input_rate_hz;
  rate.timestep_ms = options.timestep_ms;
  rate.seed = options.seed;
  const auto run = engine.run(data, rate);
  human = rate_human(run, options.dataset);
  auto report = rate_json(run, options.dataset, options.rate_input);
  if (rate.poisson) {
    report["input_rate_hz"] = rate.input_rate_hz;
    report["seed"] = rate.seed;
  }
  report["readout"] = options.rate_readout;
  report["accuracy_spike_count"] = run.spike_count_accuracy_by_timestep.back();
  report["accuracy_accumulated_input"] = run.accumulated_input_accuracy_by_timestep.back();
  return report;
}

}  // namespace grindstone::cli
