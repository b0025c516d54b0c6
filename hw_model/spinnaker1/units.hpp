#pragma once
// Strong types for the three clocks of a SpiNNaker 1 model, so a tick count is never mistaken for
// a cycle count or a duration: Ticks (simulation timesteps), Cycles (clock cycles of a named
// clock: the 200 MHz ARM968 CPU clock unless stated) and SimTime (modelled hardware time in
// integer picoseconds, exact for the 200 MHz clock: 1 cycle = 5000 ps).
// Converting cycles to time always goes through a Clock, which names the frequency.
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>

namespace grindstone::hw::s1 {

/// A count of simulation timesteps (ticks); one tick is `timestep_us` of modelled biological
/// time (1 ms by default in sPyNNaker, reference §6).
struct Ticks {
  std::int64_t value = 0;

  constexpr Ticks() = default;
  constexpr explicit Ticks(std::int64_t n) : value(n) {}
  constexpr Ticks& operator+=(Ticks o) { value += o.value; return *this; }
  constexpr Ticks& operator-=(Ticks o) { value -= o.value; return *this; }
  constexpr Ticks& operator++() { ++value; return *this; }
  friend constexpr Ticks operator+(Ticks a, Ticks b) { return Ticks(a.value + b.value); }
  friend constexpr Ticks operator-(Ticks a, Ticks b) { return Ticks(a.value - b.value); }
  friend constexpr Ticks operator*(Ticks a, std::int64_t k) { return Ticks(a.value * k); }
  friend constexpr auto operator<=>(Ticks, Ticks) = default;
};

/// A count of clock cycles. Which clock is a property of the quantity (documented where it is
/// declared); CPU cycles (200 MHz) unless stated.
struct Cycles {
  std::int64_t value = 0;

  constexpr Cycles() = default;
  constexpr explicit Cycles(std::int64_t n) : value(n) {}
  constexpr Cycles& operator+=(Cycles o) { value += o.value; return *this; }
  constexpr Cycles& operator-=(Cycles o) { value -= o.value; return *this; }
  friend constexpr Cycles operator+(Cycles a, Cycles b) { return Cycles(a.value + b.value); }
  friend constexpr Cycles operator-(Cycles a, Cycles b) { return Cycles(a.value - b.value); }
  friend constexpr Cycles operator*(Cycles a, std::int64_t k) { return Cycles(a.value * k); }
  friend constexpr Cycles operator*(std::int64_t k, Cycles a) { return Cycles(a.value * k); }
  friend constexpr auto operator<=>(Cycles, Cycles) = default;
};

/// Modelled hardware time (wall-clock time of the simulated machine), integer picoseconds.
/// int64 picoseconds cover ±106 days, far beyond any run.
struct SimTime {
  std::int64_t ps = 0;

  constexpr SimTime() = default;
  constexpr explicit SimTime(std::int64_t picoseconds) : ps(picoseconds) {}
  static constexpr SimTime from_ns(double ns) { return SimTime(static_cast<std::int64_t>(ns * 1e3 + (ns >= 0 ? 0.5 : -0.5))); }
  static constexpr SimTime from_us(double us) { return SimTime(static_cast<std::int64_t>(us * 1e6 + (us >= 0 ? 0.5 : -0.5))); }
  static constexpr SimTime from_seconds(double s) { return SimTime(static_cast<std::int64_t>(s * 1e12 + (s >= 0 ? 0.5 : -0.5))); }
  /// A time later than any reachable time (used for "never", e.g. a dead link's accept time).
  static constexpr SimTime never() { return SimTime(std::numeric_limits<std::int64_t>::max() / 4); }
  constexpr double seconds() const { return static_cast<double>(ps) * 1e-12; }
  constexpr double microseconds() const { return static_cast<double>(ps) * 1e-6; }
  constexpr double nanoseconds() const { return static_cast<double>(ps) * 1e-3; }

  constexpr SimTime& operator+=(SimTime o) { ps += o.ps; return *this; }
  constexpr SimTime& operator-=(SimTime o) { ps -= o.ps; return *this; }
  friend constexpr SimTime operator+(SimTime a, SimTime b) { return SimTime(a.ps + b.ps); }
  friend constexpr SimTime operator-(SimTime a, SimTime b) { return SimTime(a.ps - b.ps); }
  friend constexpr SimTime operator*(SimTime a, std::int64_t k) { return SimTime(a.ps * k); }
  friend constexpr SimTime operator*(std::int64_t k, SimTime a) { return SimTime(a.ps * k); }
  friend constexpr auto operator<=>(SimTime, SimTime) = default;
};

constexpr SimTime max(SimTime a, SimTime b) { return a >= b ? a : b; }
constexpr SimTime min(SimTime a, SimTime b) { return a <= b ? a : b; }

/// A clock frequency: the only way to turn cycles into time and back.
struct Clock {
  /// Frequency in hertz.
  double hz = 200e6;

  /// Duration of `c` cycles, rounded to the nearest picosecond.
  SimTime duration(Cycles c) const { return SimTime(std::llround(static_cast<double>(c.value) * 1e12 / hz)); }
  /// Whole cycles that fit in `t` (rounded down).
  Cycles cycles_in(SimTime t) const {
    return Cycles(static_cast<std::int64_t>(std::floor(static_cast<double>(t.ps) * hz * 1e-12 + 1e-9)));
  }
  /// Cycles needed to cover `t` (rounded up).
  Cycles cycles_covering(SimTime t) const {
    return Cycles(static_cast<std::int64_t>(std::ceil(static_cast<double>(t.ps) * hz * 1e-12 - 1e-9)));
  }
};

/// ARM968 CPU clock. Source: spinnaker_tools scamp-3.c pll_init "CPUs at 200" MHz; SpiNNMachine
/// clock_speeds_hz = 200e6 (reference §3).
inline constexpr Clock kCpuClock{200e6};
/// Router and system-bus clock. Source: spinnaker_tools scamp-3.c pll_init "system bus and router
/// at 133" MHz (reference §3).
inline constexpr Clock kRouterClock{133e6};

}  // namespace grindstone::hw::s1
