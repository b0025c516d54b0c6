// `grindstone eval`: float reference accuracy of a Keras model on a dataset's test split.
#include <filesystem>
#include <iomanip>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "common/error.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"
#include "datasets/user_data.hpp"

namespace grindstone::cli {

namespace {

void run_eval(const EvalOptions& opt) {
  require_input(opt.limit >= 0, "--limit", std::to_string(opt.limit) + " must not be negative");
  const datasets::DataSource source = data_source(opt.dataset, opt.data_dir, opt.limit, opt.user);
  if (!source.user()) datasets::check_dataset_name(opt.dataset);
  (void)datasets::parse_encoding(opt.input);  // refuse a bad --input before loading anything
  std::optional<std::filesystem::path> architecture;
  if (!opt.architecture.empty()) architecture = opt.architecture;
  const ann::Model model = keras::load_model(opt.model, architecture);
  const auto data = datasets::load_source(source, datasets::Split::Test, /*require_labels=*/true);
  Report r = eval_report(opt, model, data);
  if (source.user()) r.json["inputs"] = source.inputs->string();
  emit(opt.common, r.json, r.human);
}

}  // namespace

Report eval_report(const EvalOptions& opt, const ann::Model& model, const datasets::Dataset& data) {
  const auto encoding = datasets::parse_encoding(opt.input);
  require_input(data.labelled, "eval", "the samples have no labels (give --labels / y)");
  datasets::check_fits(data, model.input_shape(), opt.model);
  const ann::ReferenceInference inference(model);
  const auto ev = ann::evaluate(inference, data, encoding, opt.common.threads);

  nlohmann::json report = {{"model", opt.model},
                           {"dataset", data.name},
                           {"input", datasets::to_string(encoding)},
                           {"samples", ev.samples},
                           {"correct", ev.correct},
                           {"accuracy", ev.accuracy},
                           {"seconds", ev.seconds},
                           {"samples_per_second", ev.samples_per_second}};
  std::ostringstream human;
  human << opt.model << " on " << data.name << " test (" << ev.samples << " samples, inputs "
        << datasets::to_string(encoding) << "): accuracy " << std::fixed << std::setprecision(4) << ev.accuracy << " ("
        << ev.correct << " correct), " << std::setprecision(3) << ev.seconds << " s, " << std::setprecision(0)
        << ev.samples_per_second << " samples/s";
  return {report, human.str()};
}

void register_eval(CLI::App& app) {
  auto opt = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "Float reference accuracy of a Keras model on a test set");
  add_common_options(*cmd, opt->common);
  cmd->add_option("model", opt->model, "Keras model (.h5/.hdf5/.keras)")->required();
  cmd->add_option("--architecture", opt->architecture, "Architecture JSON for a weights-only .h5");
  cmd->add_option("--dataset", opt->dataset, "mnist | fashion-mnist (default mnist)");
  cmd->add_option("--data-dir", opt->data_dir, "Folder holding the dataset's IDX files");
  cmd->add_option("--limit", opt->limit, "Use only the first N test samples (0 = all)");
  cmd->add_option("--input", opt->input, "real (pixel/255, default) | binary (pixel/255 >= 0.5)");
  add_user_data_options(*cmd, opt->user, "the test samples");
  cmd->callback([opt] { run_eval(*opt); });
}

}  // namespace grindstone::cli
