#pragma once
// A deliberately simple evaluator of single-pass networks used by the conversion tests as an
// oracle independent of the engines: every population is evaluated once, in order, as the sum
// of all its inputs (exact because delays are derived from fire ticks, ARCHITECTURE.md §2), in
// double precision, looping over connectors naively.
#include <cstdint>
#include <vector>

#include "snn_runtime/network/network.hpp"

namespace grindstone::passes::testing {

/// Spikes (0/1) of every population for one 8-bit image (input_shape.size() bytes).
std::vector<std::vector<std::uint8_t>> reference_spikes(const snn::Network& network, const std::uint8_t* image);

/// The decoded class (N-hot key score, or spike count; ties → lowest index).
int reference_class(const snn::Network& network, const std::vector<std::vector<std::uint8_t>>& spikes);

}  // namespace grindstone::passes::testing
