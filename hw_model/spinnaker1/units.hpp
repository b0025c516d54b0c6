#pragma once
// Strong types for the time quantities of a SpiNNaker 1 model, so a tick count is never mistaken
// for a cycle count or a duration, nor a router cycle for a CPU cycle: Ticks (simulation
// timesteps), Cycles (200 MHz ARM968 CPU cycles), RouterCycles (133 MHz router cycles) and
// SimTime (modelled hardware time in integer picoseconds, exact for the 200 MHz clock: 1 cycle =
// 5000 ps).
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

/// Clock domains of a SpiNNaker 1 chip (gem5-style: a cycle count carries its clock domain in
/// its type, so router cycles can never be added to CPU cycles or converted with the wrong clock).
struct CpuDomain {};     ///< ARM968 application/monitor cores
struct RouterDomain {};  ///< multicast router and system bus

/// A count of cycles of the clock domain `Domain`.
template <class Domain>
struct CycleCount {
  std::int64_t value = 0;

  constexpr CycleCount() = default;
  constexpr explicit CycleCount(std::int64_t n) : value(n) {}
  constexpr CycleCount& operator+=(CycleCount o) { value += o.value; return *this; }
  constexpr CycleCount& operator-=(CycleCount o) { value -= o.value; return *this; }
  friend constexpr CycleCount operator+(CycleCount a, CycleCount b) { return CycleCount(a.value + b.value); }
  friend constexpr CycleCount operator-(CycleCount a, CycleCount b) { return CycleCount(a.value - b.value); }
  friend constexpr CycleCount operator*(CycleCount a, std::int64_t k) { return CycleCount(a.value * k); }
  friend constexpr CycleCount operator*(std::int64_t k, CycleCount a) { return CycleCount(a.value * k); }
  friend constexpr auto operator<=>(CycleCount, CycleCount) = default;
};

/// CPU cycles (200 MHz ARM968 clock).
using Cycles = CycleCount<CpuDomain>;
/// Router cycles (133 MHz router clock).
using RouterCycles = CycleCount<RouterDomain>;

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

/// A clock frequency of domain `Domain`: the only way to turn that domain's cycles into time and
/// back.
template <class Domain>
struct ClockOf {
  /// Frequency in hertz.
  double hz = 200e6;

  /// Duration of `c` cycles, rounded to the nearest picosecond.
  SimTime duration(CycleCount<Domain> c) const { return SimTime(std::llround(static_cast<double>(c.value) * 1e12 / hz)); }
  /// Whole cycles that fit in `t` (rounded down).
  CycleCount<Domain> cycles_in(SimTime t) const {
    return CycleCount<Domain>(static_cast<std::int64_t>(std::floor(static_cast<double>(t.ps) * hz * 1e-12 + 1e-9)));
  }
  /// Cycles needed to cover `t` (rounded up).
  CycleCount<Domain> cycles_covering(SimTime t) const {
    return CycleCount<Domain>(static_cast<std::int64_t>(std::ceil(static_cast<double>(t.ps) * hz * 1e-12 - 1e-9)));
  }
};

/// The CPU clock type (kept as `Clock`: most clocks in the model are CPU clocks).
using Clock = ClockOf<CpuDomain>;
using RouterClock = ClockOf<RouterDomain>;

/// ARM968 CPU clock. Source: spinnaker_tools scamp-3.c pll_init "CPUs at 200" MHz; SpiNNMachine
/// clock_speeds_hz = 200e6 (reference §3).
inline constexpr Clock kCpuClock{200e6};
/// Router and system-bus clock. Source: spinnaker_tools scamp-3.c pll_init "system bus and router
/// at 133" MHz (reference §3).
inline constexpr RouterClock kRouterClock{133e6};

}  // namespace grindstone::hw::s1
