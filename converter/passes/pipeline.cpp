#include "converter/passes/pipeline.hpp"

#include <algorithm>
#include <filesystem>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "converter/passes/ann_passes.hpp"
#include "converter/passes/lower.hpp"
#include "converter/passes/pass_report.hpp"
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

namespace {

/// Runs `validate`; an error it throws is rethrown (same type) naming the pass that left the IR
/// invalid, since validation after every pass is what tells which pass broke it.
template <class Validate>
void validated_after(const std::string& pass, const char* ir, Validate&& validate) {
  try {
    validate();
  } catch (const InputError& e) {
    throw InputError("pass '" + pass + "' produced an invalid " + ir + ": " + e.what());
  }
}

}  // namespace

SnnState Pipeline::run(ann::Model model, std::ostream* log) const {
  if (!lowering_) throw InternalError("Pipeline::run: no lowering");
  const std::string file = model.source.path.empty() ? model.name : model.source.path;
  model.validate();
  std::vector<std::string> applied;
  for (const auto& pass : ann_passes_) {
    applied.push_back(pass.name);
    const auto before = log ? summarise(model) : AnnSummary{};
    const int changed = pass.run(model);
    validated_after(pass.name, "model", [&] { model.validate(); });
    if (log) *log << "pass " << pass.name << ": " << describe_change(before, summarise(model), changed) << '\n';
  }
  applied.push_back(lowering_->name);
  SnnState state = lowering_->run(model);
  validated_after(lowering_->name, "network", [&] { snn::validate(state.network, file); });
  if (log) *log << "pass " << lowering_->name << ": " << describe_lowering(summarise(model), summarise(state.network)) << '\n';
  for (const auto& sub : state.lowerings_applied) {
    if (std::find(applied.begin(), applied.end(), sub) != applied.end()) continue;
    applied.push_back(sub);
    if (log) *log << "pass " << sub << ": applied within " << lowering_->name << '\n';
  }
  for (const auto& pass : snn_passes_) {
    applied.push_back(pass.name);
    const auto before = log ? summarise(state.network) : SnnSummary{};
    pass.run(state);
    validated_after(pass.name, "network", [&] { snn::validate(state.network, file); });
    if (log) *log << "pass " << pass.name << ": " << describe_change(before, summarise(state.network)) << '\n';
  }
  state.network.provenance.passes = applied;
  return state;
}

Pipeline single_pass_pipeline(const ConvertOptions& options) {
  Pipeline p;
  p.add(AnnPass{"drop_identities", drop_identities});
  p.add(AnnPass{"fold_batch_norm", fold_batch_norm});
  p.add(AnnPass{"canonicalise_flatten", canonicalise_flatten});
  p.add(AnnPass{"fold_average_pool", fold_average_pool});
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
  record_source(result.network.provenance, model);
  return result;
}

void record_source(snn::Provenance& provenance, const ann::Model& model) {
  const std::filesystem::path source(model.source.path);
  provenance.source_file = source.filename().string();
  std::error_code ec;
  if (!model.source.path.empty() && std::filesystem::is_regular_file(source, ec))
    provenance.source_sha256 = sha256_file_hex(source);
  provenance.grindstone_version = grindstone_version();
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
