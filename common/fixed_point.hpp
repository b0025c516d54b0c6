#pragma once
// Signed fixed-point formats Qm.n as used for SpiNNaker weights: m integer bits, n fraction
// bits, sign kept separately (on SpiNNaker the sign selects the excitatory or inhibitory
// receptor), so a Q4.8 magnitude is a 12-bit unsigned number.
#include <cstdint>
#include <optional>
#include <string>

namespace grindstone {

struct FixedPointFormat {
  /// Integer bits of the magnitude (m in Qm.n).
  int integer_bits = 4;
  /// Fraction bits of the magnitude (n in Qm.n); one unit of the integer representation is 2^-n.
  int fraction_bits = 8;

  /// Parses "Q4.8" (case-insensitive 'q'); throws InputError naming `what` on a bad spelling or
  /// on m+n outside 1..30.
  static FixedPointFormat parse(const std::string& text, const std::string& what = "--weights");
  std::string to_string() const;

  /// Largest representable magnitude, in integer units: 2^(m+n) − 1.
  std::int64_t max_units() const { return (std::int64_t{1} << (integer_bits + fraction_bits)) - 1; }
  double scale() const { return static_cast<double>(std::int64_t{1} << fraction_bits); }

  /// Rounds to nearest (ties away from zero) and clips to ±max_units(); `clipped` is set when
  /// the magnitude did not fit.
  std::int32_t quantise(double value, bool* clipped = nullptr) const;
  double dequantise(std::int32_t units) const { return units / scale(); }

  friend bool operator==(const FixedPointFormat&, const FixedPointFormat&) = default;
};

}  // namespace grindstone
