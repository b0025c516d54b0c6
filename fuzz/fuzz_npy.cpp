// numpy .npy and .npz readers (users' own data): the first byte picks which.
#include "datasets/npy.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace grindstone;
  if (size > 0 && data[0] == 'P') {  // zip local-file signature "PK": an .npz
    const auto path = fuzz::write_input(data, size, ".npz");
    return fuzz::expect_input_error_only([&] { (void)datasets::read_npz(path); });
  }
  return fuzz::expect_input_error_only([&] { (void)datasets::parse_npy({data, size}, "fuzz.npy"); });
}
