#pragma once
// A dense projection's integer weights tiled for sums held in vector registers: the post
// neurons go in tiles of kTileNeurons; for each tile, every spike's row slice (int16) is added
// to int16 sums in registers, which are widened into the int32 accumulators once per tile. The
// row-by-row form (add_rows) loads and stores the accumulators once per few rows instead and
// reads twice the bytes per weight. Exact: built only when Σ_j |w(j, i)| ≤ 32767 for every post
// neuron i, so no partial sum of any subset of rows overflows int16.
#include <cstdint>
#include <vector>

namespace grindstone::snn::functional {

class DenseGather16 {
 public:
  static constexpr int kTileVectors = 8;                     ///< 16-lane int16 vectors per tile
  static constexpr int kTileNeurons = kTileVectors * 16;

  /// True when the weights (rows × cols, row-major, integer units) satisfy the int16 bound.
  static bool fits(const std::vector<std::int64_t>& weights, std::int64_t rows, std::int64_t cols);
  /// Requires fits().
  DenseGather16(const std::vector<std::int64_t>& weights, std::int64_t rows, std::int64_t cols);

  /// acc[i] += Σ_k w(fired[k], i) for i < cols.
  void add(const std::int32_t* fired, std::int64_t count, std::int32_t* acc) const;

 private:
  std::int64_t rows_ = 0, cols_ = 0, tiles_ = 0;
  std::vector<std::int16_t> tiled_;  ///< tile t, row j: kTileNeurons weights at (t·rows + j)·kTileNeurons
};

/// The fused bit-plane delivery of a dense first layer as an integer GEMM row: acc[i] +=
/// Σ_j pixel_j · w(j, i) with int16 weights, two pixels per multiply-add (AVX2 vpmaddwd: 16
/// products per instruction, exact in int32 since 2·255·32767 < 2^31), sums of a tile of
/// kTileNeurons in registers, and pixel pairs that are both 0 skipped. Built when every
/// |w| ≤ 32767; the caller's int32 bound covers the whole sum.
class PixelGather16 {
 public:
  static constexpr int kTileVectors = 8;                    ///< 8-lane int32 sums per tile
  static constexpr int kTileNeurons = kTileVectors * 8;

  static bool fits(const std::vector<std::int64_t>& weights, std::int64_t rows, std::int64_t cols);
  PixelGather16(const std::vector<std::int64_t>& weights, std::int64_t rows, std::int64_t cols);

  /// acc[i] += Σ_j pixels[j] · w(j, i) for i < cols; `pairs` is scratch.
  void add(const std::uint8_t* pixels, std::int32_t* acc, std::vector<std::int32_t>& pairs) const;

 private:
  std::int64_t rows_ = 0, cols_ = 0, pairs_ = 0, tiles_ = 0;
  /// tile t, row pair q: kTileNeurons (w(2q, i), w(2q+1, i)) int16 pairs at (t·pairs + q)·2·kTileNeurons
  std::vector<std::int16_t> tiled_;
};

}  // namespace grindstone::snn::functional
