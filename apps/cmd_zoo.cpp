// `grindstone zoo NAME`: a standard architecture (vgg16, resnet50, mobilenet) as
// keras.applications builds it — layers, parameter counts (as Keras counts them) and
// multiply-accumulates — and, with -o, a Keras 2 full-model HDF5 with seeded He-normal weights
// that every other command reads.
#include <memory>
#include <sstream>
#include <string>

#include "apps/cli_common.hpp"
#include "common/error.hpp"
#include "converter/zoo/zoo.hpp"

namespace grindstone::cli {

namespace {

struct ZooCommandOptions {
  CommonOptions common;
  std::string name;
  std::string out;
  std::uint64_t seed = 1;
  std::string input_shape;  ///< "H,W,C"; empty: the architecture's default
  std::int64_t classes = 0;  ///< 0: the architecture's default
};

Shape parse_shape(const std::string& text) {
  Shape s;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    require_input(used == part.size() && !part.empty() && v > 0 && v <= (1 << 16), "--input-shape",
                  "expected H,W,C with positive integers, got '" + text + "'");
    s.dims.push_back(v);
  }
  require_input(s.rank() == 3, "--input-shape", "expected H,W,C, got '" + text + "'");
  return s;
}

void run_zoo(const ZooCommandOptions& opt) {
  zoo::ZooOptions options;
  if (!opt.input_shape.empty()) options.input_shape = parse_shape(opt.input_shape);
  require_input(opt.classes >= 0, "--classes", std::to_string(opt.classes) + " must be positive");
  if (opt.classes > 0) options.classes = opt.classes;
  const zoo::Graph graph = zoo::build(opt.name, options);
  if (!opt.out.empty()) graph.save(opt.out, opt.seed);

  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : graph.layers())
    layers.push_back({{"name", l.name},
                      {"class", l.keras_class},
                      {"output_shape", l.output_shape.dims},
                      {"params", l.params()},
                      {"macs", l.macs},
                      {"inputs", l.inbound}});
  const auto& input = graph.layers().front().output_shape;
  nlohmann::json report = {{"zoo", opt.name},
                           {"name", graph.name()},
                           {"input_shape", input.dims},
                           {"output_shape", graph.layers().back().output_shape.dims},
                           {"layers", layers},
                           {"params_total", graph.params()},
                           {"macs_total", graph.macs()},
                           {"out", opt.out.empty() ? nlohmann::json(nullptr) : nlohmann::json(opt.out)},
                           {"seed", opt.seed}};
  std::ostringstream human;
  human << opt.name << " ('" << graph.name() << "', input " << input.to_string() << "): " << graph.layers().size()
        << " layers, " << graph.params() << " params, " << graph.macs() << " MACs per sample";
  if (!opt.out.empty()) human << "; wrote " << opt.out << " (seed " << opt.seed << ")";
  emit(opt.common, report, human.str());
}

}  // namespace

void register_zoo(CLI::App& app) {
  auto opt = std::make_shared<ZooCommandOptions>();
  auto* cmd = app.add_subcommand("zoo", "A standard architecture (vgg16, resnet50, mobilenet) as keras.applications builds it");
  add_common_options(*cmd, opt->common);
  cmd->add_option("name", opt->name, "vgg16 | resnet50 | mobilenet")->required();
  cmd->add_option("-o,--out", opt->out, "Write a Keras 2 full-model .h5 with seeded He-normal weights");
  cmd->add_option("--seed", opt->seed, "Weight seed (default 1)");
  cmd->add_option("--input-shape", opt->input_shape, "H,W,C (default 224,224,3)");
  cmd->add_option("--classes", opt->classes, "Classes of the top layer (default 1000)");
  cmd->callback([opt] { run_zoo(*opt); });
}

}  // namespace grindstone::cli
