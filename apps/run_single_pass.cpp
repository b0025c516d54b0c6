// `grindstone run NET.snn.h5 --engine single-pass`.
#include "apps/functional_report.hpp"
#include "apps/run_command.hpp"
#include "datasets/user_data.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "snn_runtime/network/snn_file.hpp"

namespace grindstone::cli {

RunResult run_single_pass(const RunOptions& options, const datasets::Dataset& data) {
  snn::SinglePassEngine engine(load_run_network(options), options.network.filename().string());
  datasets::check_fits(data, engine.network().input_shape, options.network.filename().string());
  auto run = engine.run(data, /*keep_predictions=*/true, options.keep_outputs);
  RunResult result;
  std::string& human = result.human;
  human = single_pass_human(run, data.name);
  nlohmann::json& report = result.report;
  report = single_pass_json(run, data.name, engine.accumulator());
  report["path"] = engine.path();  // which implementation ran: dense-tiles or event-driven
  if (!human.empty() && human.back() != '\n') human += '\n';
  human += "  path                " + engine.path() + ", " + engine.accumulator() + " accumulators";
  if (options.common.verbose && engine.path() != "dense-tiles")
    human += " (not dense tiles: " + engine.why_not_dense_tiles() + ")";
  result.predictions = std::move(run.predictions);
  result.outputs = std::move(run.scores);
  result.output_width = run.classes;
  return result;
}

}  // namespace grindstone::cli
