#include "datasets/encoding.hpp"

#include "common/error.hpp"

namespace grindstone::datasets {

InputEncoding parse_encoding(const std::string& name) {
  if (name == "real") return InputEncoding::Real;
  if (name == "binary") return InputEncoding::Binary;
  throw InputError("--input: unknown input encoding '" + name + "' (expected real or binary)");
}

std::string to_string(InputEncoding encoding) { return encoding == InputEncoding::Binary ? "binary" : "real"; }

void encode_images(const std::uint8_t* pixels, std::int64_t count, std::int64_t pixels_per_image,
                   InputEncoding encoding, float* out) {
  const std::int64_t n = count * pixels_per_image;
  if (encoding == InputEncoding::Binary) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = pixels[i] >= kBinaryThresholdPixel ? 1.0f : 0.0f;
  } else {
    for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(pixels[i]) / 255.0f;
  }
}

FloatBatch encode_batch(const Dataset& data, std::int64_t first, std::int64_t count, InputEncoding encoding) {
  require_input(first >= 0 && count >= 0 && first + count <= data.size(), data.name,
                "samples: range [" + std::to_string(first) + ", " + std::to_string(first + count) +
                    ") outside the " + std::to_string(data.size()) + " samples");
  FloatBatch batch(count, data.pixels_per_image());
  encode_images(data.image(first), count, data.pixels_per_image(), encoding, batch.data());
  return batch;
}

}  // namespace grindstone::datasets
