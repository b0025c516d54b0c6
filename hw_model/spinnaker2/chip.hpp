#pragma once
// A SpiNNaker 2 chip and machine: 152 PEs in 38 quad-PE groups (QPEs), a QPE NoC, two LPDDR4
// channels, chip-to-chip links, and the energy parameters. Plain Params, no behaviour beyond
// derived capacities and the energy sum.
// Sources: datasheet v0.03 [V] (152 PEs, 128 KB SRAM each, 6 chip links, 2 LPDDR4, 6.4 GB/s);
// Kelber et al., NICE 2021 (seed 000_9273486a794bc3be) [V] (152 PEs, QPE = 4 PEs, 300 MHz max PE
// clock, 4.6 TOPS @ 3.8 TOPS/W measured on the Jib1 prototype).
#include <cstdint>

#include "hw_model/spinnaker2/dram.hpp"
#include "hw_model/spinnaker2/noc.hpp"
#include "hw_model/spinnaker2/pe.hpp"
#include "hw_model/spinnaker2/units.hpp"

namespace grindstone::hw::s2 {

struct EnergyParams {
  /// MAC-array efficiency in int8 operations per joule (1 MAC = 2 ops), charged on busy MAC
  /// slots. Source: seed slides [V] "4.6 TOPS @ 3.8 TOPS/W (Jib1 prototype measurement)".
  double mac_ops_per_joule = 3.8e12;
  /// ARM core energy per active cycle, joules. ASSUMPTION: ≈10 pJ/cycle (≈10 µW/MHz for an M4F
  /// with SRAM in 22FDX near 0.5–0.8 V; no SpiNNaker 2 measurement in our sources).
  double arm_joules_per_cycle = 10e-12;
  /// NoC energy per payload byte per hop, joules. ASSUMPTION (≈0.1 pJ/bit/hop).
  double noc_joules_per_byte_hop = 0.8e-12;
  /// Chip-to-chip link energy per byte, joules. ASSUMPTION (≈10 pJ/bit SERDES).
  double chip_link_joules_per_byte = 80e-12;
  /// LPDDR4 energy per byte read, joules. ASSUMPTION (≈5 pJ/bit incl. PHY).
  double dram_joules_per_byte = 40e-12;
  /// Baseline (static + clock tree + idle PEs) power of one powered chip, watts, charged over the
  /// modelled time. ASSUMPTION: 0.3 W (SpiNNaker 1 draws ≈1 W per chip [V]; SpiNNaker 2 targets
  /// >10× better efficiency [V]).
  double chip_baseline_watts = 0.3;
};

struct ChipParams {
  /// PEs per chip. Source: datasheet v0.03 and Gonzalez et al. 2024 [V] 152 (other sources: 153,
  /// 144; 148 user-visible [U]).
  int pes = 152;
  /// PEs per QPE. Source: Höppner et al. 2021 [V], seed slides [V].
  int pes_per_qpe = 4;
  /// PE clock. Source: seed slides [V] "300 MHz PE max clk" (DVFS points 100/250/500 MHz on
  /// prototypes [V]; FAQ "400 MHz?" [U]). Overridden by --clock-mhz.
  Clock clock{300e6};
  /// NoC clock. ASSUMPTION: the NoC runs at the PE clock (so it follows --clock-mhz); its own
  /// frequency is not in our sources — settled by the clocking section of a later datasheet or
  /// by timing a NoC transfer of known size between two QPEs.
  NocClock noc_clock() const { return NocClock{clock.hz}; }
  PeParams pe;
  Noc::Params noc;
  Dram::Params dram;
  EnergyParams energy;

  int qpes() const { return (pes + pes_per_qpe - 1) / pes_per_qpe; }
  int qpe_of(int pe) const { return pe / pes_per_qpe; }
  /// Peak int8 MAC throughput of one chip, MAC/s.
  double peak_macs_per_second() const { return static_cast<double>(pes) * pe.mac.macs_per_cycle * clock.hz; }
};

/// A machine of `chips` identical chips.
struct MachineParams {
  ChipParams chip;
  /// Chips available (--chips).
  int chips = 1;
  std::int64_t total_pes() const { return std::int64_t{chips} * chip.pes; }
  std::int64_t total_sram_bytes() const { return total_pes() * chip.pe.usable_sram_bytes(); }
  std::int64_t total_dram_bytes() const { return std::int64_t{chips} * chip.dram.capacity_bytes; }
};

/// Activity of a run, from which energy is computed.
struct Activity {
  std::int64_t mac_slots = 0;       ///< busy MAC-lane cycles × lanes (8-bit lane equivalents)
  std::int64_t arm_cycles = 0;      ///< active ARM cycles, all cores
  std::int64_t noc_byte_hops = 0;
  std::int64_t chip_link_bytes = 0;
  std::int64_t dram_bytes = 0;
  Seconds elapsed;                  ///< modelled time the machine was powered
  int chips = 1;
};

struct EnergyBreakdown {
  double mac_joules = 0, arm_joules = 0, noc_joules = 0, chip_link_joules = 0, dram_joules = 0, baseline_joules = 0;
  double total() const { return mac_joules + arm_joules + noc_joules + chip_link_joules + dram_joules + baseline_joules; }
};

EnergyBreakdown energy(const EnergyParams& params, const Activity& activity);

}  // namespace grindstone::hw::s2
