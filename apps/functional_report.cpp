#include "apps/functional_report.hpp"

#include <cstdio>

namespace grindstone::cli {
namespace {
std::string format(const char* fmt, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}
}  // namespace

nlohmann::json single_pass_json(const snn::SinglePassRun& run, const std::string& dataset, const std::string& accumulator) {
  return {{"engine", "single-pass"},
          {"dataset", dataset},
          {"samples", run.samples},
          {"accuracy", run.accuracy},
          {"wall_seconds", run.wall_seconds},
          {"samples_per_second", run.samples_per_second},
          {"spikes_per_sample", run.spikes_per_sample()},
          {"synaptic_events_per_sample", run.synaptic_events_per_sample()},
          {"accumulator", accumulator},
          {"exact_rechecks", run.exact_rechecks}};
}

std::string single_pass_human(const snn::SinglePassRun& run, const std::string& dataset) {
  return "single-pass engine on " + dataset + ": " + std::to_string(run.samples) + " samples\n" +
         format("  accuracy            %.4f (%.0f correct)\n", run.accuracy, static_cast<double>(run.correct)) +
         format("  wall time           %.3f s (%.0f samples/s)\n", run.wall_seconds, run.samples_per_second) +
         format("  spikes/sample       %.1f\n", run.spikes_per_sample()) +
         format("  synaptic events/sample %.1f\n", run.synaptic_events_per_sample());
}

nlohmann::json rate_json(const snn::RateRun& run, const std::string& dataset, const std::string& input) {
  return {{"engine", "rate"},
          {"dataset", dataset},
          {"input", input},
          {"samples", run.samples},
          {"timesteps", run.timesteps},
          {"accuracy", run.accuracy},
          {"accuracy_by_timestep", run.accuracy_by_timestep},
          {"wall_seconds", run.wall_seconds},
          {"samples_per_second", run.samples_per_second},
          {"spikes_per_sample", run.spikes_per_sample()},
          {"synaptic_events_per_sample", run.synaptic_events_per_sample()}};
}

std::string rate_human(const snn::RateRun& run, const std::string& dataset) {
  std::string s = "rate engine on " + dataset + ": " + std::to_string(run.samples) + " samples, " +
                  std::to_string(run.timesteps) + " timesteps\n" +
                  format("  accuracy            %.4f\n", run.accuracy) +
                  format("  wall time           %.3f s (%.1f samples/s)\n", run.wall_seconds, run.samples_per_second) +
                  format("  spikes/sample       %.1f\n", run.spikes_per_sample()) +
                  format("  synaptic events/sample %.1f\n", run.synaptic_events_per_sample()) + "  accuracy by timestep:";
  for (int t = 1; t <= run.timesteps; t *= 2)
    s += format(" t=%.0f %.4f", t, run.accuracy_by_timestep[static_cast<std::size_t>(t - 1)]);
  if ((run.timesteps & (run.timesteps - 1)) != 0) s += format(" t=%.0f %.4f", run.timesteps, run.accuracy);
  return s + "\n";
}

}  // namespace grindstone::cli
