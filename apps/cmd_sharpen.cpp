// `grindstone sharpen`: trains a binary spiking network the Whetstone way (Spiking_BRelu
// activations sharpened to steps by a schedule, Softmax_Decode output code) from an --arch
// specification or by fine-tuning an imported Keras model, and saves it as a Keras 2 .h5.
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "apps/cli_common.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/sharpen/architecture.hpp"
#include "converter/sharpen/keras_writer.hpp"
#include "converter/sharpen/schedule.hpp"
#include "converter/sharpen/trainer.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"

namespace grindstone::cli {

namespace {

struct SharpenOptions {
  CommonOptions common;
  std::string dataset = "mnist";
  std::string data_dir;
  std::string arch;
  std::string from;
  std::string architecture;  ///< JSON for a weights-only --from model
  std::string out;
  int epochs = 100;
  std::string schedule = "adaptive";
  bool uniform = false;
  int key_width = 100;
  bool disjoint = false;
  std::uint64_t seed = 1;
  std::string input = "real";
  std::string optimizer = "adam";
  double lr = -1.0;
  int batch_size = 128;
  int augment_shift = 0;
  std::int64_t limit = 0;
  std::int64_t test_limit = 0;
  bool keep_batch_norm = false;
  // adaptive
  sharpen::AdaptiveConfig adaptive;
  // simple
  int start_epoch = 5;
  int steps = 5;
  // scheduled
  int start = 5;
  int duration = 4;
  int intermission = 2;
};

std::unique_ptr<sharpen::Sharpener> make_sharpener(const SharpenOptions& opt, int spiking_layers) {
  const bool bottom_up = !opt.uniform;
  if (opt.schedule == "adaptive") return std::make_unique<sharpen::AdaptiveSharpener>(opt.adaptive, bottom_up);
  if (opt.schedule == "simple") return std::make_unique<sharpen::SimpleSharpener>(opt.start_epoch, opt.steps, bottom_up);
  if (opt.schedule == "scheduled")
    return std::make_unique<sharpen::ScheduledSharpener>(
        sharpen::ScheduledSharpener::generate(spiking_layers, opt.start, opt.duration, opt.intermission), bottom_up);
  throw InputError("--schedule: '" + opt.schedule + "' is not one of adaptive, simple, scheduled");
}

sharpen::Batch encode(const datasets::Dataset& data, datasets::InputEncoding encoding, std::vector<int>& labels) {
  labels.assign(data.labels.begin(), data.labels.end());
  return datasets::encode_all(data, encoding);
}

std::string sharpness_string(const std::vector<double>& values) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(3) << "[";
  for (std::size_t i = 0; i < values.size(); ++i) s << (i ? " " : "") << values[i];
  s << "]";
  return s.str();
}

void run_sharpen(const SharpenOptions& opt) {
  require_input(opt.arch.empty() != opt.from.empty(), "grindstone sharpen", "give exactly one of --arch and --from");
  require_input(!opt.out.empty(), "--out", "missing output file");
  require_input(opt.limit >= 0 && opt.test_limit >= 0, "--limit", "must not be negative");
  datasets::check_dataset_name(opt.dataset);
  const auto encoding = datasets::parse_encoding(opt.input);
  ThreadLimit threads(opt.common.threads);

  std::optional<std::filesystem::path> data_dir;
  if (!opt.data_dir.empty()) data_dir = opt.data_dir;
  const auto train_data = datasets::load(opt.dataset, datasets::Split::Train, data_dir, opt.limit);
  const auto test_data = datasets::load(opt.dataset, datasets::Split::Test, data_dir, opt.test_limit);

  sharpen::BuildOptions build;
  build.num_classes = train_data.num_classes;
  build.key_width = opt.key_width;
  build.overlapping_key = !opt.disjoint;
  build.seed = opt.seed;
  build.image_shape = Shape{train_data.rows, train_data.cols, 1};
  std::optional<sharpen::Network> net;
  if (!opt.arch.empty()) {
    net.emplace(sharpen::build_from_spec(opt.arch, build));
  } else {
    std::optional<std::filesystem::path> architecture;
    if (!opt.architecture.empty()) architecture = opt.architecture;
    net.emplace(sharpen::build_from_model(keras::load_model(opt.from, architecture), build));
  }
  require_input(net->input_shape().size() == train_data.pixels_per_image(), opt.from.empty() ? "--arch" : opt.from,
                "the model takes " + std::to_string(net->input_shape().size()) + " inputs but " + opt.dataset +
                    " images have " + std::to_string(train_data.pixels_per_image()) + " pixels");

  std::vector<int> train_y, test_y;
  const sharpen::Batch train_x = encode(train_data, encoding, train_y);
  const sharpen::Batch test_x = encode(test_data, encoding, test_y);

  auto sharpener = make_sharpener(opt, static_cast<int>(net->spiking_layers().size()));
  sharpen::TrainConfig config;
  config.max_epochs = opt.epochs;
  config.batch_size = opt.batch_size;
  config.seed = opt.seed;
  config.optimizer.kind = sharpen::OptimizerConfig::parse_kind(opt.optimizer);
  config.optimizer.learning_rate = opt.lr;
  config.eval_block = net->input_shape().rank() == 3 ? 250 : 1000;
  config.augment_shift = opt.augment_shift;
  config.image_height = static_cast<int>(train_data.rows);
  config.image_width = static_cast<int>(train_data.cols);

  std::cerr << "sharpen: " << (opt.arch.empty() ? "from " + opt.from : "arch " + opt.arch) << ", "
            << net->spiking_layers().size() << " spiking layers, " << sharpener->describe() << ", " << opt.optimizer
            << " lr " << config.optimizer.effective_learning_rate() << ", " << train_x.rows() << " training / "
            << test_x.rows() << " test samples, " << threads.threads() << " threads\n";
  const auto log_epoch = [&](const sharpen::EpochRecord& r) {
    std::cerr << std::fixed << "epoch " << std::setw(3) << r.epoch + 1 << "/" << opt.epochs << "  loss "
              << std::setprecision(4) << r.loss << "  acc " << r.train_accuracy << "  sharpness "
              << sharpness_string(r.sharpness) << "  test " << r.test_accuracy << "  binary " << r.test_accuracy_binary
              << "  " << std::setprecision(1) << r.seconds << " s" << std::endl;
  };
  const auto result = sharpen::train(*net, *sharpener, train_x, train_y, test_x, test_y, config, log_epoch);
  if (!result.fully_sharpened)
    std::cerr << "sharpen: WARNING: not every layer reached sharpness 1 within " << opt.epochs
              << " epochs; the saved model is forced to sharpness 1 (accuracy_binary measures that)\n";

  const ann::Model model = net->to_ann_model("sequential", !opt.keep_batch_norm);
  model.validate();
  sharpen::save_keras_h5(model, opt.out);
  // Check what was written: the saved (BN-folded) model's own accuracy with the float reference.
  const auto saved = ann::evaluate(model, test_data, encoding, opt.common.threads);

  nlohmann::json history = nlohmann::json::array();
  for (const auto& r : result.history)
    history.push_back({{"epoch", r.epoch + 1},
                       {"loss", r.loss},
                       {"train_accuracy", r.train_accuracy},
                       {"sharpness", r.sharpness},
                       {"test_accuracy", r.test_accuracy},
                       {"test_accuracy_binary", r.test_accuracy_binary},
                       {"seconds", r.seconds}});
  nlohmann::json report = {{"dataset", opt.dataset},
                           {"input", datasets::to_string(encoding)},
                           {"source", opt.arch.empty() ? opt.from : opt.arch},
                           {"schedule", sharpener->describe()},
                           {"optimizer", opt.optimizer},
                           {"learning_rate", config.optimizer.effective_learning_rate()},
                           {"key_width", opt.key_width},
                           {"augment_shift", opt.augment_shift},
                           {"train_samples", train_x.rows()},
                           {"test_samples", test_x.rows()},
                           {"threads", threads.threads()},
                           {"fully_sharpened", result.fully_sharpened},
                           {"accuracy_float", result.accuracy_float},
                           {"accuracy_binary", result.accuracy_binary},
                           {"accuracy_saved_model", saved.accuracy},
                           {"epochs", result.epochs},
                           {"seconds", result.seconds},
                           {"out", opt.out},
                           {"history", history}};
  std::ostringstream human;
  human << std::fixed << std::setprecision(4) << "sharpened " << (result.fully_sharpened ? "fully" : "NOT fully")
        << " in " << result.epochs << " epochs (" << std::setprecision(1) << result.seconds << " s): test accuracy "
        << std::setprecision(4) << result.accuracy_float << " before sharpening, " << result.accuracy_binary
        << " binary; saved model " << saved.accuracy << " -> " << opt.out;
  emit(opt.common, report, human.str());
}

}  // namespace

