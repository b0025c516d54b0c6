// Throughput of the float reference inference (`grindstone eval`) on the MNIST test set, against
// a naive single-threaded baseline (plain nested loops, no Eigen, one sample at a time) measured
// in the same run. Targets (2 threads): dense MLP ≥ 100,000 samples/s, LeNet-5 ≥ 5,000 samples/s.
//
// With --accuracy it also checks every model of ../shared/models against its README accuracy on
// all 10,000 test images (the e2e test runs the big CNN on a prefix only, to stay fast).
//
// Usage: bench_eval_throughput [--threads N] [--repeats R] [--naive-limit N] [--accuracy]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <sys/resource.h>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/paths.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"

using namespace grindstone;
using namespace grindstone::ann;

namespace {

/// The naive baseline: one sample at a time, plain loops over the model's layers.
class NaiveForward {
 public:
  explicit NaiveForward(const Model& model) : model_(model) {}

  int predict(const std::vector<float>& input) const {
    std::vector<std::vector<float>> values(model_.layers.size());
    for (std::size_t li = 0; li < model_.layers.size(); ++li) {
      const Layer& l = model_.layers[li];
      if (l.is<InputLayer>()) {
        values[li] = input;
        continue;
      }
      const auto src = static_cast<std::size_t>(l.inputs.front());
      values[li] = apply(l, model_.layers[src].output_shape, values[src]);
    }
    const auto& out = values[static_cast<std::size_t>(model_.output)];
    return static_cast<int>(std::max_element(out.begin(), out.end()) - out.begin());
  }

 private:
  static std::vector<float> apply(const Layer& l, const Shape& in_shape, const std::vector<float>& x) {
    if (l.is<Dense>()) {
      const auto& d = l.as<Dense>();
      std::vector<float> y(static_cast<std::size_t>(d.kernel.cols()));
      for (Eigen::Index o = 0; o < d.kernel.cols(); ++o) {
        float acc = d.bias(o);
        for (Eigen::Index i = 0; i < d.kernel.rows(); ++i) acc += x[static_cast<std::size_t>(i)] * d.kernel(i, o);
        y[static_cast<std::size_t>(o)] = acc;
      }
      return y;
    }
    if (l.is<Conv2D>()) return conv(l.as<Conv2D>(), in_shape, l.output_shape, x);
    if (l.is<Pool2D>()) return pool(l.as<Pool2D>(), in_shape, l.output_shape, x);
    if (l.is<Flatten>()) {
      if (l.as<Flatten>().order == Flatten::Order::HWC) return x;
      const auto H = in_shape[0], W = in_shape[1], C = in_shape[2];
      std::vector<float> y(x.size());
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t w = 0; w < W; ++w)
          for (std::int64_t c = 0; c < C; ++c)
            y[static_cast<std::size_t>((c * H + h) * W + w)] = x[static_cast<std::size_t>((h * W + w) * C + c)];
      return y;
    }
    if (l.is<Activation>()) {
      const auto& a = l.as<Activation>();
      std::vector<float> y = x;
      if (a.kind == ActivationKind::ReLU) {
        for (auto& v : y) v = v > 0.0f ? v : 0.0f;
      } else if (a.kind == ActivationKind::Softmax) {
        float m = -std::numeric_limits<float>::infinity(), sum = 0.0f;
        for (float v : y) m = std::max(m, v);
        for (auto& v : y) sum += (v = std::exp(v - m));
        for (auto& v : y) v /= sum;
      } else if (a.kind != ActivationKind::Linear) {
        throw InputError("naive baseline: activation of layer '" + l.name + "' not supported");
      }
      return y;
    }
    if (l.is<Identity>() || l.is<Reshape>()) return x;
    throw InputError("naive baseline: layer '" + l.name + "' (" + l.keras_class + ") not supported");
  }

