#include "converter/passes/snn_passes.hpp"

#include <cmath>

#include "common/error.hpp"
#include "snn_runtime/network/temporal_groups.hpp"

namespace grindstone::passes {

namespace {

/// Rebuilds the population list in `order` (old indices; −1 entries take the next element of
/// `added`), remapping projections and the output index.
void reorder(snn::Network& net, const std::vector<int>& order, std::vector<snn::Population> added) {
  std::vector<int> new_index(net.populations.size(), -1);
  std::vector<snn::Population> pops;
  std::size_t next_added = 0;
  for (int old : order) {
    if (old >= 0) {
      new_index[static_cast<std::size_t>(old)] = static_cast<int>(pops.size());
      pops.push_back(std::move(net.populations[static_cast<std::size_t>(old)]));
    } else {
      pops.push_back(std::move(added.at(next_added++)));
    }
  }
  for (auto& pr : net.projections) {
    if (pr.pre < static_cast<int>(new_index.size())) pr.pre = new_index[static_cast<std::size_t>(pr.pre)];
    if (pr.post < static_cast<int>(new_index.size())) pr.post = new_index[static_cast<std::size_t>(pr.post)];
  }
  if (net.output >= 0) net.output = new_index[static_cast<std::size_t>(net.output)];
  net.populations = std::move(pops);
}

bool is_layer(const snn::Population& p) {
  return p.role == snn::PopulationRole::Hidden || p.role == snn::PopulationRole::Output;
}

}  // namespace

void encode_input(SnnState& state, snn::InputEncoding encoding) {
  auto& net = state.network;
  net.input = encoding;
  if (encoding == snn::InputEncoding::Threshold) return;
  require_input(encoding == snn::InputEncoding::Bitplanes, "--input", "single-pass networks take threshold or bitplanes");
  const int input = net.find("input");
  require_input(input >= 0, "--input", "bitplanes: the network has no 'input' population");
  std::vector<snn::Projection> projections;
  const snn::Population original = net.populations[static_cast<std::size_t>(input)];
  // Old indices are all shifted past the 8 new populations; the removed input maps nowhere.
  std::vector<snn::Population> bits;
  for (int k = 0; k < 8; ++k) {
    snn::Population p = original;
    p.name = "input_bit" + std::to_string(k);
    p.input_bit = k;
    bits.push_back(std::move(p));
  }
  for (auto& pr : net.projections) {
    if (pr.pre != input) {
      projections.push_back(pr);
      continue;
    }
    const auto& post = net.populations[static_cast<std::size_t>(pr.post)];
    require_input(std::holds_alternative<snn::DenseConnector>(pr.connector) ||
                      std::holds_alternative<snn::ConvConnector>(pr.connector),
                  "layer '" + post.source_layer + "'",
                  "--input bitplanes needs a linear first layer (Dense/Conv2D), but the input feeds a " +
                      snn::connector_kind(pr.connector) + " connector");
    for (int k = 0; k < 8; ++k) {
      snn::Projection copy = pr;
      copy.name = "input_bit" + std::to_string(k) + "->" + post.name;
      copy.pre = -(k + 1);  // placeholder, fixed below
      copy.weight_scale = pr.weight_scale * static_cast<float>(std::ldexp(1.0, k) / 255.0);
      projections.push_back(std::move(copy));
    }
  }
  net.projections = std::move(projections);
  std::vector<int> order(8, -1);
  for (int i = 0; i < static_cast<int>(net.populations.size()); ++i)
    if (i != input) order.push_back(i);
  // Placeholders (negative pre) must survive reorder's remapping: handle them afterwards.
  std::vector<int> saved_pre;
  for (auto& pr : net.projections) {
    saved_pre.push_back(pr.pre);
    if (pr.pre < 0) pr.pre = input;  // any valid old index; overwritten below
  }
  reorder(net, order, std::move(bits));
  for (std::size_t i = 0; i < net.projections.size(); ++i)
    if (saved_pre[i] < 0) net.projections[i].pre = -saved_pre[i] - 1;
}

void bias_neurons(SnnState& state, BiasMode mode) {
  auto& net = state.network;
  net.bias_mode = mode == BiasMode::Neurons ? "neurons" : "threshold";
  if (mode == BiasMode::Threshold) {
    for (auto& [name, bias] : state.pending_bias) {
      const int index = net.find(name);
      require_input(index >= 0, "bias_neurons", "no population '" + name + "'");
      auto& p = net.populations[static_cast<std::size_t>(index)];
      for (std::int64_t i = 0; i < p.size(); ++i)
        p.threshold[static_cast<std::size_t>(i)] -= bias[static_cast<Eigen::Index>(i)];
    }
    state.pending_bias.clear();
    return;
  }
  if (state.pending_bias.empty()) return;
  // The chain covers the layers up to the last biased one.
  int last_biased = -1;
  for (int i = 0; i < static_cast<int>(net.populations.size()); ++i)
    if (state.pending_bias.count(net.populations[static_cast<std::size_t>(i)].name)) last_biased = i;
  std::vector<int> order;
  std::vector<snn::Population> added;
  std::vector<std::pair<int, int>> chain;  // (position in new order of bias pop, layer old index)
  int first_layer = -1;
  for (int i = 0; i < static_cast<int>(net.populations.size()); ++i) {
    const auto& p = net.populations[static_cast<std::size_t>(i)];
    if (p.role == snn::PopulationRole::Input) order.push_back(i);
  }
  for (int i = 0; i < static_cast<int>(net.populations.size()); ++i) {
    const auto& p = net.populations[static_cast<std::size_t>(i)];
    if (p.role == snn::PopulationRole::Input) continue;
    if (is_layer(p) && i <= last_biased) {
      if (!chain.empty() && added.back().tick == p.tick - 1) {
        // A parallel branch at the same depth: it shares the bias neuron of that tick.
        chain.emplace_back(chain.back().first, i);
        order.push_back(i);
        continue;
      }
      snn::Population b;
      b.role = snn::PopulationRole::Bias;
      b.shape = Shape{1};
      b.tick = p.tick - 1;
      b.source_layer = p.source_layer;
      if (first_layer < 0) {
        require_input(b.tick == 0, "bias_neurons", "the first layer '" + p.name + "' does not fire at tick 1");
        b.name = "bias_start";  // the always-on start source: the first layer's bias neuron
        first_layer = i;
      } else {
        b.name = "bias_" + p.name;
        b.threshold = {0.5f};
      }
      chain.emplace_back(static_cast<int>(order.size()), i);
      order.push_back(-1);
      added.push_back(std::move(b));
    }
    order.push_back(i);
  }
  // Names of the bias populations in chain order (repeated for layers sharing one), and their
  // layers' names.
  std::vector<std::string> bias_names, layer_names;
  std::vector<int> position_to_added(order.size(), -1);
  for (std::size_t k = 0, next = 0; k < order.size(); ++k)
    if (order[k] < 0) position_to_added[k] = static_cast<int>(next++);
  for (const auto& [position, layer_index] : chain) {
    bias_names.push_back(added[static_cast<std::size_t>(position_to_added[static_cast<std::size_t>(position)])].name);
    layer_names.push_back(net.populations[static_cast<std::size_t>(layer_index)].name);
  }
  reorder(net, order, std::move(added));
  for (std::size_t c = 0; c < chain.size(); ++c) {
    const int b = net.find(bias_names[c]);
    const int layer = net.find(layer_names[c]);
    if (c > 0 && bias_names[c] != bias_names[c - 1]) {
      snn::Projection link;
      link.name = bias_names[c - 1] + "->" + bias_names[c];
      link.pre = net.find(bias_names[c - 1]);
      link.post = b;
      link.connector = snn::OneToOneConnector{1.0f};
      net.projections.push_back(std::move(link));
    }
    auto it = state.pending_bias.find(layer_names[c]);
    if (it == state.pending_bias.end()) continue;  // pooling layer: relay only
    snn::Projection add;
    add.name = bias_names[c] + "->" + layer_names[c];
    add.pre = b;
    add.post = layer;
    add.connector = snn::DenseConnector{Eigen::MatrixXf(it->second.transpose())};
    net.projections.push_back(std::move(add));
  }
  state.pending_bias.clear();
}

void decode_output(SnnState& state) {
  auto& net = state.network;
  require_input(net.output >= 0, "decode_output", "the network has no output population");
  const auto& out = net.populations[static_cast<std::size_t>(net.output)];
  if (state.decode_key) {
    net.decode.kind = snn::Decode::Kind::NHotKey;
    net.decode.key = *state.decode_key;
    net.decode.classes = static_cast<int>(state.decode_key->rows());
  } else {
    net.decode.kind = snn::Decode::Kind::SpikeCount;
    net.decode.key.resize(0, 0);
    net.decode.classes = static_cast<int>(out.size());
  }
}

void temporal_groups(SnnState& state, int groups) {
  require_input(groups >= 1 && groups <= 64, "--temporal-groups", std::to_string(groups) + " is outside 1..64");
  snn::set_temporal_groups(state.network, groups, "--temporal-groups");
}

void quantise(SnnState& state, const snn::WeightFormat& format) {
  auto& net = state.network;
  net.weights = format;
  state.clipped.clear();
  state.clipped_thresholds = 0;
  if (format.is_float) return;
  const FixedPointFormat& fx = format.fixed;
  auto q = [&](float v, ClippedWeights& c) {
    bool clipped = false;
    const auto units = fx.quantise(v, &clipped);
    ++c.weights;
    if (clipped) ++c.clipped;
    return static_cast<float>(fx.dequantise(units));
  };
  for (auto& pr : net.projections) {
    ClippedWeights c;
    c.projection = pr.name;
    if (auto* d = std::get_if<snn::DenseConnector>(&pr.connector)) {
      for (Eigen::Index k = 0; k < d->weights.size(); ++k) d->weights.data()[k] = q(d->weights.data()[k], c);
    } else if (auto* cv = std::get_if<snn::ConvConnector>(&pr.connector)) {
      for (Eigen::Index k = 0; k < cv->kernel.size(); ++k) cv->kernel.data()[k] = q(cv->kernel.data()[k], c);
    } else if (auto* pl = std::get_if<snn::PoolConnector>(&pr.connector)) {
      pl->weight = q(pl->weight, c);
    } else {
      auto& o = std::get<snn::OneToOneConnector>(pr.connector);
      o.weight = q(o.weight, c);
    }
    state.clipped.push_back(std::move(c));
  }
  for (auto& p : net.populations) {
    ClippedWeights c;
    for (auto& t : p.threshold) t = q(t, c);
    for (auto& b : p.bias_current) b = q(b, c);
    state.clipped_thresholds += c.clipped;
  }
}

}  // namespace grindstone::passes
