// Single-pass engine throughput on MNIST (2 threads): samples/s against float evaluation of the
// same network (h2's ReferenceInference) in the same run, class agreement with float eval, and
// the engine's peak memory for 10,000 vs 60,000 samples.
//
//   build-<you>/bench/bench_single_pass_throughput [--threads N] [--repeat R] [--conv-images N] [--shipped-only]
//
// First every network of models/sharpened/ and the Whetstone model: float eval of the Keras model
// and the single-pass engine (Q4.8 and float weights, threshold and bit-plane input) on the same
// images with the same threads, each line with its RATIO (conv networks on the first
// --conv-images test images, default 2000).
//
// Networks:
//   * dense:100,100 — 784-100-100-100 + Softmax_Decode(10×100) with threshold input: the
//     sharpened tests/data/sharpened_mnist_dense100_100_binary.h5 when present, else random
//     (seeded) weights; the speed depends on the weights only through the spike counts, which
//     are printed.
//   * the Whetstone model (/work/shared/models/whetstone/whetstone_dense_mnist.h5), bit-plane
//     input, float weights: accuracy and agreement with float eval on all 10,000 test images.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sys/resource.h>
#include <string>
#include <vector>

#include "common/parallel.hpp"
#include "common/paths.hpp"
#include "common/random.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "converter/passes/pipeline.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/single_pass.hpp"

using namespace grindstone;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
/// CPU seconds (user + system) of this process: on a shared, overloaded machine the wall-clock
/// rate depends on the other jobs; samples per CPU-second does not.
double cpu_now() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/// kB from /proc/self/status (VmRSS or VmHWM).
long status_kb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key) + 1);
  return -1;
}
/// Resets VmHWM to the current RSS (Linux ≥ 4.0: "5" > /proc/self/clear_refs).
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

ann::Layer make_layer(const ann::Model& m, std::string name, std::string cls, ann::LayerParams params) {
  ann::Layer l;
  l.name = std::move(name);
  l.keras_class = std::move(cls);
  l.params = std::move(params);
  if (!m.layers.empty()) {
    l.inputs = {static_cast<int>(m.layers.size()) - 1};
    l.output_shape = ann::infer_output_shape(l, {m.layers.back().output_shape});
  }
  return l;
}

/// 784-100-100-100 + Spiking_BRelu(s=1) + Softmax_Decode, seeded uniform weights scaled so
/// that roughly half of each layer fires on MNIST.
ann::Model random_dense_100_100(std::uint64_t seed) {
  ann::Model m;
  m.name = "dense_100_100_random";
  ann::Layer in;
  in.name = "input";
  in.keras_class = "InputLayer";
  in.params = ann::InputLayer{};
  in.output_shape = Shape{28, 28, 1};
  m.layers.push_back(in);
  m.layers.push_back(make_layer(m, "flatten", "Flatten", ann::Flatten{}));
  const int units[] = {100, 100, 100};
  const float range[] = {0.14f, 0.25f, 0.25f};
  std::int64_t fan_in = 784;
  for (int l = 0; l < 3; ++l) {
    ann::Dense d;
    d.kernel = ann::Matrix(fan_in, units[l]);
    d.bias = ann::Vector(units[l]);
    for (Eigen::Index i = 0; i < d.kernel.size(); ++i)
      d.kernel.data()[i] = static_cast<float>((2.0 * random_uniform(seed, static_cast<std::uint64_t>(l), static_cast<std::uint64_t>(i)) - 1.0) * range[l]);
    for (Eigen::Index i = 0; i < d.bias.size(); ++i)
      d.bias(i) = static_cast<float>(0.4 * random_uniform(seed, 10 + static_cast<std::uint64_t>(l), static_cast<std::uint64_t>(i)) - 0.2);
    m.layers.push_back(make_layer(m, "dense_" + std::to_string(l), "Dense", d));
    ann::Activation a;
    a.kind = ann::ActivationKind::SpikingBRelu;
    a.sharpness = 1.0f;
    m.layers.push_back(make_layer(m, "spiking_brelu_" + std::to_string(l), "Spiking_BRelu", a));
    fan_in = units[l];
  }
  ann::SoftmaxDecode key;
  key.key = ann::Matrix::Zero(10, 100);
  for (int c = 0; c < 10; ++c)
    for (int j = 0; j < 100; ++j) key.key(c, j) = (random_bits(seed, 99, static_cast<std::uint64_t>(c * 100 + j)) & 1) ? 1.0f : 0.0f;
  m.layers.push_back(make_layer(m, "softmax_decode", "Softmax_Decode", key));
  m.output = static_cast<int>(m.layers.size()) - 1;
  m.source.format = "grindstone";
  m.validate();
  return m;
}

