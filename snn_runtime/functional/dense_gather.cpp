#include "snn_runtime/functional/dense_gather.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/error.hpp"
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace grindstone::snn::functional {
namespace {

using V16 = std::int16_t __attribute__((vector_size(32)));
using Half = std::int16_t __attribute__((vector_size(16)));
using V32 = std::int32_t __attribute__((vector_size(32)));
constexpr std::int16_t kMax = 32767;

}  // namespace

bool DenseGather16::fits(const std::vector<std::int64_t>& weights, std::int64_t rows, std::int64_t cols) {
  if (static_cast<std::int64_t>(weights.size()) != rows * cols) return false;
  std::vector<std::int64_t> bound(static_cast<std::size_t>(cols), 0);
  for (std::int64_t j = 0; j < rows; ++j)
    for (std::int64_t i = 0; i < cols; ++i) bound[static_cast<std::size_t>(i)] += std::llabs(weights[static_cast<std::size_t>(j * cols + i)]);
  return std::all_of(bound.begin(), bound.end(), [](std::int64_t b) { return b <= kMax; });
}

DenseGather16::DenseGather16(const std::vector<std::int64_t>& weights, std::int64_t rows, std::int64_t cols)
    : rows_(rows), cols_(cols), tiles_((cols + kTileNeurons - 1) / kTileNeurons) {
  if (!fits(weights, rows, cols)) throw InternalError("DenseGather16: weights exceed the int16 bound");
  tiled_.assign(static_cast<std::size_t>(tiles_ * rows * kTileNeurons), 0);  // padding lanes: weight 0
  for (std::int64_t j = 0; j < rows; ++j)
    for (std::int64_t i = 0; i < cols; ++i)
      tiled_[static_cast<std::size_t>(((i / kTileNeurons) * rows + j) * kTileNeurons + i % kTileNeurons)] =
          static_cast<std::int16_t>(weights[static_cast<std::size_t>(j * cols + i)]);
}

void DenseGather16::add(const std::int32_t* __restrict fired, std::int64_t count, std::int32_t* __restrict acc) const {
  for (std::int64_t t = 0; t < tiles_; ++t) {
    const std::int16_t* __restrict base = tiled_.data() + t * rows_ * kTileNeurons;
    // Two sets so consecutive rows do not wait on each other's adds.
    V16 a[kTileVectors], b[kTileVectors];
#pragma GCC unroll 8
    for (int r = 0; r < kTileVectors; ++r) a[r] = b[r] = V16{};
    std::int64_t k = 0;
    for (; k + 2 <= count; k += 2) {
      const std::int16_t* r0 = base + std::int64_t{fired[k]} * kTileNeurons;
      const std::int16_t* r1 = base + std::int64_t{fired[k + 1]} * kTileNeurons;
#pragma GCC unroll 8
      for (int r = 0; r < kTileVectors; ++r) {
        V16 w0, w1;
        std::memcpy(&w0, r0 + r * 16, sizeof(V16));
        std::memcpy(&w1, r1 + r * 16, sizeof(V16));
        a[r] += w0;
        b[r] += w1;
      }
    }
    if (k < count) {
      const std::int16_t* r0 = base + std::int64_t{fired[k]} * kTileNeurons;
#pragma GCC unroll 8
      for (int r = 0; r < kTileVectors; ++r) {
        V16 w0;
        std::memcpy(&w0, r0 + r * 16, sizeof(V16));
        a[r] += w0;
      }
    }
    alignas(32) std::int32_t wide[kTileNeurons];
#pragma GCC unroll 8
    for (int r = 0; r < kTileVectors; ++r) {
      const V16 sum = a[r] + b[r];
      const Half lo = __builtin_shufflevector(sum, sum, 0, 1, 2, 3, 4, 5, 6, 7);
      const Half hi = __builtin_shufflevector(sum, sum, 8, 9, 10, 11, 12, 13, 14, 15);
      const V32 wl = __builtin_convertvector(lo, V32), wh = __builtin_convertvector(hi, V32);
      std::memcpy(wide + r * 16, &wl, sizeof(V32));
      std::memcpy(wide + r * 16 + 8, &wh, sizeof(V32));
    }
    const std::int64_t first = t * kTileNeurons, n = std::min<std::int64_t>(kTileNeurons, cols_ - first);
    for (std::int64_t i = 0; i < n; ++i) acc[first + i] += wide[i];
  }
}

bool PixelGather16::fits(const std::vector<std::int64_t>& weights, std::int64_t rows, std::int64_t cols) {
  return static_cast<std::int64_t>(weights.size()) == rows * cols &&
         std::all_of(weights.begin(), weights.end(), [](std::int64_t w) { return std::llabs(w) <= kMax; });
}

PixelGather16::PixelGather16(const std::vector<std::int64_t>& weights, std::int64_t rows, std::int64_t cols)
    : rows_(rows), cols_(cols), pairs_((rows + 1) / 2), tiles_((cols + kTileNeurons - 1) / kTileNeurons) {
  if (!fits(weights, rows, cols)) throw InternalError("PixelGather16: a weight exceeds int16");
  tiled_.assign(static_cast<std::size_t>(tiles_ * pairs_ * 2 * kTileNeurons), 0);  // padding: weight 0
  for (std::int64_t j = 0; j < rows; ++j)
    for (std::int64_t i = 0; i < cols; ++i)
      tiled_[static_cast<std::size_t>(((i / kTileNeurons) * pairs_ + j / 2) * 2 * kTileNeurons + (i % kTileNeurons) * 2 + j % 2)] =
          static_cast<std::int16_t>(weights[static_cast<std::size_t>(j * cols + i)]);
}

void PixelGather16::add(const std::uint8_t* pixels, std::int32_t* acc, std::vector<std::int32_t>& pairs) const {
  // Non-zero pixel pairs as (pair index, p0 | p1 << 16): one 32-bit lane pattern for vpmaddwd.
  pairs.resize(static_cast<std::size_t>(2 * pairs_));
  std::int64_t n = 0;
  for (std::int64_t q = 0; q < pairs_; ++q) {
    const std::int32_t p0 = pixels[2 * q], p1 = 2 * q + 1 < rows_ ? pixels[2 * q + 1] : 0;
    pairs[static_cast<std::size_t>(2 * n)] = static_cast<std::int32_t>(q);
    pairs[static_cast<std::size_t>(2 * n + 1)] = p0 | (p1 << 16);
    n += (p0 | p1) != 0;
  }
  for (std::int64_t t = 0; t < tiles_; ++t) {
    const std::int16_t* __restrict base = tiled_.data() + t * pairs_ * 2 * kTileNeurons;
    V32 a[kTileVectors];
#pragma GCC unroll 8
    for (int r = 0; r < kTileVectors; ++r) a[r] = V32{};
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int16_t* row = base + std::int64_t{pairs[static_cast<std::size_t>(2 * k)]} * 2 * kTileNeurons;
      const std::int32_t packed = pairs[static_cast<std::size_t>(2 * k + 1)];
      V32 pv = V32{} + packed;
      V16 px;
      std::memcpy(&px, &pv, sizeof(px));
#pragma GCC unroll 8
      for (int r = 0; r < kTileVectors; ++r) {
        V16 w;
        std::memcpy(&w, row + r * 16, sizeof(w));
#if defined(__AVX2__)
        a[r] += reinterpret_cast<V32>(_mm256_madd_epi16(reinterpret_cast<__m256i>(w), reinterpret_cast<__m256i>(px)));
#else
        for (int l = 0; l < 8; ++l) a[r][l] += std::int32_t{w[2 * l]} * px[2 * l] + std::int32_t{w[2 * l + 1]} * px[2 * l + 1];
#endif
      }
    }
    alignas(32) std::int32_t sums[kTileNeurons];
#pragma GCC unroll 8
    for (int r = 0; r < kTileVectors; ++r) std::memcpy(sums + r * 8, &a[r], sizeof(V32));
    const std::int64_t first = t * kTileNeurons, m = std::min<std::int64_t>(kTileNeurons, cols_ - first);
    for (std::int64_t i = 0; i < m; ++i) acc[first + i] += sums[i];
  }
}

}  // namespace grindstone::snn::functional
