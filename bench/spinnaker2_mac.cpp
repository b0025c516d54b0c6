// bench_spinnaker2_mac: speed of the SpiNNaker 2 MAC array's functional model (bit-exact int8
// arithmetic, 29-bit accumulators) against an Eigen int32 GEMM doing the same products, in the
// same run. The products are the dense layers of the shared Whetstone model (784-256-64-100,
// weights quantised to int8 per output column) over the MNIST test set with threshold-encoded
// inputs; each layer's binary output (threshold compare) is the next layer's input.
//
// Usage: bench_spinnaker2_mac [--limit N] [--repeats R]   (one thread for both; thread CPU time)
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "common/paths.hpp"
#include "converter/keras/import.hpp"
#include "datasets/dataset.hpp"
#include "hw_model/spinnaker2/mac_array.hpp"

using namespace grindstone;
using IntMatrix = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

struct Layer {
  std::int64_t k = 0, n = 0;
  std::vector<std::int8_t> weights;     // k×n row-major
  std::vector<std::int32_t> threshold;  // per column, in quantised units
};

// CPU time of this thread: the machine is shared, so wall time would also measure other
// processes; both contenders run on this one thread.
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t limit = 0;
  int repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--limit")) limit = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats")) repeats = std::max(1, std::atoi(argv[i + 1]));
  }
  const auto shared = shared_dir();
  if (!shared) {
    std::fprintf(stderr, "bench_spinnaker2_mac: ../shared not found\n");
    return 2;
  }
  try {
    const ann::Model model = keras::load_model(*shared / "models/whetstone/whetstone_dense_mnist.h5");
    const auto data = datasets::load("mnist", datasets::Split::Test, *shared / "datasets/mnist", limit);
    std::vector<Layer> layers;
    for (const auto& l : model.layers) {
      if (!l.is<ann::Dense>()) continue;
      const auto& d = l.as<ann::Dense>();
      Layer q;
      q.k = d.kernel.rows();
      q.n = d.kernel.cols();
      q.weights.resize(static_cast<std::size_t>(q.k * q.n));
      for (std::int64_t c = 0; c < q.n; ++c) {
        const double scale = 127.0 / std::max(1e-12f, d.kernel.col(c).cwiseAbs().maxCoeff());
        for (std::int64_t r = 0; r < q.k; ++r)
          q.weights[static_cast<std::size_t>(r * q.n + c)] = static_cast<std::int8_t>(std::lround(d.kernel(r, c) * scale));
        q.threshold.push_back(static_cast<std::int32_t>(std::ceil((0.5 - d.bias(c)) * scale)));
      }
      layers.push_back(std::move(q));
    }
    const std::int64_t m = data.size();
    // The inputs of every layer (binary), computed once so both contenders get the same operands.
    std::vector<std::vector<std::uint8_t>> inputs(1, std::vector<std::uint8_t>(static_cast<std::size_t>(m * 784)));
    for (std::size_t i = 0; i < inputs[0].size(); ++i) inputs[0][i] = data.pixels[i] >= 128 ? 1 : 0;
    hw::s2::MacArray mac;
    std::vector<std::vector<std::int32_t>> mac_out(layers.size());
    for (std::size_t li = 0; li < layers.size(); ++li) {
      const Layer& l = layers[li];
      mac_out[li].resize(static_cast<std::size_t>(m * l.n));
      mac.matmul<std::uint8_t, std::int8_t>(inputs[li], l.weights, {m, l.k, l.n}, mac_out[li]);
      std::vector<std::uint8_t> next(static_cast<std::size_t>(m * l.n));
      for (std::int64_t i = 0; i < m * l.n; ++i)
        next[static_cast<std::size_t>(i)] = mac_out[li][static_cast<std::size_t>(i)] >= l.threshold[static_cast<std::size_t>(i % l.n)];
      inputs.push_back(std::move(next));
    }
    // Eigen operands (int32, as a GEMM would take them).
    std::vector<IntMatrix> eigen_in, eigen_w;
    for (std::size_t li = 0; li < layers.size(); ++li) {
      const Layer& l = layers[li];
      IntMatrix a(m, l.k), w(l.k, l.n);
      for (std::int64_t i = 0; i < m * l.k; ++i) a.data()[i] = inputs[li][static_cast<std::size_t>(i)];
      for (std::int64_t i = 0; i < l.k * l.n; ++i) w.data()[i] = l.weights[static_cast<std::size_t>(i)];
      eigen_in.push_back(std::move(a));
      eigen_w.push_back(std::move(w));
    }
    double best_mac = 1e30, best_eigen = 1e30;
    std::int64_t mismatches = 0;
    std::vector<IntMatrix> eigen_out(layers.size());
    for (int rep = 0; rep < repeats; ++rep) {
      double t0 = thread_seconds();
      for (std::size_t li = 0; li < layers.size(); ++li)
        mac.matmul<std::uint8_t, std::int8_t>(inputs[li], layers[li].weights, {m, layers[li].k, layers[li].n}, mac_out[li]);
      best_mac = std::min(best_mac, thread_seconds() - t0);
      t0 = thread_seconds();
      for (std::size_t li = 0; li < layers.size(); ++li) eigen_out[li].noalias() = eigen_in[li] * eigen_w[li];
      best_eigen = std::min(best_eigen, thread_seconds() - t0);
    }
    double macs = 0;
    for (std::size_t li = 0; li < layers.size(); ++li) {
      macs += static_cast<double>(m) * static_cast<double>(layers[li].k * layers[li].n);
      for (std::int64_t i = 0; i < m * layers[li].n; ++i)
        mismatches += eigen_out[li].data()[i] != mac_out[li][static_cast<std::size_t>(i)];
    }
    std::printf("images: %lld, layers: %zu, MACs per pass: %.3e, repeats: %d (best of)\n", static_cast<long long>(m), layers.size(),
                macs, repeats);
    std::printf("MAC functional model: %.4f s CPU  (%.2f GMAC/s)\n", best_mac, macs / best_mac * 1e-9);
    std::printf("Eigen int32 GEMM:     %.4f s CPU  (%.2f GMAC/s)\n", best_eigen, macs / best_eigen * 1e-9);
    std::printf("speed ratio model/Eigen: %.3f  (required >= 0.25)\n", best_eigen / best_mac);
    std::printf("results differing: %lld\n", static_cast<long long>(mismatches));

    // Equal work: dense signed int8 inputs with no zero, so zero gating skips nothing and both
    // contenders do every product (layer 1's shape, 784 × 256, on min(m, 2000) rows).
    const std::int64_t rows = std::min<std::int64_t>(m, 2000), k = layers[0].k, n = layers[0].n;
    std::vector<std::int8_t> dense(static_cast<std::size_t>(rows * k));
    for (std::size_t i = 0; i < dense.size(); ++i) {
      const auto v = static_cast<int>((i * 2654435761u) >> 7 & 0xff) - 128;  // deterministic, spread over int8
      dense[i] = static_cast<std::int8_t>(v == 0 ? 1 : v);
    }
    IntMatrix dense_a(rows, k), dense_out;
    for (std::int64_t i = 0; i < rows * k; ++i) dense_a.data()[i] = dense[static_cast<std::size_t>(i)];
    std::vector<std::int32_t> dense_mac(static_cast<std::size_t>(rows * n));
    double dense_best_mac = 1e30, dense_best_eigen = 1e30;
    for (int rep = 0; rep < repeats; ++rep) {
      double t0 = thread_seconds();
      mac.matmul<std::int8_t, std::int8_t>(dense, layers[0].weights, {rows, k, n}, dense_mac);
      dense_best_mac = std::min(dense_best_mac, thread_seconds() - t0);
      t0 = thread_seconds();
      dense_out.noalias() = dense_a * eigen_w[0];
      dense_best_eigen = std::min(dense_best_eigen, thread_seconds() - t0);
    }
    std::int64_t dense_mismatches = 0;
    for (std::int64_t i = 0; i < rows * n; ++i) dense_mismatches += dense_out.data()[i] != dense_mac[static_cast<std::size_t>(i)];
    const double dense_macs = static_cast<double>(rows * k * n);
    std::printf("\nequal work (dense int8 inputs, no zeros: %lld x %lld x %lld, %.3e MACs)\n", static_cast<long long>(rows),
                static_cast<long long>(k), static_cast<long long>(n), dense_macs);
    std::printf("MAC functional model: %.4f s CPU  (%.2f GMAC/s)\n", dense_best_mac, dense_macs / dense_best_mac * 1e-9);
    std::printf("Eigen int32 GEMM:     %.4f s CPU  (%.2f GMAC/s)\n", dense_best_eigen, dense_macs / dense_best_eigen * 1e-9);
    std::printf("speed ratio model/Eigen: %.3f  (required >= 0.25)\n", dense_best_eigen / dense_best_mac);
    std::printf("results differing: %lld\n", static_cast<long long>(dense_mismatches));
    const bool ok = mismatches == 0 && dense_mismatches == 0 && best_eigen / best_mac >= 0.25 &&
                    dense_best_eigen / dense_best_mac >= 0.25;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_spinnaker2_mac: %s\n", e.what());
    return 2;
  }
}
