// `grindstone compare MODEL [--sharpened SHARP.h5]`: rate coding vs single-pass on one dataset.
// MODEL (an ordinary ReLU network) is rate-converted (SNN Toolbox method) and run once on the
// rate engine for the largest --timesteps, recording accuracy, spikes and synaptic events at
// every listed T; SHARP (a Whetstone-sharpened network) is converted with the default passes and
// run on the single-pass engine. Prints one table, optionally writes a PNG plot (gnuplot).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "apps/functional_report.hpp"
#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/pipeline.hpp"
#include "converter/passes/rate.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/rate.hpp"
#include "snn_runtime/functional/single_pass.hpp"

namespace grindstone::cli {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// Runs gnuplot on `script` (which must write to the file named in it); InputError on failure.
void run_gnuplot(const std::string& script, const std::string& what) {
  // gnuplot warnings go to stderr, never to stdout (which carries the --json object).
  FILE* pipe = ::popen("gnuplot 1>&2", "w");
  if (!pipe) throw InputError(what + ": cannot start gnuplot");
  std::fwrite(script.data(), 1, script.size(), pipe);
  const int status = ::pclose(pipe);
  if (status != 0) throw InputError(what + ": gnuplot failed (exit status " + std::to_string(status) + ")");
}

std::string gnuplot_quote(const std::filesystem::path& p) {
  std::string s = p.string();
  require_input(s.find('\'') == std::string::npos, "--plot", "path must not contain a single quote");
  return "'" + s + "'";
}

void write_plot(const std::filesystem::path& path, const nlohmann::json& report) {
  write_file_atomically(path, [&](const std::filesystem::path& tmp) {
    std::ostringstream s;
    s << "set terminal pngcairo size 900,600 enhanced font 'DejaVu Sans,11'\n"
      << "set output " << gnuplot_quote(tmp) << "\n"
      << "set title 'Rate coding vs single-pass (" << report["dataset"].get<std::string>() << ", "
      << report["samples"].get<std::int64_t>() << " test images)'\n"
      << "set xlabel 'timesteps per sample'\nset ylabel 'accuracy (%)'\nset logscale x 2\nset grid\n"
      << "set key bottom right\nset yrange [*:100.5]\n$rate << EOD\n";
    for (const auto& r : report["rate"])
      s << r["timesteps"].get<int>() << ' ' << 100.0 * r["accuracy"].get<double>() << ' '
        << 100.0 * r["accuracy_accumulated_input"].get<double>() << '\n';
    s << "EOD\n";
    std::string plots =
        "plot $rate using 1:2 with linespoints lw 2 pt 7 title 'rate, spike-count read-out (SNN Toolbox conversion)', "
        "$rate using 1:3 with linespoints lw 2 pt 5 title 'rate, accumulated-input read-out'";
    if (report.contains("ann_accuracy"))
      plots += ", " + std::to_string(100.0 * report["ann_accuracy"].get<double>()) + " with lines dt 2 lc 'gray' title 'ANN (float)'";
    if (!report["single_pass"].is_null()) {
      s << "$single << EOD\n"
        << report["single_pass_ticks"].get<int>() << ' ' << 100.0 * report["single_pass"]["accuracy"].get<double>()
        << "\nEOD\n";
      plots += ", $single using 1:2 with points pt 9 ps 2.5 lc 'red' title 'single-pass (sharpened, binary)'";
    }
    s << plots << "\n";
    run_gnuplot(s.str(), path.string());
    require_input(std::filesystem::exists(tmp), path.string(), "gnuplot wrote no image");
  });
}

void run_compare(const CompareOptions& opt) {
  const datasets::DataSource source = data_source(opt.dataset, opt.data_dir, opt.limit, opt.user);
  if (!source.user()) datasets::check_dataset_name(opt.dataset);
  const ann::Model model = keras::load_model(opt.model);
  const auto test = datasets::load_source(source, datasets::Split::Test, /*require_labels=*/true);
  datasets::check_fits(test, model.input_shape(), opt.model);
  // Users' own inputs are also the normalisation data (the only images we have).
  const auto training = source.user() ? test : datasets::load(opt.dataset, datasets::Split::Train, source.data_dir);
  std::optional<ann::Model> sharpened;
  if (!opt.sharpened.empty()) sharpened.emplace(keras::load_model(opt.sharpened));
  Report r = compare_report(opt, model, test, training, sharpened ? &*sharpened : nullptr);
  if (source.user()) r.json["inputs"] = source.inputs->string();
  emit(opt.common, r.json, r.human);
}

}  // namespace

