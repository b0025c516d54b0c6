// IDX (MNIST) reader, gzip-compressed files (zlib's inflate, then the IDX checks).
#include "datasets/idx.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = grindstone::fuzz::write_input(data, size, ".idx.gz");
  return grindstone::fuzz::expect_input_error_only([&] { (void)grindstone::datasets::read_idx(path); });
}
