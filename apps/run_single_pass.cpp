// `grindstone run NET.snn.h5 --engine single-pass`.
#include "apps/functional_report.hpp"
#include "apps/run_command.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "snn_runtime/network/snn_file.hpp"

namespace grindstone::cli {

nlohmann::json run_single_pass(const RunOptions& options, std::string& human) {
  snn::SinglePassEngine engine(snn::load_network(options.network), options.network.filename().string());
  const auto data = datasets::load(options.dataset, datasets::Split::Test, options.data_dir, options.limit);
  const auto run = engine.run(data, /*keep_predictions=*/false);
  human = single_pass_human(run, options.dataset);
  nlohmann::json report = single_pass_json(run, options.dataset, engine.accumulator());
  report["path"] = engine.path();  // which implementation ran: dense-tiles or event-driven
  if (!human.empty() && human.back() != '\n') human += '\n';
  human += "  path                " + engine.path() + ", " + engine.accumulator() + " accumulators";
  if (options.common.verbose && engine.path() != "dense-tiles")
    human += " (not dense tiles: " + engine.why_not_dense_tiles() + ")";
  return report;
}

}  // namespace grindstone::cli
