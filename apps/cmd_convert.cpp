// `grindstone convert MODEL -o NET.snn.h5 [--weights float|Qm.n] [--bias neurons|threshold]
//  [--input threshold|bitplanes] [--temporal-groups K]`: runs the single-pass conversion
// pipeline (converter/passes) and writes the network (snn_runtime/network/snn_file).
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "common/contained.hpp"
#include "common/parallel.hpp"
#include "converter/keras/import.hpp"
#include "converter/nir/nir_graph.hpp"
#include "converter/nir/nir_rate_import.hpp"
#include "converter/passes/pipeline.hpp"
#include "snn_runtime/network/snn_file.hpp"

namespace grindstone::cli {

namespace {

Report network_report(const ConvertCommandOptions& c, const passes::ConversionResult& result);

/// A stateful (integrate-and-fire) NIR graph becomes a rate network as it is (no passes).
Converted convert_rate_nir(const ConvertCommandOptions& c, const nir::NirGraph& graph) {
  require_input(c.weights == "float", "--weights", "integrate-and-fire NIR networks keep float weights (the rate engine's)");
  require_input(!c.architecture, "--architecture", "a NIR graph carries its own architecture");
  passes::ConversionResult result;
  result.network = nir::to_rate_network(graph);
  result.network.provenance.grindstone_version = passes::grindstone_version();
  if (!c.out.empty()) snn::save_network(result.network, c.out);
  Report r = network_report(c, result);
  r.json["input"] = "real";
  r.json["neuron_model"] = "integrate_and_fire";
  return {result.network, r};
}

void run_convert(const ConvertCommandOptions& c) {
  // Sniffing and reading a NIR graph is HDF5 too: contained like every foreign read.
  run_contained(c.model.string(), [&] {
    if (nir::is_nir_file(c.model)) (void)nir::read_graph(c.model);
  });
  if (nir::is_nir_file(c.model)) {
    const nir::NirGraph graph = nir::read_graph(c.model);
    if (nir::is_stateful(graph)) {
      const Converted converted = convert_rate_nir(c, graph);
      emit(c.common, converted.report.json, converted.report.human);
      return;
    }
  }
  const Converted converted = convert_model(c, keras::load_model(c.model, c.architecture));
  emit(c.common, converted.report.json, converted.report.human);
}

}  // namespace

Converted convert_model(const ConvertCommandOptions& c, const ann::Model& model) {
  ThreadLimit threads(c.common.threads);
  passes::ConvertOptions options;
  options.weights = passes::parse_weight_format(c.weights);
  options.bias = passes::parse_bias_mode(c.bias);
  options.input = passes::parse_input_encoding(c.input);
  options.temporal_groups = c.temporal_groups;
  std::ostringstream log;
  const auto result = passes::convert_single_pass(model, options, c.common.verbose ? &log : nullptr);
  if (c.common.verbose) std::cerr << log.str();
  if (!c.out.empty()) snn::save_network(result.network, c.out);
  return {result.network, network_report(c, result)};
}

namespace {

Report network_report(const ConvertCommandOptions& c, const passes::ConversionResult& result) {

  const auto counts = passes::count(result.network);
  std::int64_t clipped_total = 0;
  nlohmann::json clipped_by_projection = nlohmann::json::object();
  for (const auto& cw : result.clipped) {
    clipped_total += cw.clipped;
    if (cw.clipped > 0) clipped_by_projection[cw.projection] = cw.clipped;
  }
  nlohmann::json report = {
      {"model", c.model.string()},
      {"populations", counts.populations},
      {"neurons", counts.neurons},
      {"bias_neurons", counts.bias_neurons},
      {"input_neurons", counts.input_neurons},
      {"synapses", counts.synapses},
      {"projections", counts.projections},
      {"weights_format", result.network.weights.to_string()},
      {"bias_mode", result.network.bias_mode},
      {"input", c.input},
      {"temporal_groups", c.temporal_groups},
      {"max_delay", counts.max_delay},
      {"clipped_weights", clipped_total},
      {"clipped_weights_by_projection", clipped_by_projection},
      {"clipped_thresholds", result.clipped_thresholds},
      {"decode", result.network.decode.kind == snn::Decode::Kind::NHotKey ? "n_hot_key" : "spike_count"},
      {"classes", result.network.decode.classes},
      {"passes", result.network.provenance.passes},
      {"source_sha256", result.network.provenance.source_sha256},
  };
  if (!c.out.empty()) report["out"] = c.out.string();
  std::ostringstream human;
  human << (c.out.empty() ? std::string("converted ") + c.model.string() : "wrote " + c.out.string()) << "\n"
        << "  populations " << counts.populations << ", projections " << counts.projections << "\n"
        << "  neurons " << counts.neurons << " (+ " << counts.bias_neurons << " bias neurons, " << counts.input_neurons
        << " spike sources)\n"
        << "  synapses " << counts.synapses << ", max delay " << counts.max_delay << " ticks\n"
        << "  weights " << result.network.weights.to_string() << ", bias " << result.network.bias_mode
        << ", input " << c.input << ", temporal groups " << c.temporal_groups << "\n";
  if (!result.network.weights.is_float) {
    human << "  clipped weights " << clipped_total << ", clipped thresholds " << result.clipped_thresholds << "\n";
    for (const auto& cw : result.clipped)
      if (cw.clipped > 0) human << "    " << cw.projection << ": " << cw.clipped << " of " << cw.weights << "\n";
  }
  return {report, human.str()};
}

}  // namespace

void register_convert(CLI::App& app) {
  auto c = std::make_shared<ConvertCommandOptions>();
  auto* cmd = app.add_subcommand("convert", "Convert a sharpened Keras model to a spiking network (.snn.h5)");
  add_common_options(*cmd, c->common);
  cmd->add_option("model", c->model, "Keras model (.h5/.hdf5/.keras)")->required();
  cmd->add_option("-o,--out", c->out, "Output network file (.snn.h5)")->required();
  cmd->add_option("--architecture", c->architecture, "Architecture JSON for a weights-only .h5");
  cmd->add_option("--weights", c->weights, "float | Qm.n (e.g. Q4.8): weight and threshold format");
  cmd->add_option("--bias", c->bias, "neurons | threshold")->check(CLI::IsMember({"neurons", "threshold"}));
  cmd->add_option("--input", c->input, "threshold | bitplanes")->check(CLI::IsMember({"threshold", "bitplanes"}));
  cmd->add_option("--temporal-groups", c->temporal_groups, "K: split each population into K groups (delays ≤ 2K−1)")
      ->check(CLI::Range(1, 64));
  cmd->callback([c] { run_convert(*c); });
}

}  // namespace grindstone::cli
