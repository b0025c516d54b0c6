// Mutation test (issue 11): damaged copies of every shared model, of a converted network and of
// the MNIST test images — bit flips, overwritten blocks, zeroed runs, truncations, three in four
// inside the first 6 KB where HDF5 keeps its metadata — must each load or be refused with exit
// code 2 and one line on stderr, within 10 s; none may crash or hang.
// GRINDSTONE_MUTATIONS=N sets the copies per file (default 6, 2 under GRINDSTONE_TEST_QUICK);
// scripts/mutate.sh runs thousands.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_support.hpp"

using grindstone::testing::require_shared;
using grindstone::testing::run_cli;
using grindstone::testing::TempDir;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<char>;

Bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
}

/// One damaged copy of `original`; `kind` cycles through the four damage kinds.
Bytes damage(const Bytes& original, std::mt19937_64& rng, int kind) {
  Bytes b = original;
  if (b.empty()) return b;
  const auto pick = [&](std::size_t len) {
    // Three in four inside the first 6 KB (HDF5's superblock, object headers, heaps).
    const std::size_t span = std::uniform_int_distribution<int>(0, 3)(rng) ? std::min<std::size_t>(b.size(), 6144) : b.size();
    return std::uniform_int_distribution<std::size_t>(0, span > len ? span - len : 0)(rng);
  };
  switch (kind % 4) {
    case 0: {  // bit flips
      const int flips = std::uniform_int_distribution<int>(1, 8)(rng);
      for (int i = 0; i < flips; ++i) b[pick(1)] ^= static_cast<char>(1 << std::uniform_int_distribution<int>(0, 7)(rng));
      break;
    }
    case 1: {  // an overwritten block
      const std::size_t len = std::min<std::size_t>(b.size(), std::uniform_int_distribution<std::size_t>(4, 256)(rng));
      const std::size_t at = pick(len);
      for (std::size_t i = at; i < std::min(b.size(), at + len); ++i) b[i] = static_cast<char>(rng());
      break;
    }
    case 2: {  // a zeroed run
      const std::size_t len = std::min<std::size_t>(b.size(), std::uniform_int_distribution<std::size_t>(8, 512)(rng));
      const std::size_t at = pick(len);
      std::fill(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(std::min(b.size(), at + len)), 0);
      break;
    }
    default:  // a truncation
      b.resize(pick(0));
  }
  return b;
}

int mutations_per_file() {
  if (const char* n = std::getenv("GRINDSTONE_MUTATIONS")) return std::max(1, std::atoi(n));
  return std::getenv("GRINDSTONE_TEST_QUICK") ? 2 : 6;
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

struct Target {
  std::string name;
  fs::path file;                ///< what is damaged
  std::string extension;        ///< of the damaged copy
  std::string command;          ///< CLI arguments; {} is the damaged copy
};

}  // namespace

TEST_CASE("mutation: damaged models, networks and datasets load or are refused with exit 2, never crash or hang") {
  auto shared = require_shared("mutation test");
  if (!shared) return;
  TempDir tmp("mutation");
  const fs::path models = *shared / "models";
  const auto net = tmp / "whetstone.snn.h5";
  REQUIRE(run_cli("convert " + q(models / "whetstone/whetstone_dense_mnist.h5") + " -o " + q(net)).exit_code == 0);
  // A data folder whose test images are damaged (the labels stay intact).
  const auto data_dir = tmp / "data";
  fs::create_directories(data_dir);
  fs::copy_file(*shared / "datasets/mnist/t10k-labels-idx1-ubyte.gz", data_dir / "t10k-labels-idx1-ubyte.gz");
  const auto json = models / "keras/keras2_cnn_weights_only.json";
  std::vector<Target> targets = {
      {"keras2_mlp_logits", models / "keras/keras2_mlp_logits.h5", ".h5", "inspect {}"},
      {"keras2_lenet5", models / "keras/keras2_lenet5_channels_first.h5", ".h5", "inspect {}"},
      {"keras3_cnn_legacy", models / "keras/keras3_cnn_legacy.h5", ".h5", "eval {} --limit 3"},
      {"keras3_mlp.keras", models / "keras/keras3_mlp.keras", ".keras", "inspect {}"},
      {"keras3_mlp_batchnorm", models / "keras/keras3_mlp_batchnorm.h5", ".h5", "inspect {}"},
      {"weights_only", models / "keras/keras2_cnn_weights_only.h5", ".h5", "inspect {} --architecture " + q(json)},
      {"architecture_json", json, ".json", "inspect " + q(models / "keras/keras2_cnn_weights_only.h5") + " --architecture {}"},
      {"whetstone", models / "whetstone/whetstone_dense_mnist.h5", ".h5", "eval {} --limit 3"},
      {"snn.h5", net, ".snn.h5", "run {} --engine single-pass --limit 3"},
      {"idx.gz", *shared / "datasets/mnist/t10k-images-idx3-ubyte.gz", ".gz",
       "eval " + q(models / "whetstone/whetstone_dense_mnist.h5") + " --limit 3 --data-dir " + q(data_dir)},
  };
  const int per_file = mutations_per_file();
  std::mt19937_64 rng(20261204);
  std::map<int, int> exit_codes;
  int files = 0;
  for (const auto& t : targets) {
    const Bytes original = read_bytes(t.file);
    REQUIRE_MESSAGE(!original.empty(), t.file);
    for (int m = 0; m < per_file; ++m) {
      const fs::path copy = t.name == "idx.gz" ? data_dir / "t10k-images-idx3-ubyte.gz" : tmp / ("damaged" + t.extension);
      write_bytes(copy, damage(original, rng, m));
      std::string args = t.command;
      if (const auto at = args.find("{}"); at != std::string::npos) args.replace(at, 2, q(copy));
      // The contained read gives up after 10 s (exit 2); `timeout` kills anything hanging
      // outside it after 30 s (exit 137); a crash shows as 128 + signal.
      const auto r = run_cli(args, 30);
      ++exit_codes[r.exit_code];
      ++files;
      INFO(t.name << " mutation " << m << ": exit " << r.exit_code << ", stderr: " << r.err);
      CHECK((r.exit_code == 0 || r.exit_code == 2));
      if (r.exit_code == 2) {
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      }
    }
  }
  std::ostringstream summary;
  for (const auto& [code, count] : exit_codes) summary << " exit " << code << ": " << count << ";";
  MESSAGE("mutation test: " << files << " damaged files (" << targets.size() << " kinds × " << per_file << "):" << summary.str());
}
