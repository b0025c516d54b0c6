// Keras HDF5 models (Keras 2 full and weights-only, Keras 3 legacy .h5), read in this process:
// libhdf5's own crashes on hostile metadata show up here (users are protected from them by
// common/contained, which this harness bypasses on purpose).
#include "converter/keras/import.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = grindstone::fuzz::write_input(data, size, ".h5");
  return grindstone::fuzz::expect_input_error_only([&] { (void)grindstone::keras::load_model_in_process(path); });
}