Report compare_report(const CompareOptions& opt, const ann::Model& model, const datasets::Dataset& test,
                      const datasets::Dataset& training, const ann::Model* sharpened_model) {
  ThreadLimit threads(opt.common.threads);
  require_input(test.labelled, "compare", "the samples have no labels (give --labels / y)");
  datasets::check_fits(test, model.input_shape(), opt.model);
  require_input(!opt.timesteps.empty(), "--timesteps", "no values");
  std::vector<int> ts = opt.timesteps;
  for (int t : ts) require_input(t >= 1 && t <= 100000, "--timesteps", std::to_string(t) + " is outside 1..100000");
  std::sort(ts.begin(), ts.end());
  ts.erase(std::unique(ts.begin(), ts.end()), ts.end());

  // Rate side.
  const auto ann_eval = ann::evaluate(model, test, datasets::InputEncoding::Real, opt.common.threads);
  passes::RateConversionOptions rate_conversion;
  rate_conversion.threads = opt.common.threads;
  const auto converted =
      passes::convert_for_rate(model, training, rate_conversion, opt.common.verbose ? &std::cerr : nullptr);
  snn::RateEngine rate_engine(converted.network, opt.model, converted.engine_config());
  snn::RateOptions rate_options;
  rate_options.timesteps = ts.back();
  const auto rate = rate_engine.run(test, rate_options);

  nlohmann::json report;
  report["dataset"] = test.name;
  report["samples"] = test.size();
  report["model"] = opt.model;
  report["ann_accuracy"] = ann_eval.accuracy;
  report["rate_wall_seconds"] = rate.wall_seconds;
  report["rate_notes"] = converted.notes;
  // "accuracy": the SNN Toolbox read-out (output spike counts); "accuracy_accumulated_input":
  // the non-spiking read-out of the last layer's accumulated input (same run).
  report["rate_readouts"] = {"spike_count", "accumulated_input"};
  report["rate"] = nlohmann::json::array();
  for (int t : ts) {
    const auto i = static_cast<std::size_t>(t - 1);
    report["rate"].push_back({{"timesteps", t},
                              {"accuracy", rate.accuracy_by_timestep[i]},
                              {"accuracy_accumulated_input", rate.accumulated_input_accuracy_by_timestep[i]},
                              {"spikes_per_sample", rate.spikes_per_sample_by_timestep[i]},
                              {"synaptic_events_per_sample", rate.synaptic_events_per_sample_by_timestep[i]}});
  }

  // Single-pass side.
  report["single_pass"] = nullptr;
  if (sharpened_model) {
    passes::ConvertOptions convert;
    convert.input = passes::parse_input_encoding(opt.sharpened_input);
    const auto sharp = passes::convert_single_pass(*sharpened_model, convert);
    snn::SinglePassEngine engine(sharp.network, opt.sharpened);
    datasets::check_fits(test, sharp.network.input_shape, opt.sharpened);
    const auto run = engine.run(test, false);
    report["single_pass"] = single_pass_json(run, test.name, engine.accumulator());
    report["single_pass"]["model"] = opt.sharpened;
    report["single_pass"]["input"] = opt.sharpened_input;
    // Ticks one sample occupies: the output layer fires at its last tick.
    report["single_pass_ticks"] =
        sharp.network.populations[static_cast<std::size_t>(sharp.network.output)].last_fire_tick() + 1;
  }

  std::ostringstream human;
  human << "compare on " << test.name << " (" << test.size() << " test images)\n"
        << "  ANN (float) " << opt.model << ": accuracy " << fmt("%.4f", ann_eval.accuracy) << "\n"
 << "  engine        timesteps  accuracy  acc(accum. input)  spikes/sample  synaptic events/sample\n";
  for (const auto& r : report["rate"])
    human << "  rate          " << fmt("%9.0f", r["timesteps"].get<int>()) << "  " << fmt("%8.4f", r["accuracy"].get<double>())
          << "  " << fmt("%17.4f", r["accuracy_accumulated_input"].get<double>()) << "  " << fmt("%13.1f", r["spikes_per_sample"].get<double>()) << "  "
          << fmt("%22.1f", r["synaptic_events_per_sample"].get<double>()) << "\n";
  if (!report["single_pass"].is_null()) {
    const auto& sp = report["single_pass"];
    human << "  single-pass   " << fmt("%9.0f", report["single_pass_ticks"].get<int>()) << "  "
          << fmt("%8.4f", sp["accuracy"].get<double>()) << "  " << std::string(17, ' ') << "  " << fmt("%13.1f", sp["spikes_per_sample"].get<double>())
          << "  " << fmt("%22.1f", sp["synaptic_events_per_sample"].get<double>()) << "   (" << opt.sharpened << ")\n";
  }
  for (const auto& note : converted.notes) human << "  note: " << note << "\n";
  if (!opt.plot.empty()) {
    write_plot(opt.plot, report);
    report["plot"] = opt.plot;
    human << "  plot written to " << opt.plot << "\n";
  }
  return {report, human.str()};
}

void register_compare(CLI::App& app) {
  auto opt = std::make_shared<CompareOptions>();
  auto* cmd = app.add_subcommand("compare", "Rate-coded conversion vs single-pass (sharpened) network: accuracy and cost");
  add_common_options(*cmd, opt->common);
  cmd->add_option("model", opt->model, "ReLU Keras model to rate-convert (.h5/.keras)")->required();
  cmd->add_option("--sharpened", opt->sharpened, "Sharpened (Whetstone) model for the single-pass engine");
  cmd->add_option("--sharpened-input", opt->sharpened_input, "Input encoding for the sharpened model: bitplanes | threshold")
      ->check(CLI::IsMember({"bitplanes", "threshold"}));
  cmd->add_option("--dataset", opt->dataset, "mnist | fashion-mnist")->check(CLI::IsMember({"mnist", "fashion-mnist"}));
  cmd->add_option("--data-dir", opt->data_dir, "Folder holding the dataset's IDX files");
  cmd->add_option("--limit", opt->limit, "Use only the first N test samples (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--timesteps", opt->timesteps, "Comma-separated timesteps at which to report the rate engine")
      ->delimiter(',');
  cmd->add_option("--plot", opt->plot, "Write a PNG plot of accuracy vs timesteps here");
  add_user_data_options(*cmd, opt->user, "the test samples, also the rate normalisation data");
  cmd->callback([opt] { run_compare(*opt); });
}

}  // namespace grindstone::cli
