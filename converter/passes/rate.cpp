#include "converter/passes/rate.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "converter/ann/inference.hpp"
#include "converter/passes/ann_passes.hpp"
#include "converter/passes/lower.hpp"
#include "converter/passes/pipeline.hpp"
#include "datasets/encoding.hpp"

namespace grindstone::passes {

double percentile_of(std::vector<float>& values, double p) {
  if (values.empty()) return 1.0;
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const auto hi = std::min(lo + 1, values.size() - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo), values.end());
  const double a = values[lo];
  double b = a;
  if (hi != lo) b = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
  return a + (b - a) * (rank - static_cast<double>(lo));
}

namespace {

struct WeightedLayer {
  int linear = -1;      // Dense/Conv2D layer index
  int activation = -1;  // its activation layer (ReLU / Softmax), −1 for linear
  bool softmax = false;
  std::vector<int> pools_after;  // pooling layers following the activation
};


std::string file_of(const ann::Model& model) { return model.source.path.empty() ? model.name : model.source.path; }

std::string layer_context(const ann::Model& model, const ann::Layer& l) { return file_of(model) + ": layer '" + l.name + "'"; }

/// The chain as weighted layers with their activation and following pools; InputError naming
/// the layer for anything rate coding cannot express. Notes approximations in `notes`.
std::vector<WeightedLayer> group_weighted_layers(const ann::Model& model, const RateConversionOptions& options,
                                                 std::vector<std::string>& notes) {
  const std::string file = file_of(model);
  auto ctx = [&](const ann::Layer& l) { return layer_context(model, l); };
  std::vector<WeightedLayer> groups;
  int previous = -1;
  for (int i = 0; i < static_cast<int>(model.layers.size()); ++i) {
    const auto& l = model.layers[static_cast<std::size_t>(i)];
    if (!l.is<ann::InputLayer>())
      require_input(l.inputs.size() == 1 && l.inputs[0] == previous, ctx(l), "inputs: only chain models can be converted");
    previous = i;
    if (l.is<ann::InputLayer>() || l.is<ann::Flatten>() || l.is<ann::Reshape>()) continue;
    if (l.is<ann::Dense>() || l.is<ann::Conv2D>()) {
      groups.push_back({i, -1, false, {}});
      continue;
    }
    require_input(!groups.empty(), ctx(l), "layer before the first Dense/Conv2D is not supported by rate conversion");
    auto& g = groups.back();
    if (l.is<ann::Activation>()) {
      const auto& a = l.as<ann::Activation>();
      require_input(g.activation < 0 && g.pools_after.empty(), ctx(l), "two activations in a row");
      if (a.kind == ann::ActivationKind::ReLU) {
        require_input(a.relu_negative_slope == 0.0f && a.relu_threshold == 0.0f, ctx(l),
                      "ReLU with negative_slope/threshold cannot be rate coded");
        g.activation = i;
      } else if (a.kind == ann::ActivationKind::Softmax && i == model.output) {
        g.activation = i;
        g.softmax = true;
      } else {
        throw InputError(ctx(l) + ": activation is not ReLU; rate conversion needs ReLU hidden layers and a "
                                  "linear/softmax output (use single-pass for sharpened networks)");
      }
    } else if (l.is<ann::Pool2D>()) {
      require_input(g.activation >= 0, ctx(l), "pooling before the activation is not supported by rate conversion");
      if (l.as<ann::Pool2D>().kind == ann::PoolKind::Max && !options.spiking_max_pool &&
          std::find(notes.begin(), notes.end(), "max pooling approximated by average pooling") == notes.end())
        notes.emplace_back("max pooling approximated by average pooling");
      g.pools_after.push_back(i);
    } else {
      throw InputError(ctx(l) + ": layer kind '" + l.keras_class + "' is not supported by rate conversion");
    }
  }
  require_input(!groups.empty(), file, "layers: no Dense/Conv2D layer");
  for (std::size_t g = 0; g + 1 < groups.size(); ++g)
    require_input(groups[g].activation >= 0, ctx(model.layers[static_cast<std::size_t>(groups[g].linear)]),
                  "hidden layer without a ReLU activation cannot be rate coded");
  require_input(groups.back().pools_after.empty(), file, "output: pooling after the last layer is not supported");
  return groups;
}

/// λ per weighted layer from the float model on a training subset.
std::vector<double> layer_lambdas(const ann::Model& model, const std::vector<WeightedLayer>& groups,
                                  const datasets::Dataset& training, const RateConversionOptions& options) {
  const std::int64_t available = training.size();
  require_input(available > 0, "normalisation data", "no training images");
  require_input(training.pixels_per_image() == model.input_shape().size(), "normalisation data",
                "images have " + std::to_string(training.pixels_per_image()) + " pixels but the model takes " +
                    std::to_string(model.input_shape().size()));
  const std::int64_t n = std::min(available, std::max<std::int64_t>(1, options.normalisation_samples));
  ann::RowMatrix inputs(n, training.pixels_per_image());
  for (std::int64_t s = 0; s < n; ++s) {
    const std::int64_t index = s * available / n;  // evenly spaced, deterministic
    datasets::encode_samples(training, index, 1, datasets::InputEncoding::Real, inputs.row(s).data());
  }
  std::vector<int> which;
  // The softmax layer is normalised by its logits (the input of the softmax), like every other
  // layer by its activations: with λ = 1 the output neurons of a network with large logits all
  // fire every timestep and the spike-count read-out cannot tell the classes apart.
  for (const auto& g : groups) which.push_back(g.activation >= 0 && !g.softmax ? g.activation : g.linear);
  const ann::ReferenceInference inference(model);
  const auto outputs = inference.layer_outputs(inputs, which, options.threads);
  std::vector<double> lambda;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::vector<float> nonzero;
    const auto& out = outputs[g];
    for (Eigen::Index k = 0; k < out.size(); ++k)
      if (out.data()[k] > 0.0f) nonzero.push_back(out.data()[k]);
    const double l = percentile_of(nonzero, options.percentile);
    lambda.push_back(l > 0.0 ? l : 1.0);
  }
  return lambda;
}

