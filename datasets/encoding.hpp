#pragma once
// Input encoders: a batch of uint8 images → float tensors, one sample per row, channels-last
// (H·W·1 values per row, row-major pixel order — the order the IDX file stores them in).
#include <Eigen/Core>
#include <cstdint>
#include <string>

#include "datasets/dataset.hpp"

namespace grindstone::datasets {

/// Row-major so that each sample is one contiguous row.
using FloatBatch = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class InputEncoding {
  Real,    ///< pixel / 255 (what the Keras models in /work/shared/models were trained on)
  Binary,  ///< 1 if pixel / 255 >= 0.5 else 0 (Whetstone's threshold input)
};

/// "real" or "binary"; InputError naming --input otherwise.
InputEncoding parse_encoding(const std::string& name);
std::string to_string(InputEncoding encoding);

/// Binary threshold on the raw byte: pixel / 255 >= 0.5 exactly when pixel >= 128
/// (127/255 ≈ 0.498 < 0.5 ≤ 128/255 ≈ 0.502), so no float rounding is involved.
constexpr std::uint8_t kBinaryThresholdPixel = 128;

/// Encodes one pixel.
inline float encode_pixel(std::uint8_t pixel, InputEncoding encoding) {
  if (encoding == InputEncoding::Binary) return pixel >= kBinaryThresholdPixel ? 1.0f : 0.0f;
  return static_cast<float>(pixel) / 255.0f;
}

/// Encodes `count` images of `pixels_per_image` bytes each into `out` (count × pixels_per_image floats).
void encode_images(const std::uint8_t* pixels, std::int64_t count, std::int64_t pixels_per_image,
                   InputEncoding encoding, float* out);

/// Encodes samples [first, first + count) of `data` into `out` (count × pixels_per_image()
/// floats): uint8 pixels as encode_images does; float inputs (data.values) as given (Real) or
/// value >= 0.5 (Binary — the same cut as pixel >= 128 on their rounded bytes). No range check.
void encode_samples(const Dataset& data, std::int64_t first, std::int64_t count, InputEncoding encoding, float* out);

/// Samples [first, first + count) of `data` as a (count × H·W·C) batch. InputError if out of range.
FloatBatch encode_batch(const Dataset& data, std::int64_t first, std::int64_t count, InputEncoding encoding);

/// The whole dataset as one batch.
inline FloatBatch encode_all(const Dataset& data, InputEncoding encoding) {
  return encode_batch(data, 0, data.size(), encoding);
}

}  // namespace grindstone::datasets
