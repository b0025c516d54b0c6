// `grindstone sharpen`: trains a binary spiking network the Whetstone way (Spiking_BRelu
// activations sharpened to steps by a schedule, Softmax_Decode output code) from an --arch
// specification or by fine-tuning an imported Keras model, and saves it as a Keras 2 .h5.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/sharpen_command.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/sharpen/architecture.hpp"
#include "converter/sharpen/keras_writer.hpp"
#include "converter/sharpen/recipe.hpp"
#include "converter/sharpen/schedule.hpp"
#include "converter/sharpen/trainer.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"

namespace grindstone::cli {

namespace {

/// The recipe's values for every training flag the user did not give.
struct Resolved {
  sharpen::Recipe recipe;
  std::string arch;  ///< --arch with the recipe's dropout/bn inserted
  int epochs = 0, batch_size = 0, augment_shift = 0, start_epoch = 0, steps = 0;
  std::string schedule, optimizer;
  double lr = 0.0;
};

Resolved resolve(const SharpenOptions& opt, const sharpen::RecipeContext& context) {
  Resolved r;
  r.recipe = sharpen::choose_recipe(opt.recipe, context);
  r.arch = opt.arch.empty() ? std::string{} : sharpen::regularize_spec(opt.arch, r.recipe);
  r.epochs = opt.epochs.value_or(r.recipe.max_epochs);
  r.batch_size = opt.batch_size.value_or(r.recipe.batch_size);
  r.augment_shift = opt.augment_shift.value_or(r.recipe.augment_shift);
  r.start_epoch = opt.start_epoch.value_or(r.recipe.start_epoch);
  r.steps = opt.steps.value_or(r.recipe.steps);
  r.schedule = opt.schedule.value_or(r.recipe.schedule);
  r.optimizer = opt.optimizer.value_or(r.recipe.optimizer);
  // An explicit optimizer without --lr gets Keras's default rate for it, not the recipe's.
  r.lr = opt.lr.value_or(opt.optimizer && *opt.optimizer != r.recipe.optimizer ? -1.0 : r.recipe.learning_rate);
  return r;
}

std::unique_ptr<sharpen::Sharpener> make_sharpener(const SharpenOptions& opt, const Resolved& r, int spiking_layers) {
  const bool bottom_up = !opt.uniform;
  if (r.schedule == "adaptive") {
    sharpen::AdaptiveConfig adaptive = opt.adaptive;
    adaptive.min_init_epochs = opt.min_init_epochs.value_or(r.recipe.min_init_epochs);
    return std::make_unique<sharpen::AdaptiveSharpener>(adaptive, bottom_up);
  }
  if (r.schedule == "simple") return std::make_unique<sharpen::SimpleSharpener>(r.start_epoch, r.steps, bottom_up);
  if (r.schedule == "scheduled")
    return std::make_unique<sharpen::ScheduledSharpener>(
        sharpen::ScheduledSharpener::generate(spiking_layers, opt.start, opt.duration, opt.intermission), bottom_up);
  throw InputError("--schedule: '" + r.schedule + "' is not one of adaptive, simple, scheduled");
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

std::string eta_string(double seconds) {
  const auto total = static_cast<long long>(seconds + 0.5);
  std::ostringstream s;
  if (total >= 3600) s << total / 3600 << "h" << std::setw(2) << std::setfill('0') << (total % 3600) / 60 << "m";
  else if (total >= 60) s << total / 60 << "m" << std::setw(2) << std::setfill('0') << total % 60 << "s";
  else s << total << "s";
  return s.str();
}

/// Training, validation (the last validation_split of the training images) and test samples.
struct Samples {
  datasets::Dataset train_data, test_data;
  sharpen::Batch train_x, validation_x, test_x;
  std::vector<int> train_y, validation_y, test_y;
};

Samples load_samples(const SharpenOptions& opt, datasets::InputEncoding encoding, const datasets::Dataset* train_given,
                     const datasets::Dataset* test_given) {
  require_input((train_given == nullptr) == (test_given == nullptr), "sharpen",
                "give both the training and the test samples, or neither");
  Samples s;
  if (train_given) {
    require_input(train_given->labelled && test_given->labelled, "sharpen", "the samples need labels (y)");
    s.train_data = *train_given;
    s.test_data = *test_given;
    if (opt.limit > 0) s.train_data.truncate(opt.limit);
    if (opt.test_limit > 0) s.test_data.truncate(opt.test_limit);
  } else {
    const datasets::DataSource train = data_source(opt.dataset, opt.data_dir, opt.limit, opt.user);
    const datasets::DataSource test = data_source(opt.dataset, opt.data_dir, opt.test_limit, opt.test);
    require_input(train.user() == test.user(), train.user() ? "--inputs" : "--test-inputs",
                  "give both --inputs (training) and --test-inputs (the samples the accuracies are measured on), or neither");
    s.train_data = datasets::load_source(train, datasets::Split::Train, /*require_labels=*/true);
    s.test_data = datasets::load_source(test, datasets::Split::Test, /*require_labels=*/true);
  }
  require_input(s.test_data.sample_shape() == s.train_data.sample_shape(), "--test-inputs",
                "samples of shape " + s.test_data.sample_shape().to_string() + " but the training samples are " +
                    s.train_data.sample_shape().to_string());
  std::vector<int> all_y;
  const sharpen::Batch all_x = encode(s.train_data, encoding, all_y);
  s.test_x = encode(s.test_data, encoding, s.test_y);
  const auto n = all_x.rows();
  const auto held = static_cast<Eigen::Index>(std::llround(opt.validation_split * static_cast<double>(n)));
  require_input(n - held >= 1, "--validation-split", "leaves no training samples");
  s.train_x = all_x.topRows(n - held);
  s.validation_x = all_x.bottomRows(held);
  s.train_y.assign(all_y.begin(), all_y.begin() + (n - held));
  s.validation_y.assign(all_y.begin() + (n - held), all_y.end());
  return s;
}

nlohmann::json history_json(const sharpen::TrainResult& result) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& r : result.history)
    history.push_back({{"epoch", r.epoch + 1},
                       {"loss", r.loss},
                       {"train_accuracy", r.train_accuracy},
                       {"sharpness", r.sharpness},
                       {"fully_sharpened", r.fully_sharpened},
                       {"validation_accuracy", r.validation_accuracy},
                       {"validation_accuracy_binary", r.validation_accuracy_binary},
                       {"test_accuracy", r.test_accuracy},
                       {"test_accuracy_binary", r.test_accuracy_binary},
                       {"seconds", r.seconds}});
  return history;
}

}  // namespace