struct Rate {
  double wall = 0.0;  ///< samples per second
  double cpu = 0.0;   ///< samples per CPU-second of this process
};

/// Runs `engine` on `test` `repeat` times (after one warm-up run that also yields predictions).
Rate measure(const snn::SinglePassEngine& engine, const datasets::Dataset& test, int repeat, snn::SinglePassRun& first) {
  first = engine.run(test, true);
  const double t0 = now(), c0 = cpu_now();
  std::int64_t samples = 0;
  for (int r = 0; r < repeat; ++r) samples += engine.run(test, false).samples;
  return {static_cast<double>(samples) / (now() - t0), static_cast<double>(samples) / (cpu_now() - c0)};
}

Rate measure_eval(const ann::ReferenceInference& inference, const datasets::Dataset& test, datasets::InputEncoding input,
                  int threads, int repeat, ann::Evaluation& result) {
  result = ann::evaluate(inference, test, input, threads);  // warm-up
  const double t0 = now(), c0 = cpu_now();
  for (int r = 0; r < repeat; ++r) result = ann::evaluate(inference, test, input, threads);
  const double n = static_cast<double>(repeat) * static_cast<double>(test.size());
  return {n / (now() - t0), n / (cpu_now() - c0)};
}

std::int64_t disagreements(const std::vector<int>& a, const std::vector<int>& b) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

