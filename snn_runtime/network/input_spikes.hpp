#pragma once
// From one encoded 8-bit image to the spikes of a network's source populations (ARCHITECTURE.md
// §2 "Inputs"): which neurons of each spike source fire, and at which tick. Shared by every
// engine (single-pass, SpiNNaker 1 executor, SpiNNaker 2 hybrid executor) so that they all see
// the same input spikes.
//
//   * Input population, input_bit = −1, network.input = Threshold: neuron i fires iff
//     pixel_i ≥ 128 (pixel/255 ≥ 0.5 exactly when pixel ≥ 128 — 127/255 < 0.5 ≤ 128/255).
//   * Input population with input_bit = k (network.input = Bitplanes): neuron i fires iff bit k
//     of pixel_i is set (the projection's weight_scale carries 2^k/255).
//   * Bias start source (role Bias, no thresholds): every neuron fires, every sample.
// A source neuron i fires once per sample at its fire tick, pop.fire_tick(i).
// Input populations must have exactly pixels_per_image neurons (neuron i ↔ pixel i, row-major,
// channels-last — the IDX order).
#include <cstdint>
#include <string>
#include <vector>

#include "snn_runtime/network/network.hpp"

namespace grindstone::snn {

/// The spikes of one source population for one sample.
struct PopulationSpikes {
  int population = -1;                ///< index into Network::populations
  std::vector<std::int64_t> neurons;  ///< neurons that fire, ascending
  std::vector<int> ticks;             ///< fire tick of each (pop.fire_tick(neuron)), same length
};

/// How a source population is driven (fixed per network, computed once).
struct SourceDriver {
  int population = -1;  ///< index into Network::populations
  enum class Kind {
    AlwaysOn,   ///< bias start source: all neurons fire every sample
    Threshold,  ///< pixel ≥ 128
    Bit,        ///< bit `bit` of the pixel set
  } kind = Kind::AlwaysOn;
  int bit = -1;  ///< Bit only: 0 = least significant
};

/// True iff `pixel` fires a threshold-encoded input neuron (pixel/255 ≥ 0.5 ⇔ pixel ≥ 128).
constexpr bool threshold_fires(std::uint8_t pixel) { return pixel >= 128; }
/// True iff `pixel` fires bit-plane input neuron k.
constexpr bool bitplane_fires(std::uint8_t pixel, int bit) { return ((pixel >> bit) & 1u) != 0; }

/// Encodes images for one network. Construct once (checks that the network's sources can be
/// driven by images of `pixels_per_image` bytes; InputError naming `context`, the population
/// and field otherwise), then call `encode` per sample from any thread (const, no state).
class InputSpikeEncoder {
 public:
  InputSpikeEncoder(const Network& network, std::int64_t pixels_per_image, const std::string& context);

  /// One driver per source population, in population order.
  const std::vector<SourceDriver>& drivers() const { return drivers_; }
  std::int64_t pixels_per_image() const { return pixels_per_image_; }

  /// The spikes of every source population for `image` (pixels_per_image bytes), one entry per
  /// driver, in the order of drivers() (populations that do not fire get an empty list).
  std::vector<PopulationSpikes> encode(const std::uint8_t* image) const;
  /// Same, reusing `out`'s storage.
  void encode(const std::uint8_t* image, std::vector<PopulationSpikes>& out) const;

  /// Total spikes of the sources for `image` (for spike counts without building lists).
  std::int64_t count_spikes(const std::uint8_t* image) const;

 private:
  const Network* network_;
  std::int64_t pixels_per_image_;
  std::vector<SourceDriver> drivers_;
};

}  // namespace grindstone::snn

namespace grindstone::snn {

/// Writes to `out` the ascending indices i < n whose pixel has bit `bit` set (bit 7 = the
/// threshold encoding) and returns how many: the engines' per-sample input encoding.
std::size_t pixels_with_bit(const std::uint8_t* image, std::int32_t n, int bit, std::int32_t* out);

}  // namespace grindstone::snn
