// `grindstone run NET.snn.h5 --engine rate` (an integrate-and-fire network from the rate conversion).
#include "apps/functional_report.hpp"
#include "apps/run_command.hpp"
#include "common/error.hpp"
#include "datasets/user_data.hpp"
#include "snn_runtime/functional/rate.hpp"
#include "snn_runtime/network/snn_file.hpp"

namespace grindstone::cli {

RunResult run_rate(const RunOptions& options, const datasets::Dataset& data) {
  snn::RateEngine engine(load_run_network(options), options.network.filename().string());
  const int frames = engine.input_frames(data);
  if (frames == 0) datasets::check_fits(data, engine.network().input_shape, options.network.filename().string());
  require_input(frames == 0 || options.rate_input == "current", "--rate-input",
                "time-major input frames are fed as they are (no Poisson encoding)");
  snn::RateOptions rate;
  rate.timesteps = options.timesteps;
  rate.poisson = options.rate_input == "poisson";
  rate.readout = options.rate_readout == "accumulated-input" ? snn::RateReadout::AccumulatedInput
                                                             : snn::RateReadout::SpikeCount;
  rate.input_rate_hz = options.input_rate_hz;
  rate.timestep_ms = options.timestep_ms;
  rate.seed = options.seed;
  rate.keep_output_counts = options.keep_outputs;
  auto run = engine.run(data, rate);
  RunResult result;
  result.human = rate_human(run, data.name);
  nlohmann::json& report = result.report;
  report = rate_json(run, data.name, options.rate_input);
  if (rate.poisson) {
    report["input_rate_hz"] = rate.input_rate_hz;
    report["seed"] = rate.seed;
  }
  report["readout"] = options.rate_readout;
  report["input_frames"] = frames;
  report["accuracy_spike_count"] = run.spike_count_accuracy_by_timestep.back();
  report["accuracy_accumulated_input"] = run.accumulated_input_accuracy_by_timestep.back();
  result.predictions = std::move(run.predictions);
  result.outputs = std::move(run.output_counts);
  result.output_width = run.output_size;
  return result;
}

}  // namespace grindstone::cli
