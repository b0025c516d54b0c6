#pragma once
// Cycles and time as distinct types, so a cycle count is never mistaken for seconds, nor a NoC
// cycle for a PE cycle (gem5-style clock domains, as hw::s1::CycleCount): converting cycles to
// time always goes through the Clock of their domain.
#include <algorithm>
#include <compare>
#include <cstdint>

namespace grindstone::hw::s2 {

/// Clock domains of a SpiNNaker 2 chip.
struct PeDomain {};   ///< a PE: its ARM core and MAC array (DVFS per PE, --clock-mhz)
struct NocDomain {};  ///< the QPE routers and the data NoC

/// A count of clock cycles of the clock domain `Domain`.
template <class Domain>
struct CycleCount {
  std::int64_t count = 0;

  constexpr CycleCount() = default;
  constexpr explicit CycleCount(std::int64_t n) : count(n) {}
  constexpr CycleCount& operator+=(CycleCount o) { count += o.count; return *this; }
  friend constexpr CycleCount operator+(CycleCount a, CycleCount b) { return CycleCount(a.count + b.count); }
  friend constexpr CycleCount operator*(CycleCount a, std::int64_t k) { return CycleCount(a.count * k); }
  friend constexpr auto operator<=>(CycleCount, CycleCount) = default;
};

/// PE clock cycles (ARM core, MAC array).
using Cycles = CycleCount<PeDomain>;
/// NoC clock cycles (router hops, flits).
using NocCycles = CycleCount<NocDomain>;

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

/// The clock of domain `Domain`; the only way to turn its cycles into seconds.
template <class Domain>
struct DomainClock {
  double hz = 300e6;
  constexpr Seconds duration(CycleCount<Domain> c) const { return Seconds(static_cast<double>(c.count) / hz); }
};

using Clock = DomainClock<PeDomain>;
using NocClock = DomainClock<NocDomain>;

}  // namespace grindstone::hw::s2