Report sharpen_report(const SharpenOptions& opt, const datasets::Dataset* train_given,
                      const datasets::Dataset* test_given) {
  require_input(opt.arch.empty() != opt.from.empty(), "grindstone sharpen", "give exactly one of --arch and --from");
  require_input(!opt.out.empty(), "--out", "missing output file");
  require_input(opt.limit >= 0 && opt.test_limit >= 0, "--limit", "must not be negative");
  require_input(opt.validation_split >= 0.0 && opt.validation_split < 1.0, "--validation-split", "must be in [0, 1)");
  if (!opt.user.inputs && !train_given) datasets::check_dataset_name(opt.dataset);
  const auto encoding = datasets::parse_encoding(opt.input);
  ThreadLimit threads(opt.common.threads);
  const Samples data = load_samples(opt, encoding, train_given, test_given);

  sharpen::BuildOptions build;
  build.num_classes = data.train_data.num_classes;
  build.key_width = opt.key_width;
  build.overlapping_key = !opt.disjoint;
  build.seed = opt.seed;
  build.image_shape = Shape{data.train_data.rows, data.train_data.cols, data.train_data.channels};
  std::optional<ann::Model> source;
  std::optional<sharpen::Network> net;
  if (!opt.arch.empty()) {
    net.emplace(sharpen::build_from_spec(opt.arch, build));
  } else {
    std::optional<std::filesystem::path> architecture;
    if (!opt.architecture.empty()) architecture = opt.architecture;
    source.emplace(keras::load_model(opt.from, architecture));
    net.emplace(sharpen::build_from_model(*source, build));
  }
  sharpen::RecipeContext context;
  context.pretrained = !opt.from.empty();
  context.convolutional = net->input_shape().rank() == 3 && !opt.arch.empty() && sharpen::spec_is_convolutional(opt.arch);
  context.binary_input = encoding == datasets::InputEncoding::Binary;
  context.spiking_layers = static_cast<int>(net->spiking_layers().size());
  const Resolved r = resolve(opt, context);
  if (!opt.arch.empty() && r.arch != opt.arch) net.emplace(sharpen::build_from_spec(r.arch, build));
  datasets::check_fits(data.train_data, net->input_shape(), opt.from.empty() ? "--arch" : opt.from);
  // The pretrained model's own test accuracy: what fine-tuning is measured against.
  const double source_accuracy =
      source ? ann::evaluate(*source, data.test_data, encoding, opt.common.threads).accuracy : -1.0;

  auto sharpener = make_sharpener(opt, r, static_cast<int>(net->spiking_layers().size()));
  sharpen::TrainConfig config;
  config.max_epochs = r.epochs;
  config.batch_size = r.batch_size;
  config.seed = opt.seed;
  config.optimizer.kind = sharpen::OptimizerConfig::parse_kind(r.optimizer);
  config.optimizer.learning_rate = r.lr;
  config.optimizer.epsilon = r.recipe.epsilon;
  config.eval_block = net->input_shape().rank() == 3 ? 250 : 1000;
  config.augment_shift = r.augment_shift;
  config.image_height = static_cast<int>(data.train_data.rows);
  config.image_width = static_cast<int>(data.train_data.cols);

  std::cerr << "sharpen: recipe " << r.recipe.name << ", " << (opt.arch.empty() ? "from " + opt.from : "arch " + r.arch)
            << ", " << net->spiking_layers().size() << " spiking layers, " << sharpener->describe() << ", "
            << r.optimizer << " lr " << config.optimizer.effective_learning_rate() << ", batch " << r.batch_size
            << ", shift " << r.augment_shift << ", " << data.train_x.rows() << " training / "
            << data.validation_x.rows() << " validation / " << data.test_x.rows() << " test samples, "
            << threads.threads() << " threads\n";
  double elapsed = 0.0;
  const auto log_epoch = [&](const sharpen::EpochRecord& e) {
    elapsed += e.seconds;
    const int done = e.epoch + 1;
    const int planned = sharpener->planned_epochs();
    // Adaptive schedules end when the loss lets them: then the guard bounds the estimate.
    const int expected = std::min(r.epochs, planned > 0 ? planned : r.epochs);
    const double eta = elapsed / done * std::max(0, expected - done);
    const bool validate = e.validation_accuracy >= 0.0;
    std::cerr << std::fixed << "epoch " << std::setw(3) << done << "/" << expected << "  loss " << std::setprecision(4)
              << e.loss << "  acc " << e.train_accuracy << "  sharpness " << sharpness_string(e.sharpness) << "  "
              << (validate ? "val " : "test ") << (validate ? e.validation_accuracy : e.test_accuracy) << "  binary "
              << (validate ? e.validation_accuracy_binary : e.test_accuracy_binary) << "  " << std::setprecision(1)
              << e.seconds << " s  ETA " << (planned > 0 ? "" : "<= ") << eta_string(eta) << std::endl;
  };
  const auto result = sharpen::train(*net, *sharpener, data.train_x, data.train_y, data.validation_x,
                                     data.validation_y, data.test_x, data.test_y, config, log_epoch);
  if (!result.fully_sharpened)
    std::cerr << "sharpen: WARNING: not every layer reached sharpness 1 within " << r.epochs
              << " epochs; the saved model is forced to sharpness 1 (accuracy_binary measures that)\n";

  const ann::Model model = net->to_ann_model("sequential", !opt.keep_batch_norm);
  model.validate();
  sharpen::save_keras_h5(model, opt.out);
  // Check what was written: the saved (BN-folded) model's own accuracy with the float reference.
  const auto saved = ann::evaluate(model, data.test_data, encoding, opt.common.threads);

  nlohmann::json report = {{"dataset", data.train_data.name},
                           {"input", datasets::to_string(encoding)},
                           {"source", opt.arch.empty() ? opt.from : opt.arch},
                           {"recipe", r.recipe.name},
                           {"architecture", opt.arch.empty() ? opt.from : r.arch},
                           {"schedule", sharpener->describe()},
                           {"optimizer", r.optimizer},
                           {"learning_rate", config.optimizer.effective_learning_rate()},
                           {"batch_size", r.batch_size},
                           {"key_width", opt.key_width},
                           {"augment_shift", r.augment_shift},
                           {"train_samples", data.train_x.rows()},
                           {"validation_samples", data.validation_x.rows()},
                           {"test_samples", data.test_x.rows()},
                           {"threads", threads.threads()},
                           {"fully_sharpened", result.fully_sharpened},
                           {"selected_epoch", result.selected_epoch + 1},
                           {"validation_accuracy_float", result.validation_accuracy_float},
                           {"validation_accuracy", result.validation_accuracy},
                           {"accuracy_source_model", source_accuracy},
                           {"accuracy_float", result.accuracy_float},
                           {"accuracy_binary", result.accuracy_binary},
                           {"accuracy_saved_model", saved.accuracy},
                           {"epochs", result.epochs},
                           {"seconds", result.seconds},
                           {"out", opt.out},
                           {"history", history_json(result)}};
  if (opt.user.inputs) {
    report["inputs"] = opt.user.inputs->string();
    report["test_inputs"] = opt.test.inputs->string();
  }
  std::ostringstream human;
  human << std::fixed << std::setprecision(4) << "sharpened " << (result.fully_sharpened ? "fully" : "NOT fully")
        << " in " << result.epochs << " epochs (" << std::setprecision(1) << result.seconds << " s), kept epoch "
        << result.selected_epoch + 1 << std::setprecision(4);
  if (result.validation_accuracy >= 0.0) human << " (validation " << result.validation_accuracy << ")";
  human << ": test accuracy ";
  if (source) human << source_accuracy << " of the source model, ";
  human << result.accuracy_float << " before sharpening, " << result.accuracy_binary << " binary; saved model "
        << saved.accuracy << " -> " << opt.out;
  return {report, human.str()};
}

