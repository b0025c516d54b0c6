// Single-pass engine throughput on MNIST (2 threads): samples/s against float evaluation of the
// same network (h2's ReferenceInference) in the same run, class agreement with float eval, and
// the engine's peak memory for 10,000 vs 60,000 samples.
//
//   build-<you>/bench/bench_single_pass_throughput [--threads N] [--repeat R]
//
// Networks:
//   * dense:100,100 — 784-100-100-100 + Softmax_Decode(10×100) with threshold input: the
//     sharpened tests/data/sharpened_mnist_dense100_100_binary.h5 when present, else random
//     (seeded) weights; the speed depends on the weights only through the spike counts, which
//     are printed.
//   * the Whetstone model (/work/shared/models/whetstone/whetstone_dense_mnist.h5), bit-plane
//     input, float weights: accuracy and agreement with float eval on all 10,000 test images.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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

std::int64_t disagreements(const std::vector<int>& a, const std::vector<int>& b) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, repeat = 40;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--threads") threads = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--repeat") repeat = std::atoi(argv[i + 1]);
  }
  ThreadLimit limit(threads);
  const auto test = datasets::load("mnist", datasets::Split::Test);
  std::printf("single_pass_throughput: MNIST test (%lld images), %d threads\n", static_cast<long long>(test.size()), threads);
  {
    double load[3] = {0, 0, 0};
    std::ifstream("/proc/loadavg") >> load[0] >> load[1] >> load[2];
    std::printf("machine load average at start: %.2f %.2f %.2f (2 cores)\n", load[0], load[1], load[2]);
  }

  // ---- dense:100,100, threshold input ---------------------------------------------------------
  const std::filesystem::path sharpened =
      std::filesystem::path(GRINDSTONE_SOURCE_DIR) / "tests/data/sharpened_mnist_dense100_100_binary.h5";
  const bool have_sharpened = std::filesystem::exists(sharpened);
  const ann::Model model = have_sharpened ? keras::load_model(sharpened) : random_dense_100_100(42);
  const char* weights_kind = have_sharpened ? "sharpened tests/data/sharpened_mnist_dense100_100_binary.h5" : "random weights";
  passes::ConvertOptions threshold_input;
  threshold_input.input = snn::InputEncoding::Threshold;
  const auto converted = passes::convert_single_pass(model, threshold_input);
  const snn::SinglePassEngine engine(converted.network, "dense_100_100");
  const auto reference = engine.run(test, true);  // warm-up + predictions
  double t0 = now(), c0 = cpu_now();
  std::int64_t samples = 0;
  for (int r = 0; r < repeat; ++r) samples += engine.run(test, false).samples;
  const double sp_rate = static_cast<double>(samples) / (now() - t0);
  const double sp_cpu_rate = static_cast<double>(samples) / (cpu_now() - c0);

  const ann::ReferenceInference inference(model);
  auto float_eval = ann::evaluate(inference, test, datasets::InputEncoding::Binary, threads);  // warm-up
  t0 = now();
  c0 = cpu_now();
  const int float_repeat = 3;
  for (int r = 0; r < float_repeat; ++r) float_eval = ann::evaluate(inference, test, datasets::InputEncoding::Binary, threads);
  const double float_rate = static_cast<double>(float_repeat * test.size()) / (now() - t0);
  const double float_cpu_rate = static_cast<double>(float_repeat * test.size()) / (cpu_now() - c0);
  std::printf("\n[dense:100,100, %s, threshold input, accumulator %s]\n", weights_kind, engine.accumulator().c_str());
  std::printf("  single-pass: %.0f samples/s (%d x %lld samples)\n", sp_rate, repeat, static_cast<long long>(test.size()));
  std::printf("  float eval (ReferenceInference, binary input): %.0f samples/s\n", float_rate);
  std::printf("  speed-up: %.2fx (wall clock)\n", sp_rate / float_rate);
  std::printf("  per CPU-second: single-pass %.0f samples, float eval %.0f samples, speed-up %.2fx\n", sp_cpu_rate,
              float_cpu_rate, sp_cpu_rate / float_cpu_rate);
  std::printf("  spikes/sample %.1f, synaptic events/sample %.1f, exact re-checks %lld\n", reference.spikes_per_sample(),
              reference.synaptic_events_per_sample(), static_cast<long long>(reference.exact_rechecks));
  std::printf("  accuracy single-pass %.4f, float eval %.4f, class disagreements %lld / %lld\n", reference.accuracy,
              float_eval.accuracy, static_cast<long long>(disagreements(reference.predictions, float_eval.predictions)),
              static_cast<long long>(test.size()));

  // ---- Whetstone model, bit-plane input --------------------------------------------------------
  const auto shared = shared_dir();
  if (shared) {
    const auto path = *shared / "models/whetstone/whetstone_dense_mnist.h5";
    const ann::Model whetstone = keras::load_model(path);
    passes::ConvertOptions bitplanes;
    bitplanes.input = snn::InputEncoding::Bitplanes;
    const snn::SinglePassEngine wengine(passes::convert_single_pass(whetstone, bitplanes).network, "whetstone");
    const auto wrun = wengine.run(test, true);
    t0 = now();
    c0 = cpu_now();
    samples = 0;
    for (int r = 0; r < repeat / 4 + 1; ++r) samples += wengine.run(test, false).samples;
    const double w_rate = static_cast<double>(samples) / (now() - t0);
    const double w_cpu_rate = static_cast<double>(samples) / (cpu_now() - c0);
    const ann::ReferenceInference winference(whetstone);
    auto wfloat = ann::evaluate(winference, test, datasets::InputEncoding::Real, threads);
    t0 = now();
    c0 = cpu_now();
    wfloat = ann::evaluate(winference, test, datasets::InputEncoding::Real, threads);
    const double wfloat_rate = static_cast<double>(test.size()) / (now() - t0);
    const double wfloat_cpu_rate = static_cast<double>(test.size()) / (cpu_now() - c0);
    std::printf("\n[Whetstone 784-256-64-100 + key, bit-plane input, float weights]\n");
    std::printf("  single-pass: %.0f samples/s; float eval (real input): %.0f samples/s; speed-up %.2fx\n", w_rate,
                wfloat_rate, w_rate / wfloat_rate);
    std::printf("  per CPU-second: single-pass %.0f samples, float eval %.0f samples, speed-up %.2fx\n", w_cpu_rate,
                wfloat_cpu_rate, w_cpu_rate / wfloat_cpu_rate);
    std::printf("  accuracy single-pass %.4f, float eval %.4f, class disagreements %lld / %lld, exact re-checks %lld\n",
                wrun.accuracy, wfloat.accuracy, static_cast<long long>(disagreements(wrun.predictions, wfloat.predictions)),
                static_cast<long long>(test.size()), static_cast<long long>(wrun.exact_rechecks));
    std::printf("  spikes/sample %.1f, synaptic events/sample %.1f\n", wrun.spikes_per_sample(),
                wrun.synaptic_events_per_sample());
  } else {
    std::printf("\nSKIP Whetstone model: ../shared not found\n");
  }

  // ---- peak memory: 10k vs 60k samples ------------------------------------------------------
  std::printf("\n[peak RSS of the dense:100,100 run; datasets are loaded before the measurement]\n");
  for (const auto split : {datasets::Split::Test, datasets::Split::Train}) {
    const auto data = datasets::load("mnist", split);
    const long before = status_kb("VmRSS:");
    reset_peak_rss();
    const auto run = engine.run(data, false);
    const long peak = status_kb("VmHWM:");
    std::printf("  %lld samples: RSS before run %ld kB, peak during run %ld kB, engine growth %ld kB (%.0f samples/s)\n",
                static_cast<long long>(run.samples), before, peak, peak - before, run.samples_per_second);
  }
  return 0;
}