void register_sharpen(CLI::App& app) {
  auto opt = std::make_shared<SharpenOptions>();
  auto* cmd = app.add_subcommand("sharpen", "Train a binary spiking network with Whetstone-style sharpening");
  cmd->footer(sharpen::architecture_grammar());
  add_common_options(*cmd, opt->common);
  cmd->add_option("--dataset", opt->dataset, "mnist | fashion-mnist (default mnist)");
  cmd->add_option("--data-dir", opt->data_dir, "Folder holding the dataset's IDX files");
  cmd->add_option("--arch", opt->arch, "Network specification (grammar below)");
  cmd->add_option("--from", opt->from, "Fine-tune this Keras model (ReLU → Spiking_BRelu, new Softmax_Decode head)");
  cmd->add_option("--architecture", opt->architecture, "Architecture JSON for a weights-only --from model");
  cmd->add_option("--out,-o", opt->out, "Output Keras 2 .h5 file")->required();
  cmd->add_option("--epochs", opt->epochs, "Maximum epochs (guard; training ends when fully sharpened)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--schedule", opt->schedule, "adaptive (default) | simple | scheduled")
      ->check(CLI::IsMember({"adaptive", "simple", "scheduled"}));
  cmd->add_flag("--uniform", opt->uniform, "Sharpen all layers together instead of bottom-up");
  cmd->add_option("--key-width", opt->key_width, "Output code width (neurons of the last spiking layer)")
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--disjoint,!--overlapping", opt->disjoint,
                "Disjoint class codes (key_generator overlapping=False); default overlapping");
  cmd->add_option("--seed", opt->seed, "Seed for initialisation, key, shuffling and dropout");
  cmd->add_option("--input", opt->input, "real (pixel/255, default) | binary (pixel/255 >= 0.5)");
  cmd->add_option("--optimizer", opt->optimizer, "adam (default) | adadelta | sgd")
      ->check(CLI::IsMember({"adam", "adadelta", "sgd"}));
  cmd->add_option("--lr", opt->lr, "Learning rate (default: Keras's, adam 0.001, adadelta 1.0, sgd 0.01)");
  cmd->add_option("--batch-size", opt->batch_size, "Mini-batch size")->check(CLI::Range(1, 100000));
  cmd->add_option("--augment-shift", opt->augment_shift,
                  "Shift each training image by up to N pixels per axis, anew every epoch (0 = off)")
      ->check(CLI::Range(0, 8));
  cmd->add_option("--limit", opt->limit, "Use only the first N training samples (0 = all)");
  cmd->add_option("--test-limit", opt->test_limit, "Use only the first N test samples (0 = all)");
  cmd->add_flag("--keep-batch-norm", opt->keep_batch_norm, "Save BatchNormalization layers instead of folding them");
  const auto* adaptive = "Adaptive schedule";
  cmd->add_option("--min-init-epochs", opt->adaptive.min_init_epochs, "Epochs before sharpening may start (10)")->group(adaptive);
  cmd->add_option("--rate", opt->adaptive.rate, "Sharpness per epoch (0.25)")->group(adaptive);
  cmd->add_option("--cz-rate", opt->adaptive.cz_rate, "Sharpness per epoch in the critical zone (0.126)")->group(adaptive);
  cmd->add_option("--critical", opt->adaptive.critical, "Start of the critical zone (0.75)")->group(adaptive);
  cmd->add_option("--first-layer-rate", opt->adaptive.first_layer_relative_rate, "Relative rate of layer 1 (1.0)")->group(adaptive);
  cmd->add_option("--patience", opt->adaptive.patience, "Epochs without improvement before sharpening (1)")->group(adaptive);
  cmd->add_option("--sig-increase", opt->adaptive.sig_increase, "Relative loss increase that pauses (0.15)")->group(adaptive);
  cmd->add_option("--sig-decrease", opt->adaptive.sig_decrease, "Relative loss decrease that counts (0.15)")->group(adaptive);
  const auto* simple = "Simple schedule";
  cmd->add_option("--start-epoch", opt->start_epoch, "First epoch that sharpens (5)")->group(simple);
  cmd->add_option("--steps", opt->steps, "Steps per layer (5)")->group(simple);
  const auto* scheduled = "Scheduled schedule";
  cmd->add_option("--start", opt->start, "Epoch the first layer starts (5)")->group(scheduled);
  cmd->add_option("--duration", opt->duration, "Epochs per layer (4)")->group(scheduled);
  cmd->add_option("--intermission", opt->intermission, "Epochs between layers (2)")->group(scheduled);
  cmd->callback([opt] { run_sharpen(*opt); });
}

}  // namespace grindstone::cli
