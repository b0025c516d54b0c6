// `grindstone run NET.snn.h5 --engine spinnaker2 [--clock-mhz F] [--chips N] [--s2-mode hybrid|ann]`:
// the SpiNNaker 2 model (dense layers on MAC arrays, spiking layers on ARM cores). CLI glue only:
// the executor and its report live in snn_runtime/spinnaker2.
#include <chrono>

#include "apps/run_command.hpp"
#include "datasets/user_data.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "snn_runtime/spinnaker2/executor.hpp"
#include "snn_runtime/spinnaker2/report.hpp"

namespace grindstone::cli {

// apps/run_spinnaker2_ann.cpp: a Keras model as an int8 ANN on the MAC arrays.
RunResult run_spinnaker2_ann(const RunOptions& options, const datasets::Dataset& data);

hw::s2::MachineParams spinnaker2_machine(const RunOptions& options) {
  hw::s2::MachineParams machine;
  machine.chips = options.chips;
  machine.chip.clock.hz = options.clock_mhz * 1e6;
  return machine;
}

RunResult run_spinnaker2(const RunOptions& options, const datasets::Dataset& data) {
  const std::string file = options.network.filename().string();
  const bool snn_file = file.size() >= 7 && file.compare(file.size() - 7, 7, ".snn.h5") == 0;
  if (!snn_file && options.s2_mode == "ann") return run_spinnaker2_ann(options, data);
  const auto start = std::chrono::steady_clock::now();
  const snn::Network network = load_run_network(options);
  datasets::check_fits(data, network.input_shape, file);
  snn::s2::ExecutorOptions exec;
  exec.machine = spinnaker2_machine(options);
  exec.ann_mode = options.s2_mode == "ann";
  const snn::s2::Executor executor(network, exec);
  const snn::s2::RunReport r = executor.run(data);
  const snn::s2::ReportContext context{data.name, options.s2_mode, options.chips, options.clock_mhz,
                                       std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  RunResult result;
  result.human = snn::s2::report_human(r, context);
  result.report = snn::s2::report_json(r, context);
  result.predictions = r.predictions;
  return result;
}

}  // namespace grindstone::cli