  static std::vector<float> conv(const Conv2D& c, const Shape& in, const Shape& out, const std::vector<float>& x) {
    const auto H = in[0], W = in[1], C = in[2], OH = out[0], OW = out[1];
    std::int64_t pad_top = 0, pad_left = 0;
    if (c.padding == Padding::Same) {
      pad_top = std::max<std::int64_t>((OH - 1) * c.stride_h + (c.kernel_h - 1) * c.dilation_h + 1 - H, 0) / 2;
      pad_left = std::max<std::int64_t>((OW - 1) * c.stride_w + (c.kernel_w - 1) * c.dilation_w + 1 - W, 0) / 2;
    }
    std::vector<float> y(static_cast<std::size_t>(OH * OW * c.filters));
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow)
        for (int f = 0; f < c.filters; ++f) {
          float acc = c.bias(f);
          for (int i = 0; i < c.kernel_h; ++i)
            for (int j = 0; j < c.kernel_w; ++j) {
              const auto ih = oh * c.stride_h - pad_top + i * c.dilation_h;
              const auto iw = ow * c.stride_w - pad_left + j * c.dilation_w;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (std::int64_t ch = 0; ch < C; ++ch)
                acc += x[static_cast<std::size_t>((ih * W + iw) * C + ch)] * c.kernel((i * c.kernel_w + j) * C + ch, f);
            }
          y[static_cast<std::size_t>((oh * OW + ow) * c.filters + f)] = acc;
        }
    return y;
  }

  static std::vector<float> pool(const Pool2D& p, const Shape& in, const Shape& out, const std::vector<float>& x) {
    if (p.kind != PoolKind::Max || p.padding != Padding::Valid)
      throw InputError("naive baseline: only valid max pooling is supported");
    const auto W = in[1], C = in[2], OH = out[0], OW = out[1];
    std::vector<float> y(static_cast<std::size_t>(OH * OW * C));
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow)
        for (std::int64_t c = 0; c < C; ++c) {
          float m = -std::numeric_limits<float>::infinity();
          for (int i = 0; i < p.pool_h; ++i)
            for (int j = 0; j < p.pool_w; ++j)
              m = std::max(m, x[static_cast<std::size_t>(((oh * p.stride_h + i) * W + ow * p.stride_w + j) * C + c)]);
          y[static_cast<std::size_t>((oh * OW + ow) * C + c)] = m;
        }
    return y;
  }

  const Model& model_;
};

/// CPU seconds used by the whole process so far (all threads): robust against other load on a
/// shared machine, unlike wall time.
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Result {
  double ref_samples_per_second = 0, ref_accuracy = 0, naive_samples_per_second = 0;
  double ref_samples_per_cpu_second = 0, naive_samples_per_cpu_second = 0;
  std::int64_t ref_samples = 0, naive_samples = 0, naive_disagreements = 0;
};

