// `grindstone inspect`: what a Keras model file holds, as imported: format, Keras version,
// layers with output shapes, parameter counts (as Keras counts them) and the layers feeding
// each one (the graph of branching models).
//
// Output shapes are per sample and in Grindstone's channels-last order (H, W, C), whatever the
// model's data_format; fused activations appear as their own "<layer>/activation" rows.
#include <filesystem>
#include <iomanip>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "converter/keras/import.hpp"

namespace grindstone::cli {

namespace {

struct InspectOptions {
  CommonOptions common;
  std::string model;
  std::string architecture;
};

nlohmann::json shape_json(const Shape& shape) { return nlohmann::json(shape.dims); }

}  // namespace

Report inspect_report(const ann::Model& model, const std::string& label) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : model.layers) {
    nlohmann::json inputs = nlohmann::json::array();
    for (int i : layer.inputs) inputs.push_back(model.layers.at(static_cast<std::size_t>(i)).name);
    layers.push_back({{"name", layer.name},
                      {"class", layer.keras_class},
                      {"output_shape", shape_json(layer.output_shape)},
                      {"params", layer.param_count()},
                      {"inputs", inputs}});
  }
  const nlohmann::json report = {{"model", label},
                                 {"name", model.name},
                                 {"format", model.source.format},
                                 {"keras_version", model.source.keras_version},
                                 {"backend", model.source.backend},
                                 {"shape_order", "channels_last"},
                                 {"input_shape", shape_json(model.input_shape())},
                                 {"output_shape", shape_json(model.output_shape())},
                                 {"layers", layers},
                                 {"params_total", model.param_count()}};

  std::ostringstream human;
  human << label << ": " << model.source.format << ", Keras "
        << (model.source.keras_version.empty() ? "unknown" : model.source.keras_version)
        << (model.source.backend.empty() ? "" : " (" + model.source.backend + ")") << ", model '" << model.name
        << "'\n";
  std::size_t name_width = 10, class_width = 10;
  for (const auto& layer : model.layers) {
    name_width = std::max(name_width, layer.name.size());
    class_width = std::max(class_width, layer.keras_class.size());
  }
  human << std::left << std::setw(static_cast<int>(name_width) + 2) << "layer" << std::setw(static_cast<int>(class_width) + 2)
        << "class" << std::setw(18) << "output shape" << std::right << std::setw(12) << "params" << "  inputs\n";
  for (const auto& layer : model.layers) {
    human << std::left << std::setw(static_cast<int>(name_width) + 2) << layer.name
          << std::setw(static_cast<int>(class_width) + 2) << layer.keras_class << std::setw(18)
          << layer.output_shape.to_string() << std::right << std::setw(12) << layer.param_count() << " ";
    // The graph: which layers feed this one (a chain reads the row above; DAGs name several).
    for (std::size_t k = 0; k < layer.inputs.size(); ++k)
      human << (k == 0 ? " " : ", ") << model.layers.at(static_cast<std::size_t>(layer.inputs[k])).name;
    human << '\n';
  }
  human << "total params: " << model.param_count() << " (shapes per sample, channels-last)";
  return {report, human.str()};
}

namespace {

void run_inspect(const InspectOptions& opt) {
  std::optional<std::filesystem::path> architecture;
  if (!opt.architecture.empty()) architecture = opt.architecture;
  const Report r = inspect_report(keras::load_model(opt.model, architecture), opt.model);
  emit(opt.common, r.json, r.human);
}

}  // namespace

void register_inspect(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect", "Show a Keras model's format, layers, shapes and parameter counts");
  add_common_options(*cmd, opt->common);
  cmd->add_option("model", opt->model, "Keras model (.h5/.hdf5/.keras)")->required();
  cmd->add_option("--architecture", opt->architecture, "Architecture JSON (model.to_json()) for a weights-only .h5");
  cmd->callback([opt] { run_inspect(*opt); });
}

}  // namespace grindstone::cli
