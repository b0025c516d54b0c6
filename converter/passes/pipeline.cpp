#include "converter/passes/pipeline.hpp"

#include <filesystem>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "converter/passes/ann_passes.hpp"
#include "converter/passes/lower.hpp"
#include "converter/passes/snn_passes.hpp"

namespace grindstone::passes {

BiasMode parse_bias_mode(const std::string& text) {
  if (text == "neurons") return BiasMode::Neurons;
  if (text == "threshold") return BiasMode::Threshold;
  throw InputError("--bias: '" + text + "' is not 'neurons' or 'threshold'");
}

snn::InputEncoding parse_input_encoding(const std::string& text) {
  if (text == "threshold") return snn::InputEncoding::Threshold;
  if (text == "bitplanes") return snn::InputEncoding::Bitplanes;
  throw InputError("--input: '" + text + "' is not 'threshold' or 'bitplanes'");
}

snn::WeightFormat parse_weight_format(const std::string& text) {
  snn::WeightFormat f;
  if (text == "float") return f;
  f.is_float = false;
  f.fixed = FixedPointFormat::parse(text, "--weights");
  return f;
}

std::string grindstone_version() { return "grindstone 0.1"; }

Pipeline& Pipeline::add(AnnPass pass) {
  ann_passes_.push_back(std::move(pass));
  return *this;
}
Pipeline& Pipeline::lower_with(Lowering lowering) {
  lowering_ = std::move(lowering);
  return *this;
}
Pipeline& Pipeline::add(SnnPass pass) {
  snn_passes_.push_back(std::move(pass));
  return *this;
}

std::vector<std::string> Pipeline::names() const {
  std::vector<std::string> out;
  for (const auto& p : ann_passes_) out.push_back(p.name);
  if (lowering_) out.push_back(lowering_->name);
  for (const auto& p : snn_passes_) out.push_back(p.name);
  return out;
}

SnnState Pipeline::run(ann::Model model, std::ostream* log) const {
  if (!lowering_) throw InternalError("Pipeline::run: no lowering");
  std::vector<std::string> applied;
  auto note = [&](const std::string& name) {
    applied.push_back(name);
    if (log) *log << "pass " << name << '\n';
  };
  for (const auto& pass : ann_passes_) {
    note(pass.name);
    pass.run(model);
  }
  note(lowering_->name);
  SnnState state = lowering_->run(model);
  for (const auto& sub : state.lowerings_applied)
    if (std::find(applied.begin(), applied.end(), sub) == applied.end()) note(sub);
  for (const auto& pass : snn_passes_) {
    note(pass.name);
    pass.run(state);
  }
  state.network.provenance.passes = applied;
  snn::validate(state.network, model.source.path.empty() ? model.name : model.source.path);
  return state;
}

Pipeline single_pass_pipeline(const ConvertOptions& options) {
  Pipeline p;
  p.add(AnnPass{"drop_identities", [](ann::Model& m) { drop_identities(m); }});
  p.add(AnnPass{"fold_batch_norm", [](ann::Model& m) { fold_batch_norm(m); }});
  p.add(AnnPass{"canonicalise_flatten", [](ann::Model& m) { canonicalise_flatten(m); }});
  p.add(AnnPass{"fold_average_pool", [](ann::Model& m) { fold_average_pool(m); }});
  p.lower_with(Lowering{"lower_activations", [](const ann::Model& m) { return lower_activations(m); }});
  p.add(SnnPass{"encode_input", [enc = options.input](SnnState& s) { encode_input(s, enc); }});
  p.add(SnnPass{"bias_neurons", [mode = options.bias](SnnState& s) { bias_neurons(s, mode); }});
  p.add(SnnPass{"decode_output", [](SnnState& s) { decode_output(s); }});
  p.add(SnnPass{"temporal_groups", [k = options.temporal_groups](SnnState& s) { temporal_groups(s, k); }});
  p.add(SnnPass{"quantise", [f = options.weights](SnnState& s) { quantise(s, f); }});
  return p;
}

ConversionResult convert_single_pass(const ann::Model& model, const ConvertOptions& options, std::ostream* log) {
  SnnState state = single_pass_pipeline(options).run(model, log);
  ConversionResult result;
  result.network = std::move(state.network);
  result.clipped = std::move(state.clipped);
  result.clipped_thresholds = state.clipped_thresholds;
  auto& prov = result.network.provenance;
  const std::filesystem::path source(model.source.path);
  prov.source_file = source.filename().string();
  std::error_code ec;
  if (!model.source.path.empty() && std::filesystem::is_regular_file(source, ec))
    prov.source_sha256 = sha256_file_hex(source);
  prov.grindstone_version = grindstone_version();
  return result;
}

NetworkCounts count(const snn::Network& network) {
  NetworkCounts c;
  c.populations = static_cast<std::int64_t>(network.populations.size());
  c.projections = static_cast<std::int64_t>(network.projections.size());
  for (const auto& p : network.populations) {
    if (p.role == snn::PopulationRole::Hidden || p.role == snn::PopulationRole::Output) c.neurons += p.size();
    else if (p.is_source()) c.input_neurons += p.size();
    else c.bias_neurons += p.size();
  }
  for (const auto& pr : network.projections) {
    c.synapses += snn::synapse_count(network, pr);
    c.max_delay = std::max(c.max_delay, snn::max_delay(network, pr));
  }
  return c;
}

}  // namespace grindstone::passes
