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

}  // namespace grindstone::snn::functional
