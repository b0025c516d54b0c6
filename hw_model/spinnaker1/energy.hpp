#pragma once
// Energy model of a SpiNNaker 1 run, from counts: idle power of boards (or bare chips) over the
// run, active-core power over the time cores are in use (or busy), packet energy per router
// traversal, and an optional per-synaptic-event term (off by default: the CPU energy is already
// in the active-core power, and the per-event figures in the literature are unverified).
// Sources (reference §3 "Power", spinnaker2-and-performance.md B2): SpiNNMachine version_5.py /
// version_spin1.py: 26.84 W per idle 48-chip board, 0.35 W per idle chip; a boxed board drew
// 31.88 W with all cores idle and 59.38 W with 806 cores active → 0.034 W per active core;
// 25 pJ/bit per packet (Painkras et al.), i.e. 1 nJ per 40-bit packet, 1.8 nJ with payload.
#include <cstdint>

#include "hw_model/spinnaker1/packet.hpp"
#include "hw_model/spinnaker1/units.hpp"

namespace grindstone::hw::s1 {

/// Board-level constants. Source: version_5.py (reference §3).
inline constexpr int kChipsPerBoard = 48;
inline constexpr double kIdleBoardWatts = 26.84;

class EnergyModel {
 public:
  struct Params {
    /// Idle power of one powered 48-chip board (chips, FPGAs, BMP), watts. Source: version_5.py
    /// (26.84 W per idle board).
    double idle_board_watts = kIdleBoardWatts;
    /// Idle power of one chip, watts; used instead of boards when counting bare chips (SpiNN-3
    /// or partial machines). Source: version_spin1.py (0.35 W per idle chip).
    double idle_chip_watts = 0.35;
    /// Extra power of one active application core, watts. Source: (59.38 − 31.88) W / 806 cores
    /// = 0.034 W (version_5.py measurement, reference §3).
    double active_core_watts = 0.034;
    /// Energy per packet bit per router traversal (routing + transmission), joules. Source:
    /// Painkras et al. 25 pJ/bit → 1 nJ per 40-bit packet (version_spin1.py).
    double joules_per_packet_bit = 25e-12;
    /// Energy per synaptic event, joules. Default 0: CPU energy is charged as active-core power
    /// (charging both would double count). Assumption; the ≈8 nJ figure attributed to
    /// Stromatias 2013 is unverified, Sharp et al. 2012 report 43 nJ per PSP whole-system.
    double joules_per_synaptic_event = 0.0;
  };

  /// Counts of one run.
  struct Counts {
    /// Modelled hardware duration of the run.
    SimTime duration;
    /// Powered boards; if 0, `chips` bare chips are charged at idle_chip_watts instead.
    std::int64_t boards = 0;
    /// Powered chips (used only when boards == 0).
    std::int64_t chips = 0;
    /// Σ over application cores of the time each was active, seconds (e.g. cores used ×
    /// duration, as sPyNNaker's estimate does, or busy cycles / 200 MHz for a busy-only model).
    double core_active_seconds = 0.0;
    /// Router traversals of 40-bit packets (a packet crossing h routers counts h).
    std::int64_t packets_routed = 0;
    /// Router traversals of 72-bit (payload) packets.
    std::int64_t payload_packets_routed = 0;
    /// Synaptic events (ring-buffer additions).
    std::int64_t synaptic_events = 0;
  };

  struct Breakdown {
    double idle_joules = 0.0;
    double core_joules = 0.0;
    double packet_joules = 0.0;
    double synaptic_joules = 0.0;
    double total_joules() const { return idle_joules + core_joules + packet_joules + synaptic_joules; }
    /// Mean power over `duration`, watts (0 for a zero duration).
    double mean_watts(SimTime duration) const { return duration.ps > 0 ? total_joules() / duration.seconds() : 0.0; }
  };

  EnergyModel() : EnergyModel(Params{}) {}
  explicit EnergyModel(Params params) : params_(params) {}
  const Params& params() const { return params_; }

  /// idle = boards·idle_board_watts·T (or chips·idle_chip_watts·T); core = active_core_watts ·
  /// core_active_seconds; packets = bits·joules_per_packet_bit (40 or 72 bits each); synaptic =
  /// events·joules_per_synaptic_event. InputError on negative counts.
  Breakdown estimate(const Counts& counts) const;
  /// Energy of one packet traversal, joules (1 nJ for 40 bits with the defaults).
  double packet_joules(bool with_payload) const;

 private:
  Params params_;
};

}  // namespace grindstone::hw::s1
