// `grindstone run MODEL.h5 --engine spinnaker2 --s2-mode ann`: a Keras model (e.g. LeNet-5) run
// as an int8 ANN on SpiNNaker 2's MAC arrays. CLI glue only: lowering, calibration and
// quantisation are converter/passes/ann_to_mac (it reads the Keras layers, which snn_runtime must
// not), the classifier and report snn_runtime/spinnaker2, the timing the large-CNN mapper that
// `grindstone estimate` uses (same defaults), so both commands give the same figures.
#include <chrono>

#include "apps/run_command.hpp"
#include "common/error.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/ann_to_mac.hpp"
#include "datasets/user_data.hpp"
#include "snn_runtime/spinnaker2/ann_program.hpp"
#include "snn_runtime/spinnaker2/report.hpp"

namespace grindstone::cli {

hw::s2::MachineParams spinnaker2_machine(const RunOptions& options);  // run_spinnaker2.cpp

RunResult run_spinnaker2_ann(const RunOptions& options, const datasets::Dataset& data) {
  const auto start = std::chrono::steady_clock::now();
  const ann::Model model = keras::load_model(options.network);
  datasets::check_fits(data, model.input_shape(), options.network.filename().string());
  const passes::AnnToMacOptions lowering;
  // Users' own inputs: calibrated on their first samples (the only images there are).
  datasets::Dataset calibration;
  if (options.inputs) {
    calibration = data;
    calibration.truncate(lowering.calibration_images);
  } else {
    calibration = datasets::load(options.dataset, datasets::Split::Train, options.data_dir, lowering.calibration_images);
  }
  const snn::s2::AnnProgram program = passes::ann_to_mac(model, calibration);
  const hw::s2::MachineParams machine = spinnaker2_machine(options);
  snn::s2::CnnMappingParams mapping;  // the seed's data reuse on, as `grindstone estimate` defaults
  mapping.chip = machine.chip;
  mapping.chips = machine.chips;
  const snn::s2::AnnRunReport r = snn::s2::run_ann(program, data, mapping);
  const snn::s2::ReportContext context{data.name, options.s2_mode, options.chips, options.clock_mhz,
                                       std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  RunResult result;
  result.human = snn::s2::ann_report_human(r, program, mapping, context);
  result.report = snn::s2::ann_report_json(r, program, mapping, context);
  result.predictions = r.predictions;
  return result;
}

}  // namespace grindstone::cli
