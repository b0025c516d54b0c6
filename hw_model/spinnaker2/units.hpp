#pragma once
// Cycles and time as distinct types, so a cycle count is never mistaken for seconds: converting
// between them always names the clock.
#include <algorithm>
#include <compare>
#include <cstdint>

namespace grindstone::hw::s2 {

/// A count of clock cycles of some clock domain (PE clock unless stated).
struct Cycles {
  std::int64_t count = 0;

  constexpr Cycles() = default;
  constexpr explicit Cycles(std::int64_t n) : count(n) {}
  constexpr Cycles& operator+=(Cycles o) { count += o.count; return *this; }
  friend constexpr Cycles operator+(Cycles a, Cycles b) { return Cycles(a.count + b.count); }
  friend constexpr Cycles operator*(Cycles a, std::int64_t k) { return Cycles(a.count * k); }
  friend constexpr auto operator<=>(Cycles, Cycles) = default;
};

/// A duration in seconds of modelled hardware time.
struct Seconds {
  double value = 0.0;

  constexpr Seconds() = default;
  constexpr explicit Seconds(double s) : value(s) {}
  constexpr Seconds& operator+=(Seconds o) { value += o.value; return *this; }
  friend constexpr Seconds operator+(Seconds a, Seconds b) { return Seconds(a.value + b.value); }
  friend constexpr Seconds operator*(Seconds a, double k) { return Seconds(a.value * k); }
  friend constexpr auto operator<=>(Seconds, Seconds) = default;
};

constexpr Seconds max(Seconds a, Seconds b) { return a.value >= b.value ? a : b; }

/// A clock frequency; the only way to turn cycles into seconds.
struct Clock {
  double hz = 300e6;
  constexpr Seconds duration(Cycles c) const { return Seconds(static_cast<double>(c.count) / hz); }
};

}  // namespace grindstone::hw::s2
