// Benchmark of the sharpening trainer: wall time of one MNIST training epoch of dense:256,64
// with 1 and 2 threads (target ≤ 4 s with 2), and of the convolutional network
// conv:32x5,pool:2,conv:64x5,pool:2,dense:500 (timed on the first --conv-samples images and
// scaled to 60,000; the scaling is printed as such).
//
// Usage: bench_sharpen_epoch [--limit N] [--conv-samples N] [--data-dir D]
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "converter/sharpen/architecture.hpp"
#include "converter/sharpen/trainer.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"

using namespace grindstone;
using namespace grindstone::sharpen;

namespace {

/// Seconds for one epoch of `spec` on `x` with `threads` threads (no sharpening, no evaluation).
double epoch_seconds(const std::string& spec, const Batch& x, const std::vector<int>& y, int threads) {
  ThreadLimit limit(threads);
  BuildOptions options;
  Network net = build_from_spec(spec, options);
  SimpleSharpener sharpener(/*start_epoch=*/1000, 1);
  TrainConfig config;
  config.max_epochs = 1;
  config.progress = false;
  const auto start = std::chrono::steady_clock::now();
  train(net, sharpener, x, y, Batch(), {}, config);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::int64_t limit = 0, conv_samples = 6000;
    std::optional<std::filesystem::path> data_dir;
    for (int i = 1; i + 1 < argc; i += 2) {
      if (!std::strcmp(argv[i], "--limit")) limit = std::atoll(argv[i + 1]);
      else if (!std::strcmp(argv[i], "--conv-samples")) conv_samples = std::atoll(argv[i + 1]);
      else if (!std::strcmp(argv[i], "--data-dir")) data_dir = argv[i + 1];
      else throw InputError(std::string("unknown option ") + argv[i]);
    }
    const auto train_data = datasets::load("mnist", datasets::Split::Train, data_dir, limit);
    const Batch x = datasets::encode_all(train_data, datasets::InputEncoding::Real);
    const std::vector<int> y(train_data.labels.begin(), train_data.labels.end());
    std::cout << std::fixed << std::setprecision(2);
    const std::string dense = "dense:256,64";
    const double one = epoch_seconds(dense, x, y, 1);
    const double two = epoch_seconds(dense, x, y, 2);
    std::cout << "dense:256,64 epoch (" << x.rows() << " samples, batch 128): 1 thread " << one << " s, 2 threads "
              << two << " s, speed-up " << one / two << "x\n";

    const std::int64_t n = std::min<std::int64_t>(conv_samples, x.rows());
    const Batch cx = x.topRows(n);
    const std::vector<int> cy(y.begin(), y.begin() + n);
    const std::string conv = "conv:32x5,pool:2,conv:64x5,pool:2,dense:500";
    const double conv_two = epoch_seconds(conv, cx, cy, 2);
    std::cout << conv << ": " << n << " samples in " << conv_two << " s with 2 threads = "
              << conv_two / static_cast<double>(n) * 1000.0 << " ms/sample; scaled to 60000 samples: "
              << conv_two / static_cast<double>(n) * 60000.0 << " s per epoch\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_sharpen_epoch: " << e.what() << '\n';
    return 2;
  }
}
