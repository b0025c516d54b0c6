// NIR graphs (.nir, the reference HDF5 layout), read in this process (no containment).
#include "converter/keras/import.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = grindstone::fuzz::write_input(data, size, ".nir");
  return grindstone::fuzz::expect_input_error_only([&] { (void)grindstone::keras::load_model_in_process(path); });
}
