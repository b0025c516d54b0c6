// The cost of containing libhdf5 (common/contained.hpp, issue 11 item 1): every Keras model
// file is read first in a forked child, then again in the process. This program times
// keras::load_model (contained) against keras::load_model_in_process (the read alone) on every
// shared model, alternating the two so that machine noise hits both alike, and sets the
// difference against the model's whole `eval` (load + float inference on the 10,000 MNIST test
// images), which is what a user waits for.
//
// Usage: bench_contained_load [--repeats R] [--threads N]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/contained.hpp"
#include "common/error.hpp"
#include "common/paths.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "datasets/dataset.hpp"

using namespace grindstone;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <class F>
double seconds_of(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 21, threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::max(1, std::atoi(argv[++i]));
    } else {
      std::cerr << "usage: bench_contained_load [--repeats R] [--threads N]\n";
      return 2;
    }
  }
  try {
    const auto shared = shared_dir();
    if (!shared) throw InputError("../shared not found (models and MNIST are needed)");
    const auto data = datasets::load("mnist", datasets::Split::Test);
    struct Case {
      const char* file;
      const char* architecture;
    };
    const Case cases[] = {
        {"whetstone/whetstone_dense_mnist.h5", ""},
        {"keras/keras2_mlp_logits.h5", ""},
        {"keras/keras2_lenet5_channels_first.h5", ""},
        {"keras/keras3_cnn_legacy.h5", ""},
        {"keras/keras3_mlp_batchnorm.h5", ""},
        {"keras/keras3_mlp.keras", ""},
        {"keras/keras2_cnn_weights_only.h5", "keras/keras2_cnn_weights_only.json"},
    };
    std::cout << "median of " << repeats << " alternating loads; eval = contained load + float inference on "
              << data.size() << " images, " << threads << " threads\n"
              << "| model | read in process | contained read | difference | eval (median of 3) | difference / eval |\n"
              << "|---|---|---|---|---|---|\n";
    {  // the fixed part: fork a child that does nothing, wait for it
      std::vector<double> empty;
      for (int r = 0; r < repeats; ++r) empty.push_back(seconds_of([] { run_contained("empty", [] {}); }));
      std::cout << std::fixed << std::setprecision(2) << "| (a child that does nothing) | - | " << 1e3 * median(empty)
                << " ms | - | - | - |\n";
    }
    for (const auto& c : cases) {
      const auto path = *shared / "models" / c.file;
      std::optional<std::filesystem::path> arch;
      if (*c.architecture) arch = *shared / "models" / c.architecture;
      std::vector<double> plain, contained, eval;
      for (int r = 0; r < repeats; ++r) {
        plain.push_back(seconds_of([&] { (void)keras::load_model_in_process(path, arch); }));
        contained.push_back(seconds_of([&] { (void)keras::load_model(path, arch); }));
      }
      for (int r = 0; r < 3; ++r)
        eval.push_back(seconds_of([&] {
          const auto model = keras::load_model(path, arch);
          const ann::ReferenceInference inference(model);
          (void)ann::evaluate(inference, data, datasets::InputEncoding::Real, threads);
        }));
      const double p = median(plain), k = median(contained), e = median(eval);
      std::cout << std::fixed << std::setprecision(1) << "| " << c.file << " | " << 1e3 * p << " ms | " << 1e3 * k
                << " ms | " << 1e3 * (k - p) << " ms | " << 1e3 * e << " ms | " << std::setprecision(1)
                << 100.0 * (k - p) / e << " % |\n";
    }
  } catch (const InputError& e) {
    std::cerr << "bench_contained_load: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
