#pragma once
// One SpiNNaker 1 experiment end to end: map, route, execute (optionally searching the smallest
// time-scale factor with no overrun). Used by the CLI, the benchmark and the tests; the report is
// in report.hpp.
#include <optional>
#include <string>

#include "datasets/dataset.hpp"
#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker1/executor.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"
#include "snn_runtime/spinnaker1/routing.hpp"

namespace grindstone::snn::spinnaker1 {

struct SimulationOptions {
  MappingOptions mapping;
  ExecutorOptions executor;
  /// Search the smallest integer time-scale factor whose run has no core overrun and no late
  /// spike (no_overrun); the executor's time_scale_factor is ignored then.
  bool auto_time_scale = false;
  int max_time_scale_factor = 4096;
};

struct Simulation {
  Mapping mapping;
  Routing routing;
  ExecutorResult result;
  double time_scale_factor = 1.0;
  std::vector<std::pair<double, bool>> auto_trials;  ///< (factor, clean) in the order tried
  double mapping_seconds = 0.0;                      ///< host time for mapping + routing
};

/// True when the run had nothing an overrun causes (see SimulationOptions::auto_time_scale).
bool no_overrun(const ExecutorResult& r);

Simulation simulate(const Network& network, const datasets::Dataset& data, const SimulationOptions& options,
                    const std::string& context);

}  // namespace grindstone::snn::spinnaker1
