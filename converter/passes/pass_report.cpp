#include "converter/passes/pass_report.hpp"

#include <algorithm>
#include <set>
#include <sstream>
#include <utility>
#include <variant>

namespace grindstone::passes {

namespace {

/// IR kind of a layer, in LayerParams order (the Keras class may be kept when a pass turns a
/// layer into another kind, e.g. an average pool folded into a Flatten).
std::string kind_name(const ann::LayerParams& params) {
  static const char* const names[] = {"Input",   "Dense",     "Conv2D",     "Pool2D",        "GlobalAveragePool2D",
                                      "ZeroPad2D", "Flatten", "Reshape",    "BatchNorm",     "Activation",
                                      "SoftmaxDecode", "Identity", "GlobalMaxPool2D", "DepthwiseConv2D", "Merge",
                                      "Concatenate", "Rescale"};
  static_assert(std::size(names) == std::variant_size_v<ann::LayerParams>, "one name per LayerParams kind");
  return names[params.index()];
}

std::vector<float> connector_values(const snn::Projection& pr) {
  std::vector<float> v;
  if (const auto* d = std::get_if<snn::DenseConnector>(&pr.connector)) {
    v.assign(d->weights.data(), d->weights.data() + d->weights.size());
  } else if (const auto* c = std::get_if<snn::ConvConnector>(&pr.connector)) {
    v.assign(c->kernel.data(), c->kernel.data() + c->kernel.size());
  } else if (const auto* p = std::get_if<snn::PoolConnector>(&pr.connector)) {
    v.push_back(p->weight);
  } else {
    v.push_back(std::get<snn::OneToOneConnector>(pr.connector).weight);
  }
  v.push_back(pr.weight_scale);
  return v;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields fields(const SnnSummary& s) {
  const auto& c = s.counts;
  return {{"populations", std::to_string(c.populations)},
          {"neurons", std::to_string(c.neurons)},
          {"bias neurons", std::to_string(c.bias_neurons)},
          {"spike sources", std::to_string(c.input_neurons)},
          {"projections", std::to_string(c.projections)},
          {"synapses", std::to_string(c.synapses)},
          {"max delay", std::to_string(c.max_delay)},
          {"last tick", std::to_string(s.last_tick)},
          {"temporal groups", std::to_string(s.temporal_groups)},
          {"weights", s.weights_format},
          {"bias mode", s.bias_mode},
          {"input", s.input},
          {"decode", s.decode},
          {"classes", std::to_string(s.classes)}};
}

/// Values that differ between entries of the same name and length.
std::int64_t changed_values(const std::map<std::string, std::vector<float>>& before,
                            const std::map<std::string, std::vector<float>>& after) {
  std::int64_t changed = 0;
  for (const auto& [name, values] : after) {
    const auto it = before.find(name);
    if (it == before.end() || it->second.size() != values.size()) continue;
    for (std::size_t k = 0; k < values.size(); ++k)
      if (!(values[k] == it->second[k])) ++changed;
  }
  return changed;
}

/// "a → b" for every field that differs, comma-separated.
std::string field_changes(const Fields& before, const Fields& after) {
  std::string out;
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (before[i].second == after[i].second) continue;
    if (!out.empty()) out += ", ";
    out += after[i].first + " " + before[i].second + " → " + after[i].second;
  }
  return out;
}

std::string join_parts(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out.empty() ? "no change" : out;
}

std::string plural(std::int64_t n, const std::string& what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

std::string input_name(snn::InputEncoding e) {
  switch (e) {
    case snn::InputEncoding::Threshold: return "threshold";
    case snn::InputEncoding::Bitplanes: return "bitplanes";
    case snn::InputEncoding::Real: return "real";
  }
  return "?";
}

}  // namespace

AnnSummary summarise(const ann::Model& model) {
  AnnSummary s;
  s.layers = static_cast<std::int64_t>(model.layers.size());
  s.parameters = model.param_count();
  for (const auto& l : model.layers) ++s.layers_by_kind[kind_name(l.params)];
  return s;
}

SnnSummary summarise(const snn::Network& network) {
  SnnSummary s;
  s.counts = count(network);
  for (const auto& p : network.populations) {
    s.last_tick = std::max(s.last_tick, p.last_fire_tick());
    s.temporal_groups = std::max(s.temporal_groups, p.temporal_groups);
    auto& values = s.neuron_values[p.name];
    values = p.threshold;
    values.insert(values.end(), p.bias_current.begin(), p.bias_current.end());
  }
  for (const auto& pr : network.projections) s.weight_values[pr.name] = connector_values(pr);
  s.weights_format = network.weights.to_string();
  s.bias_mode = network.bias_mode;
  s.input = input_name(network.input);
  s.decode = network.decode.kind == snn::Decode::Kind::NHotKey ? "n_hot_key" : "spike_count";
  s.classes = network.decode.classes;
  return s;
}

std::string describe_change(const AnnSummary& before, const AnnSummary& after, int layers_changed) {
  const Fields totals_before{{"layers", std::to_string(before.layers)}, {"parameters", std::to_string(before.parameters)}};
  const Fields totals_after{{"layers", std::to_string(after.layers)}, {"parameters", std::to_string(after.parameters)}};
  std::string kinds;
  std::set<std::string> all;
  for (const auto& [k, n] : before.layers_by_kind) all.insert(k);
  for (const auto& [k, n] : after.layers_by_kind) all.insert(k);
  for (const auto& k : all) {
    const auto b = before.layers_by_kind.count(k) ? before.layers_by_kind.at(k) : 0;
    const auto a = after.layers_by_kind.count(k) ? after.layers_by_kind.at(k) : 0;
    if (a == b) continue;
    if (!kinds.empty()) kinds += ", ";
    kinds += k + " " + std::to_string(b) + " → " + std::to_string(a);
  }
  std::string totals = field_changes(totals_before, totals_after);
  if (!totals.empty() && !kinds.empty()) totals += ", ";
  return join_parts({totals + kinds, layers_changed > 0 ? plural(layers_changed, "layer") + " changed" : ""});
}

std::string describe_change(const SnnSummary& before, const SnnSummary& after) {
  const auto weights = changed_values(before.weight_values, after.weight_values);
  const auto neurons = changed_values(before.neuron_values, after.neuron_values);
  return join_parts({field_changes(fields(before), fields(after)),
                     weights > 0 ? plural(weights, "weight") + " changed" : "",
                     neurons > 0 ? plural(neurons, "threshold/bias value") + " changed" : ""});
}

std::string describe_lowering(const AnnSummary& model, const SnnSummary& network) {
  std::string out = plural(model.layers, "layer") + " →";
  const char* sep = " ";
  for (const auto& [name, value] : fields(network)) {
    out += sep + name + " " + value;
    sep = ", ";
  }
  return out;
}

}  // namespace grindstone::passes
