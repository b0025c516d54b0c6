#include "hw_model/spinnaker2/chip.hpp"

namespace grindstone::hw::s2 {

EnergyBreakdown energy(const EnergyParams& p, const Activity& a) {
  EnergyBreakdown e;
  e.mac_joules = 2.0 * static_cast<double>(a.mac_slots) / p.mac_ops_per_joule;
  e.arm_joules = static_cast<double>(a.arm_cycles) * p.arm_joules_per_cycle;
  e.noc_joules = static_cast<double>(a.noc_byte_hops) * p.noc_joules_per_byte_hop;
  e.chip_link_joules = static_cast<double>(a.chip_link_bytes) * p.chip_link_joules_per_byte;
  e.dram_joules = static_cast<double>(a.dram_bytes) * p.dram_joules_per_byte;
  e.baseline_joules = p.chip_baseline_watts * a.chips * a.elapsed.value;
  return e;
}

}  // namespace grindstone::hw::s2
