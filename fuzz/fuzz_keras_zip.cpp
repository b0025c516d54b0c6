// Keras 3 .keras archives (libzip, then config.json and model.weights.h5 from memory).
#include "converter/keras/import.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = grindstone::fuzz::write_input(data, size, ".keras");
  return grindstone::fuzz::expect_input_error_only([&] { (void)grindstone::keras::load_model_in_process(path); });
}
