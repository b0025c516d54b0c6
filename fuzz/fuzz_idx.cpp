// IDX (MNIST) reader, plain files.
#include "datasets/idx.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = grindstone::fuzz::write_input(data, size, ".idx");
  return grindstone::fuzz::expect_input_error_only([&] { (void)grindstone::datasets::read_idx(path); });
}
