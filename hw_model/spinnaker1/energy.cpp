#include "hw_model/spinnaker1/energy.hpp"

#include "common/error.hpp"

namespace grindstone::hw::s1 {

double EnergyModel::packet_joules(bool with_payload) const {
  return static_cast<double>(with_payload ? kPacketBitsWithPayload : kPacketBitsNoPayload) * params_.joules_per_packet_bit;
}

EnergyModel::Breakdown EnergyModel::estimate(const Counts& c) const {
  require_input(c.duration.ps >= 0 && c.boards >= 0 && c.chips >= 0 && c.core_active_seconds >= 0 && c.packets_routed >= 0 &&
                    c.payload_packets_routed >= 0 && c.synaptic_events >= 0,
                "energy", "counts must not be negative");
  Breakdown b;
  const double seconds = c.duration.seconds();
  b.idle_joules = c.boards > 0 ? static_cast<double>(c.boards) * params_.idle_board_watts * seconds
                               : static_cast<double>(c.chips) * params_.idle_chip_watts * seconds;
  b.core_joules = params_.active_core_watts * c.core_active_seconds;
  b.packet_joules = static_cast<double>(c.packets_routed) * packet_joules(false) +
                    static_cast<double>(c.payload_packets_routed) * packet_joules(true);
  b.synaptic_joules = static_cast<double>(c.synaptic_events) * params_.joules_per_synaptic_event;
  return b;
}

}  // namespace grindstone::hw::s1