void add_sharpen_options(CLI::App& app, SharpenOptions& options) {
  CLI::App* cmd = &app;
  SharpenOptions* opt = &options;
  add_common_options(*cmd, opt->common);
  cmd->add_option("--dataset", opt->dataset, "mnist | fashion-mnist (default mnist)");
  cmd->add_option("--data-dir", opt->data_dir, "Folder holding the dataset's IDX files");
  cmd->add_option("--arch", opt->arch, "Network specification (grammar below)");
  cmd->add_option("--from", opt->from, "Fine-tune this Keras model (ReLU → Spiking_BRelu, new Softmax_Decode head)");
  cmd->add_option("--architecture", opt->architecture, "Architecture JSON for a weights-only --from model");
  cmd->add_option("--out,-o", opt->out, "Output Keras 2 .h5 file")->required();
  cmd->add_option("--recipe", opt->recipe, "Training recipe: auto (default) | dense-binary | dense-real | conv | "
                                          "finetune | whetstone | adaptive (see below); explicit flags override it")
      ->check(CLI::IsMember(sharpen::recipe_names(), CLI::ignore_case));
  cmd->add_option("--validation-split", opt->validation_split,
                  "Fraction of the training images (the last ones) held out to choose the saved epoch (0.1)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--epochs", opt->epochs, "Maximum epochs (guard; training ends when fully sharpened; recipe's)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--schedule", opt->schedule, "simple | scheduled | adaptive (recipe's)")
      ->check(CLI::IsMember({"adaptive", "simple", "scheduled"}));
  cmd->add_flag("--uniform", opt->uniform, "Sharpen all layers together instead of bottom-up");
  cmd->add_option("--key-width", opt->key_width, "Output code width (neurons of the last spiking layer)")
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--disjoint,!--overlapping", opt->disjoint,
                "Disjoint class codes (key_generator overlapping=False); default overlapping");
  cmd->add_option("--seed", opt->seed, "Seed for initialisation, key, shuffling and dropout");
  cmd->add_option("--input", opt->input, "real (pixel/255, default) | binary (pixel/255 >= 0.5)");
  cmd->add_option("--optimizer", opt->optimizer, "adam | adadelta | sgd (recipe's)")
      ->check(CLI::IsMember({"adam", "adadelta", "sgd"}));
  cmd->add_option("--lr", opt->lr, "Learning rate (the recipe's; with another --optimizer, Keras's default for it)");
  cmd->add_option("--batch-size", opt->batch_size, "Mini-batch size (recipe's)")->check(CLI::Range(1, 100000));
  cmd->add_option("--augment-shift", opt->augment_shift,
                  "Shift each training image by up to N pixels per axis, anew every epoch (0 = off; recipe's)")
      ->check(CLI::Range(0, 8));
  cmd->add_option("--limit", opt->limit, "Use only the first N training samples (0 = all)");
  cmd->add_option("--test-limit", opt->test_limit, "Use only the first N test samples (0 = all)");
  cmd->add_flag("--keep-batch-norm", opt->keep_batch_norm, "Save BatchNormalization layers instead of folding them");
  const auto* adaptive = "Adaptive schedule";
  cmd->add_option("--min-init-epochs", opt->min_init_epochs, "Epochs before sharpening may start (recipe's; 10)")->group(adaptive);
  cmd->add_option("--rate", opt->adaptive.rate, "Sharpness per epoch (0.25)")->group(adaptive);
  cmd->add_option("--cz-rate", opt->adaptive.cz_rate, "Sharpness per epoch in the critical zone (0.126)")->group(adaptive);
  cmd->add_option("--critical", opt->adaptive.critical, "Start of the critical zone (0.75)")->group(adaptive);
  cmd->add_option("--first-layer-rate", opt->adaptive.first_layer_relative_rate, "Relative rate of layer 1 (1.0)")->group(adaptive);
  cmd->add_option("--patience", opt->adaptive.patience, "Epochs without improvement before sharpening (1)")->group(adaptive);
  cmd->add_option("--sig-increase", opt->adaptive.sig_increase, "Relative loss increase that pauses (0.15)")->group(adaptive);
  cmd->add_option("--sig-decrease", opt->adaptive.sig_decrease, "Relative loss decrease that counts (0.15)")->group(adaptive);
  const auto* simple = "Simple schedule";
  cmd->add_option("--start-epoch", opt->start_epoch, "First epoch whose end sharpens (recipe's)")->group(simple);
  cmd->add_option("--steps", opt->steps, "Steps per layer (recipe's)")->group(simple);
  const auto* scheduled = "Scheduled schedule";
  cmd->add_option("--start", opt->start, "Epoch the first layer starts (5)")->group(scheduled);
  cmd->add_option("--duration", opt->duration, "Epochs per layer (4)")->group(scheduled);
  cmd->add_option("--intermission", opt->intermission, "Epochs between layers (2)")->group(scheduled);
  add_user_data_options(*cmd, opt->user, "the training samples");
  cmd->add_option("--test-inputs", opt->test.inputs, "Your own test samples (with --inputs): .npy, .npz or IDX")
      ->check(CLI::ExistingFile);
  cmd->add_option("--test-labels", opt->test.labels, "Labels of --test-inputs")->check(CLI::ExistingFile);
}

void register_sharpen(CLI::App& app) {
  auto opt = std::make_shared<SharpenOptions>();
  auto* cmd = app.add_subcommand("sharpen", "Train a binary spiking network with Whetstone-style sharpening");
  cmd->footer(sharpen::architecture_grammar() + "\n\n" + sharpen::recipe_help());
  add_sharpen_options(*cmd, *opt);
  cmd->callback([opt] {
    const Report r = sharpen_report(*opt, nullptr, nullptr);
    emit(opt->common, r.json, r.human);
  });
}

}  // namespace grindstone::cli
