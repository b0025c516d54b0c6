#include "datasets/encoding.hpp"

#include <algorithm>

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

void encode_samples(const Dataset& data, std::int64_t first, std::int64_t count, InputEncoding encoding, float* out) {
  const std::int64_t per = data.pixels_per_image();
  if (data.values.empty()) {
    encode_images(data.image(first), count, per, encoding, out);
    return;
  }
  const float* v = data.values.data() + first * per;
  const std::int64_t n = count * per;
  if (encoding == InputEncoding::Binary) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = v[i] >= 0.5f ? 1.0f : 0.0f;
  } else {
    std::copy(v, v + n, out);
  }
}

FloatBatch encode_batch(const Dataset& data, std::int64_t first, std::int64_t count, InputEncoding encoding) {
  require_input(first >= 0 && count >= 0 && first + count <= data.size(), data.name,
                "samples: range [" + std::to_string(first) + ", " + std::to_string(first + count) +
                    ") outside the " + std::to_string(data.size()) + " samples");
  FloatBatch batch(count, data.pixels_per_image());
  encode_samples(data, first, count, encoding, batch.data());
  return batch;
}

}  // namespace grindstone::datasets