/// The rate network of `groups` normalised by `lambda`; fills result's layers, λs and max-pool
/// projections (not its network: the network is returned).
snn::Network emit_rate_network(const ann::Model& model, const std::vector<WeightedLayer>& groups,
                               const std::vector<double>& lambda, const RateConversionOptions& options,
                               RateConversion& result, std::ostream* log) {
  auto ctx = [&](const ann::Layer& l) { return layer_context(model, l); };
  snn::Network net;
  snn::Population input;
  input.name = "input";
  input.role = snn::PopulationRole::Input;
  input.shape = model.input_shape();
  net.populations.push_back(input);
  net.input_shape = model.input_shape();
  net.input = snn::InputEncoding::Real;
  net.bias_mode = "current";
  int current = 0;
  double lambda_prev = 1.0;
  auto add_population = [&](const std::string& name, const Shape& shape, const std::string& layer) {
    snn::Population p;
    p.name = name;
    p.role = snn::PopulationRole::Hidden;
    p.model = snn::NeuronModel::IntegrateAndFire;
    p.shape = shape;
    p.threshold.assign(static_cast<std::size_t>(shape.size()), 1.0f);
    p.bias_current.assign(static_cast<std::size_t>(shape.size()), 0.0f);
    p.tick = net.populations[static_cast<std::size_t>(current)].tick + 1;
    p.source_layer = layer;
    net.populations.push_back(std::move(p));
    return static_cast<int>(net.populations.size()) - 1;
  };
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& layer = model.layers[static_cast<std::size_t>(groups[g].linear)];
    const double scale = lambda_prev / lambda[g];
    const int post = add_population(layer.name, layer.output_shape, layer.name);
    auto& pop = net.populations[static_cast<std::size_t>(post)];
    snn::Projection pr;
    pr.name = net.populations[static_cast<std::size_t>(current)].name + "->" + layer.name;
    pr.pre = current;
    pr.post = post;
    if (layer.is<ann::Dense>()) {
      const auto& d = layer.as<ann::Dense>();
      require_input(d.kernel.rows() == net.populations[static_cast<std::size_t>(current)].size(), ctx(layer),
                    "kernel: Dense on an image needs a Flatten first");
      pr.connector = snn::DenseConnector{(d.kernel.cast<double>() * scale).cast<float>()};
      for (std::int64_t k = 0; k < pop.size(); ++k)
        pop.bias_current[static_cast<std::size_t>(k)] = static_cast<float>(d.bias[k] / lambda[g]);
    } else {
      const auto& c = layer.as<ann::Conv2D>();
      const Shape& in = net.populations[static_cast<std::size_t>(current)].shape;
      snn::ConvConnector cc = conv_connector(c, in, layer.output_shape);
      cc.kernel = (c.kernel.cast<double>() * scale).cast<float>();
      pr.connector = std::move(cc);
      for (std::int64_t k = 0; k < pop.size(); ++k)
        pop.bias_current[static_cast<std::size_t>(k)] = static_cast<float>(c.bias[k % c.filters] / lambda[g]);
    }
    net.projections.push_back(std::move(pr));
    current = post;
    lambda_prev = lambda[g];
    result.layers.push_back(layer.name);
    result.lambdas.push_back(lambda[g]);
    if (log) *log << "rate: layer '" << layer.name << "' lambda " << lambda[g] << '\n';
    for (int pool_index : groups[g].pools_after) {
      const auto& pl = model.layers[static_cast<std::size_t>(pool_index)];
      const auto& p = pl.as<ann::Pool2D>();
      const Shape& in = net.populations[static_cast<std::size_t>(current)].shape;
      const snn::PoolConnector pc = pool_connector(p, in, pl.output_shape, 1.0f / static_cast<float>(p.pool_h * p.pool_w));
      const int pool_pop = add_population(pl.name, pl.output_shape, pl.name);
      snn::Projection pp;
      pp.name = net.populations[static_cast<std::size_t>(current)].name + "->" + pl.name;
      pp.pre = current;
      pp.post = pool_pop;
      pp.connector = pc;
      if (p.kind == ann::PoolKind::Max && options.spiking_max_pool)
        result.max_pool_projections.push_back(static_cast<int>(net.projections.size()));
      net.projections.push_back(std::move(pp));
      current = pool_pop;
    }
  }
  net.output = current;
  net.populations[static_cast<std::size_t>(current)].role = snn::PopulationRole::Output;
  net.decode.kind = snn::Decode::Kind::SpikeCount;
  net.decode.classes = static_cast<int>(net.populations[static_cast<std::size_t>(current)].size());
  net.decode.tie_break_by_potential = true;
  return net;
}

}  // namespace

RateConversion convert_for_rate(const ann::Model& model, const datasets::Dataset& training,
                                const RateConversionOptions& options, std::ostream* log) {
  RateConversion result;
  Pipeline pipeline;
  pipeline.add(AnnPass{"drop_identities", drop_identities});
  pipeline.add(AnnPass{"fold_batch_norm", fold_batch_norm});
  pipeline.add(AnnPass{"canonicalise_flatten", canonicalise_flatten});
  pipeline.lower_with(Lowering{"normalise_rate", [&](const ann::Model& m) {
                                 const auto groups = group_weighted_layers(m, options, result.notes);
                                 const auto lambdas = layer_lambdas(m, groups, training, options);
                                 SnnState state;
                                 state.network = emit_rate_network(m, groups, lambdas, options, result, log);
                                 return state;
                               }});
  result.network = pipeline.run(model, log).network;
  record_source(result.network.provenance, model);
  return result;
}

}  // namespace grindstone::passes
