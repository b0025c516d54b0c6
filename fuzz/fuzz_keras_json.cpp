// Keras architecture JSON (model.to_json(), the `model_config` attribute, a .keras config.json).
#include "converter/keras/model_config.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return grindstone::fuzz::expect_input_error_only(
      [&] { (void)grindstone::keras::parse_model_config(text, "fuzz.json"); });
}