/// One shipped network: float eval of the Keras model against the single-pass engine on the same
/// images, same threads, for each weight format and input encoding (the ratios of issue 18).
void bench_shipped(const std::filesystem::path& file, const datasets::Dataset& test, int threads, int repeat) {
  const ann::Model model = keras::load_model(file);
  const ann::ReferenceInference inference(model);
  std::printf("\n[%s, %lld images]\n", file.filename().c_str(), static_cast<long long>(test.size()));
  for (const auto input : {snn::InputEncoding::Threshold, snn::InputEncoding::Bitplanes}) {
    const bool threshold = input == snn::InputEncoding::Threshold;
    const auto eval_input = threshold ? datasets::InputEncoding::Binary : datasets::InputEncoding::Real;
    ann::Evaluation eval;
    const Rate eval_rate = measure_eval(inference, test, eval_input, threads, repeat, eval);
    std::printf("  %-44s %10.0f samples/s %10.0f per CPU-s   accuracy %.4f\n",
                threshold ? "float eval, binary input (baseline)" : "float eval, real input (baseline)", eval_rate.wall,
                eval_rate.cpu, eval.accuracy);
    for (const char* weights : {"Q4.8", "float"}) {
      passes::ConvertOptions options;
      options.input = input;
      options.weights = passes::parse_weight_format(weights);
      const snn::SinglePassEngine engine(passes::convert_single_pass(model, options).network, file.filename().string());
      snn::SinglePassRun run;
      const Rate rate = measure(engine, test, repeat, run);
      const std::string label = std::string("single-pass, ") + weights + (threshold ? ", threshold input" : ", bit planes");
      std::printf("  %-44s %10.0f samples/s %10.0f per CPU-s   accuracy %.4f   RATIO %.2fx eval (wall), %.2fx (CPU)\n",
                  label.c_str(), rate.wall, rate.cpu, run.accuracy, rate.wall / eval_rate.wall, rate.cpu / eval_rate.cpu);
      std::printf("      path %s, accumulator %s, spikes/sample %.1f, synaptic events/sample %.1f, "
                  "classes differing from float eval %lld / %lld\n",
                  engine.path().c_str(), engine.accumulator().c_str(), run.spikes_per_sample(),
                  run.synaptic_events_per_sample(), static_cast<long long>(disagreements(run.predictions, eval.predictions)),
                  static_cast<long long>(test.size()));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, repeat = 40;
  std::int64_t conv_images = 2000;
  bool shipped_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--shipped-only") shipped_only = true;
    if (i + 1 >= argc) continue;
    if (arg == "--threads") threads = std::atoi(argv[i + 1]);
    if (arg == "--repeat") repeat = std::atoi(argv[i + 1]);
    if (arg == "--conv-images") conv_images = std::atoll(argv[i + 1]);
  }
  ThreadLimit limit(threads);
  const auto test = datasets::load("mnist", datasets::Split::Test);
  std::printf("single_pass_throughput: MNIST test (%lld images), %d threads\n", static_cast<long long>(test.size()), threads);
  {
    double load[3] = {0, 0, 0};
    std::ifstream("/proc/loadavg") >> load[0] >> load[1] >> load[2];
    std::printf("machine load average at start: %.2f %.2f %.2f (2 cores)\n", load[0], load[1], load[2]);
  }

  // ---- every shipped network and the Whetstone model, fast path vs eval ------------------------
  {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(grindstone::source_dir() / "models/sharpened"))
      if (entry.path().extension() == ".h5") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    if (const auto shared = shared_dir()) files.push_back(*shared / "models/whetstone/whetstone_dense_mnist.h5");
    for (const auto& file : files) {
      const bool conv = file.filename().string().find("conv") != std::string::npos;
      const auto data = conv ? datasets::load("mnist", datasets::Split::Test, {}, conv_images) : test;
      bench_shipped(file, data, threads, conv ? std::max(1, repeat / 20) : std::max(1, repeat / 4));
    }
  }
  if (shipped_only) return 0;

  // ---- dense:100,100, threshold input ---------------------------------------------------------
  const std::filesystem::path sharpened =
      grindstone::source_dir() / "tests/data/sharpened_mnist_dense100_100_binary.h5";
  const bool have_sharpened = std::filesystem::exists(sharpened);
  const ann::Model model = have_sharpened ? keras::load_model(sharpened) : random_dense_100_100(42);
  const char* weights_kind = have_sharpened ? "sharpened tests/data/sharpened_mnist_dense100_100_binary.h5" : "random weights";
  std::printf("\n[dense:100,100, %s, threshold input]\n", weights_kind);

  // Baseline: float evaluation of the ANN (Eigen GEMMs over 64-sample blocks), same threads.
  const ann::ReferenceInference inference(model);
  ann::Evaluation float_eval;
  const Rate eval_rate = measure_eval(inference, test, datasets::InputEncoding::Binary, threads, 5, float_eval);
  std::printf("  %-44s %10.0f samples/s %10.0f per CPU-s   accuracy %.4f\n", "float eval (baseline)", eval_rate.wall,
              eval_rate.cpu, float_eval.accuracy);

  struct Variant {
    const char* label;
    std::string weights;
    snn::SinglePassEngine::Path path;
  };
  const Variant variants[] = {
      {"single-pass, float weights", "float", snn::SinglePassEngine::Path::Auto},
      {"single-pass, Q4.8, event-driven path", "Q4.8", snn::SinglePassEngine::Path::EventDriven},
      {"single-pass, Q4.8", "Q4.8", snn::SinglePassEngine::Path::Auto},
  };
  std::optional<snn::SinglePassEngine> memory_engine;
  for (const Variant& v : variants) {
    passes::ConvertOptions options;
    options.input = snn::InputEncoding::Threshold;
    options.weights = passes::parse_weight_format(v.weights);
    snn::SinglePassEngine engine(passes::convert_single_pass(model, options).network, "dense_100_100", v.path);
    snn::SinglePassRun first;
    const Rate rate = measure(engine, test, repeat, first);
    std::printf("  %-44s %10.0f samples/s %10.0f per CPU-s   accuracy %.4f   %.2fx eval (wall), %.2fx (CPU)\n", v.label,
                rate.wall, rate.cpu, first.accuracy, rate.wall / eval_rate.wall, rate.cpu / eval_rate.cpu);
    std::printf("      path %s, accumulator %s, spikes/sample %.1f, synaptic events/sample %.1f, "
                "classes differing from float eval %lld / %lld\n",
                engine.path().c_str(), engine.accumulator().c_str(), first.spikes_per_sample(),
                first.synaptic_events_per_sample(),
                static_cast<long long>(disagreements(first.predictions, float_eval.predictions)),
                static_cast<long long>(test.size()));
    if (engine.path() == "dense-tiles") memory_engine.emplace(std::move(engine));
  }

  // ---- Whetstone model, bit-plane input --------------------------------------------------------
  const auto shared = shared_dir();
  if (shared) {
    const auto path = *shared / "models/whetstone/whetstone_dense_mnist.h5";
    const ann::Model whetstone = keras::load_model(path);
    std::printf("\n[Whetstone 784-256-64-100 + key, bit-plane input]\n");
    const ann::ReferenceInference winference(whetstone);
    ann::Evaluation wfloat;
    const Rate weval = measure_eval(winference, test, datasets::InputEncoding::Real, threads, 3, wfloat);
    std::printf("  %-44s %10.0f samples/s %10.0f per CPU-s   accuracy %.4f\n", "float eval, real input (baseline)",
                weval.wall, weval.cpu, wfloat.accuracy);
    for (const char* weights : {"float", "Q4.8"}) {
      passes::ConvertOptions options;
      options.input = snn::InputEncoding::Bitplanes;
      options.weights = passes::parse_weight_format(weights);
      const snn::SinglePassEngine wengine(passes::convert_single_pass(whetstone, options).network, "whetstone");
      snn::SinglePassRun wrun;
      const Rate rate = measure(wengine, test, repeat / 4 + 1, wrun);
      std::printf("  single-pass, %-31s %10.0f samples/s %10.0f per CPU-s   accuracy %.4f   %.2fx eval (wall), %.2fx (CPU)\n",
                  weights, rate.wall, rate.cpu, wrun.accuracy, rate.wall / weval.wall, rate.cpu / weval.cpu);
      std::printf("      path %s, accumulator %s, spikes/sample %.1f, synaptic events/sample %.1f, exact re-checks %lld, "
                  "classes differing from float eval %lld / %lld\n",
                  wengine.path().c_str(), wengine.accumulator().c_str(), wrun.spikes_per_sample(),
                  wrun.synaptic_events_per_sample(), static_cast<long long>(wrun.exact_rechecks),
                  static_cast<long long>(disagreements(wrun.predictions, wfloat.predictions)),
                  static_cast<long long>(test.size()));
    }
  } else {
    std::printf("\nSKIP Whetstone model: ../shared not found\n");
  }

  // ---- peak memory: 10k vs 60k samples ------------------------------------------------------
  std::printf("\n[peak RSS of the dense:100,100 Q4.8 run; datasets are loaded before the measurement]\n");
  for (const auto split : {datasets::Split::Test, datasets::Split::Train}) {
    const auto data = datasets::load("mnist", split);
    const long before = status_kb("VmRSS:");
    reset_peak_rss();
    const auto run = memory_engine->run(data, false);
    const long peak = status_kb("VmHWM:");
    std::printf("  %lld samples: RSS before run %ld kB, peak during run %ld kB, engine growth %ld kB (%.0f samples/s)\n",
                static_cast<long long>(run.samples), before, peak, peak - before, run.samples_per_second);
  }
  return 0;
}
