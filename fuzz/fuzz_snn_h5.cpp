// Grindstone's own converted networks (.snn.h5), read in this process (no containment).
#include "fuzz/fuzz_support.hpp"
#include "snn_runtime/network/snn_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = grindstone::fuzz::write_input(data, size, ".snn.h5");
  return grindstone::fuzz::expect_input_error_only([&] { (void)grindstone::snn::load_network_in_process(path); });
}
