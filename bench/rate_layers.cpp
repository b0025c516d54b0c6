// Layer-by-layer diagnosis of the rate conversion: for each population of the converted network,
// compares spike rate × λ after T timesteps with the activation of the same layer in the float
// ANN (spiking max-pool, or with --avg-pool max pooling lowered to average pooling in both), and
// reports the accuracy of both read-outs.
//
//   bench_rate_layers MODEL.h5 [--images N] [--timesteps T] [--threads K] [--percentile P] [--avg-pool]
//
// Figures per population: mean ANN activation, mean rate·λ, mean |rate·λ − activation|, and the
// share of units whose activation exceeds λ (they saturate at 1 spike per timestep).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include "common/parallel.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/rate.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/rate.hpp"

using namespace grindstone;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_rate_layers MODEL.h5 [--images N] [--timesteps T] [--threads K] [--percentile P] [--avg-pool]\n";
    return 2;
  }
  const std::string model_path = argv[1];
  std::int64_t images = 300;
  int timesteps = 256, threads = 2;
  double percentile = 99.9;
  bool avg_pool = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string("0"); };
    if (a == "--images") images = std::stoll(next());
    else if (a == "--timesteps") timesteps = std::stoi(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--percentile") percentile = std::stod(next());
    else if (a == "--avg-pool") avg_pool = true;
  }
  try {
    ThreadLimit limit(threads);
    const ann::Model model = keras::load_model(model_path);
    const auto training = datasets::load("mnist", datasets::Split::Train);
    const auto test = datasets::load("mnist", datasets::Split::Test, {}, images);
    passes::RateConversionOptions conv;
    conv.percentile = percentile;
    conv.threads = threads;
    conv.spiking_max_pool = !avg_pool;
    const auto converted = passes::convert_for_rate(model, training, conv, &std::cerr);
    const snn::RateEngine engine(converted.network, model_path, converted.engine_config());

    // The ANN the network approximates (with --avg-pool, max pooling lowered to average pooling).
    ann::Model reference = model;
    if (avg_pool)
      for (auto& l : reference.layers)
        if (l.is<ann::Pool2D>()) l.as<ann::Pool2D>().kind = ann::PoolKind::Average;
    const ann::ReferenceInference inference(reference);
    ann::RowMatrix inputs(test.size(), test.pixels_per_image());
    for (std::int64_t s = 0; s < test.size(); ++s)
      datasets::encode_images(test.image(s), 1, test.pixels_per_image(), datasets::InputEncoding::Real, inputs.row(s).data());
    const auto outputs = inference.layer_outputs(inputs, {}, threads);
    const auto ann_predictions = ann::argmax_rows(inference.run(inputs, threads));

    std::map<std::string, double> lambda_of;
    for (std::size_t k = 0; k < converted.layers.size(); ++k) lambda_of[converted.layers[k]] = converted.lambdas[k];
    const auto& net = converted.network;
    struct Stat {
      double ann = 0, rate = 0, abs_err = 0, clipped = 0, n = 0;
    };
    std::vector<Stat> stats(net.populations.size());
    snn::RateOptions opt;
    opt.timesteps = timesteps;
    std::int64_t ann_correct = 0;
    for (std::int64_t s = 0; s < test.size(); ++s) {
      ann_correct += ann_predictions[static_cast<std::size_t>(s)] == test.labels[static_cast<std::size_t>(s)];
      const auto counts = engine.population_counts(test.image(s), opt, s);
      double lambda = 1.0;
      for (std::size_t p = 1; p < net.populations.size(); ++p) {
        const auto& pop = net.populations[p];
        if (lambda_of.count(pop.source_layer)) lambda = lambda_of[pop.source_layer];
        // ANN layer whose output this population's rate stands for: the activation after a
        // Dense/Conv2D (linear output layers: the layer itself, pre-softmax), or the pool.
        int index = -1;
        for (std::size_t l = 0; l < reference.layers.size(); ++l)
          if (reference.layers[l].name == pop.source_layer) index = static_cast<int>(l);
        for (std::size_t l = 0; l < reference.layers.size(); ++l) {
          const auto& layer = reference.layers[l];
          if (layer.is<ann::Activation>() && !layer.inputs.empty() && layer.inputs[0] == index &&
              layer.as<ann::Activation>().kind == ann::ActivationKind::ReLU)
            index = static_cast<int>(l);
        }
        const auto& out = outputs[static_cast<std::size_t>(index)];
        auto& st = stats[p];
        for (std::int64_t i = 0; i < pop.size(); ++i) {
          const double a = out(s, i);
          const double r = static_cast<double>(counts[p][static_cast<std::size_t>(i)]) / timesteps * lambda;
          st.ann += a;
          st.rate += r;
          st.abs_err += std::abs(r - a);
          st.clipped += a > lambda;
          st.n += 1;
        }
      }
    }
    std::printf("%-24s %10s %10s %10s %10s %10s\n", "population", "lambda", "mean_ann", "mean_rate*l", "mean_abs_err", "share>l");
    double lambda = 1.0;
    for (std::size_t p = 1; p < net.populations.size(); ++p) {
      const auto& st = stats[p];
      if (lambda_of.count(net.populations[p].source_layer)) lambda = lambda_of[net.populations[p].source_layer];
      std::printf("%-24s %10.4f %10.4f %10.4f %10.4f %10.5f\n", net.populations[p].name.c_str(), lambda, st.ann / st.n,
                  st.rate / st.n, st.abs_err / st.n, st.clipped / st.n);
    }
    const auto by_count = engine.run(test, opt);
    opt.readout = snn::RateReadout::AccumulatedInput;
    const auto by_input = engine.run(test, opt);
    std::printf("images %lld  T %d  ANN %.4f  rate(spike count) %.4f  rate(accumulated input) %.4f\n",
                static_cast<long long>(test.size()), timesteps, static_cast<double>(ann_correct) / test.size(),
                by_count.accuracy, by_input.accuracy);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
