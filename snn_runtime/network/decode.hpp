#pragma once
// From the output population's spikes to a class (ARCHITECTURE.md §2), shared by every engine.
//
//   * NHotKey (Whetstone Softmax_Decode): x_j = 1 iff output neuron j spiked (count > 0);
//     class c scores Σ_j (2·x_j − 1)(2·key(c, j) − 1) — an integer; key entries ≥ 0.5 count as 1.
//     Ties → the lowest class index.
//   * SpikeCount: output neuron c (c < classes) is class c; arg-max of the spike counts. Ties →
//     the highest membrane potential when decode.tie_break_by_potential and potentials are
//     given, then the lowest class index.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "snn_runtime/network/network.hpp"

namespace grindstone::snn {

/// Checks that `decode` fits an output population of `output_size` neurons (InputError naming
/// `context` and the field otherwise).
void check_decode(const Decode& decode, std::int64_t output_size, const std::string& context);

/// Precomputed decoder (the key as ±1 integers). Thread-safe const use.
class Decoder {
 public:
  Decoder(const Decode& decode, std::int64_t output_size, const std::string& context);

  int classes() const { return classes_; }
  std::int64_t output_size() const { return output_size_; }

  /// Class from per-output-neuron spike counts (size output_size()). `potentials` (same size
  /// or empty) breaks SpikeCount ties when the Decode asks for it.
  int decode(std::span<const std::int32_t> spike_counts, std::span<const float> potentials = {}) const;
  /// Class from 0/1 output bits (NHotKey: the bits; SpikeCount: counts of 0 or 1).
  int decode_bits(std::span<const std::uint8_t> fired) const;
  /// The same class from a bit set of the output neurons that fired (bit j of words[j / 64];
  /// ceil(output_size / 64) words, bits past output_size zero): NHotKey as the smallest Hamming
  /// distance to a class's key (score = size − 2·distance), SpikeCount as the lowest fired class.
  int decode_words(std::span<const std::uint64_t> words) const;

  /// The decode score of every class (classes() values into `out`) for 0/1 output bits: NHotKey
  /// Σ_j (2·x_j − 1)(2·key(c, j) − 1); SpikeCount the bit of class neuron c. The decoded class
  /// is the arg-max (ties → lowest index, as decode_bits).
  void scores(std::span<const std::uint8_t> fired, std::int32_t* out) const;
  /// The same scores from a bit set (as decode_words).
  void scores_words(std::span<const std::uint64_t> words, std::int32_t* out) const;

  /// NHotKey scores of every class for 0/1 output bits (for tests and reports).
  std::vector<std::int32_t> nhot_scores(std::span<const std::uint8_t> fired) const;

 private:
  Decode::Kind kind_;
  int classes_;
  std::int64_t output_size_;
  bool tie_break_by_potential_;
  std::vector<std::int8_t> key_sign_;  ///< classes × output_size, row-major, ±1 (NHotKey)
  std::vector<std::uint64_t> key_bits_;  ///< per class, the key's +1 entries as a bit set (NHotKey)
};

/// One-shot convenience: Decoder(decode, counts.size(), "").decode(counts, potentials).
int decode_class(const Decode& decode, std::span<const std::int32_t> spike_counts,
                 std::span<const float> potentials = {});

}  // namespace grindstone::snn