Result measure(const Model& model, const datasets::Dataset& data, int threads, int repeats, std::int64_t naive_limit) {
  Result r;
  const ReferenceInference inference(model);
  Evaluation best;
  for (int rep = 0; rep < repeats; ++rep) {
    const double cpu0 = process_cpu_seconds();
    auto ev = evaluate(inference, data, datasets::InputEncoding::Real, threads);
    const double cpu = process_cpu_seconds() - cpu0;
    r.ref_samples_per_cpu_second = std::max(r.ref_samples_per_cpu_second, static_cast<double>(ev.samples) / cpu);
    if (rep == 0 || ev.samples_per_second > best.samples_per_second) best = std::move(ev);
  }
  r.ref_samples = best.samples;
  r.ref_accuracy = best.accuracy;
  r.ref_samples_per_second = best.samples_per_second;

  const NaiveForward naive(model);
  r.naive_samples = std::min<std::int64_t>(naive_limit, data.size());
  const double cpu0 = process_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  std::vector<float> input(static_cast<std::size_t>(data.pixels_per_image()));
  for (std::int64_t i = 0; i < r.naive_samples; ++i) {
    datasets::encode_images(data.image(i), 1, data.pixels_per_image(), datasets::InputEncoding::Real, input.data());
    if (naive.predict(input) != best.predictions[static_cast<std::size_t>(i)]) ++r.naive_disagreements;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.naive_samples_per_second = static_cast<double>(r.naive_samples) / seconds;
  r.naive_samples_per_cpu_second = static_cast<double>(r.naive_samples) / (process_cpu_seconds() - cpu0);
  return r;
}

/// Every shared model against the accuracy in ../shared/models/README.md (within 0.0005).
bool check_readme_accuracies(const std::filesystem::path& shared, const datasets::Dataset& data, int threads) {
  struct Case {
    const char* file;
    const char* architecture;
    datasets::InputEncoding encoding;
    double readme;
  };
  const Case cases[] = {
      {"keras/keras2_mlp_logits.h5", "", datasets::InputEncoding::Real, 0.9768},
      {"keras/keras2_lenet5_channels_first.h5", "", datasets::InputEncoding::Real, 0.9914},
      {"keras/keras3_cnn_legacy.h5", "", datasets::InputEncoding::Real, 0.9928},
      {"keras/keras3_mlp.keras", "", datasets::InputEncoding::Real, 0.9797},
      {"keras/keras2_cnn_weights_only.h5", "keras/keras2_cnn_weights_only.json", datasets::InputEncoding::Real, 0.9895},
      {"keras/keras3_mlp_batchnorm.h5", "", datasets::InputEncoding::Real, 0.9830},
      {"whetstone/whetstone_dense_mnist.h5", "", datasets::InputEncoding::Real, 0.9644},
      {"whetstone/whetstone_dense_mnist.h5", "", datasets::InputEncoding::Binary, 0.9551},
  };
  bool all_ok = true;
  std::cout << "README accuracies, all " << data.size() << " test images:\n";
  for (const auto& c : cases) {
    std::optional<std::filesystem::path> architecture;
    if (*c.architecture) architecture = shared / "models" / c.architecture;
    const auto model = keras::load_model(shared / "models" / c.file, architecture);
    const auto ev = evaluate(model, data, c.encoding, threads);
    const bool ok = std::abs(ev.accuracy - c.readme) <= 0.0005;
    all_ok = all_ok && ok;
    std::cout << std::fixed << "  " << c.file << " (" << datasets::to_string(c.encoding) << "): "
              << std::setprecision(4) << ev.accuracy << " vs README " << c.readme << (ok ? " ok" : " MISMATCH")
              << std::setprecision(1) << " (" << ev.seconds << " s)\n";
  }
  return all_ok;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, repeats = 3;
  std::int64_t naive_limit = 2000;
  bool check_accuracy = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--accuracy") check_accuracy = true;
    else if (a == "--threads" && has_value) threads = std::atoi(argv[++i]);
    else if (a == "--repeats" && has_value) repeats = std::max(1, std::atoi(argv[++i]));
    else if (a == "--naive-limit" && has_value) naive_limit = std::max(1, std::atoi(argv[++i]));
    else {
      std::cerr << "usage: bench_eval_throughput [--threads N] [--repeats R] [--naive-limit N] [--accuracy]\n";
      return 2;
    }
  }
  try {
    const auto shared = shared_dir();
    if (!shared) throw InputError("../shared not found (models and MNIST are needed)");
    const auto data = datasets::load("mnist", datasets::Split::Test);
    struct Target {
      const char* file;
      double target;
    };
    const Target targets[] = {{"keras2_mlp_logits.h5", 100000.0}, {"keras2_lenet5_channels_first.h5", 5000.0}};
    bool all_met = true;
    std::cout << "threads " << threads << ", best of " << repeats << " runs over " << data.size()
              << " MNIST test images; naive baseline: 1 thread, first " << naive_limit << " images\n";
    for (const auto& t : targets) {
      const auto model = keras::load_model(*shared / "models" / "keras" / t.file, std::nullopt);
      const Result r = measure(model, data, threads, repeats, naive_limit);
      const bool met = r.ref_samples_per_second >= t.target;
      all_met = all_met && met;
      std::cout << std::fixed << std::setprecision(0) << t.file << ": reference " << r.ref_samples_per_second
                << " samples/s (accuracy " << std::setprecision(4) << r.ref_accuracy << "), naive "
                << std::setprecision(0) << r.naive_samples_per_second << " samples/s, speed-up "
                << std::setprecision(1) << r.ref_samples_per_second / r.naive_samples_per_second << "x, target "
                << std::setprecision(0) << t.target << " " << (met ? "met" : "MISSED")
                << ", naive/reference disagreements " << r.naive_disagreements << "/" << r.naive_samples << "\n"
                << "    per CPU-second (all threads): reference " << r.ref_samples_per_cpu_second << ", naive "
                << r.naive_samples_per_cpu_second << ", ratio " << std::setprecision(1)
                << r.ref_samples_per_cpu_second / r.naive_samples_per_cpu_second << "x\n";
    }
    if (check_accuracy) all_met = check_readme_accuracies(*shared, data, threads) && all_met;
    return all_met ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "bench_eval_throughput: " << e.what() << "\n";
    return 2;
  }
}
