#include "common/fixed_point.hpp"

#include <cmath>
#include <regex>

#include "common/error.hpp"

namespace grindstone {

FixedPointFormat FixedPointFormat::parse(const std::string& text, const std::string& what) {
  static const std::regex pattern(R"(^[qQ](\d{1,2})\.(\d{1,2})$)");
  std::smatch m;
  if (!std::regex_match(text, m, pattern))
    throw InputError(what + ": '" + text + "' is not a fixed-point format like Q4.8 or 'float'");
  FixedPointFormat f{std::stoi(m[1]), std::stoi(m[2])};
  if (f.integer_bits + f.fraction_bits < 1 || f.integer_bits + f.fraction_bits > 30)
    throw InputError(what + ": '" + text + "' needs 1 to 30 magnitude bits in all");
  return f;
}

std::string FixedPointFormat::to_string() const {
  std::string s = "Q";
  s += std::to_string(integer_bits);
  s += ".";
  s += std::to_string(fraction_bits);
  return s;
}

std::int32_t FixedPointFormat::quantise(double value, bool* clipped) const {
  const double scaled = std::round(value * scale());
  const double limit = static_cast<double>(max_units());
  const bool clip = std::fabs(scaled) > limit;
  if (clipped) *clipped = clip;
  if (clip) return static_cast<std::int32_t>(scaled > 0 ? limit : -limit);
  return static_cast<std::int32_t>(scaled);
}

}  // namespace grindstone
