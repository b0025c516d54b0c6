#include "converter/sharpen/key.hpp"

#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/random.hpp"

namespace grindstone::sharpen {

namespace {
constexpr std::uint64_t kKeyStream = 0x6b6579;  // "key"
}

ann::Matrix generate_key(int num_classes, int width, bool overlapping, std::uint64_t seed) {
  require_input(num_classes > 0, "--key-width", "need at least one class");
  require_input(width >= num_classes, "--key-width",
                std::to_string(width) + " is smaller than the " + std::to_string(num_classes) +
                    " classes (each class needs at least one output neuron)");
  const int per_class = width / num_classes;
  ann::Matrix key = ann::Matrix::Zero(num_classes, width);
  std::vector<int> pool(static_cast<std::size_t>(width));
  std::iota(pool.begin(), pool.end(), 0);
  std::uint64_t counter = 0;
  for (int c = 0; c < num_classes; ++c) {
    std::vector<int> valid = pool;
    // Partial Fisher–Yates: the first per_class entries are a uniform sample without replacement.
    for (int i = 0; i < per_class; ++i) {
      const auto remaining = static_cast<std::uint64_t>(valid.size()) - static_cast<std::uint64_t>(i);
      const auto j = static_cast<std::size_t>(i) + static_cast<std::size_t>(random_bits(seed, kKeyStream, counter++) % remaining);
      std::swap(valid[static_cast<std::size_t>(i)], valid[j]);
      key(c, valid[static_cast<std::size_t>(i)]) = 1.0f;
    }
    if (!overlapping) {
      std::vector<int> left;
      for (int idx : pool)
        if (key(c, idx) == 0.0f) left.push_back(idx);
      pool = std::move(left);
    }
  }
  return key;
}

}  // namespace grindstone::sharpen
