#include "hw_model/spinnaker1/packet.hpp"

#include <bit>

#include "common/error.hpp"

namespace grindstone::hw::s1 {

namespace {

// Control byte without the parity bit.
std::uint8_t control_without_parity(const MulticastPacket& p) {
  return static_cast<std::uint8_t>((p.has_payload ? 0x02u : 0u) | ((p.timestamp & 0x3u) << 2) |
                                   ((static_cast<unsigned>(p.emergency) & 0x3u) << 4) |
                                   (static_cast<unsigned>(PacketType::Multicast) << 6));
}

int ones(const MulticastPacket& p, std::uint8_t control_no_parity) {
  return std::popcount(static_cast<unsigned>(control_no_parity)) + std::popcount(p.key) +
         (p.has_payload ? std::popcount(p.payload) : 0);
}

}  // namespace

std::uint8_t MulticastPacket::control_byte() const {
  const std::uint8_t c = control_without_parity(*this);
  // Odd parity: set the parity bit when the other bits have an even number of ones.
  const bool parity = (ones(*this, c) % 2) == 0;
  return static_cast<std::uint8_t>(c | (parity ? 1u : 0u));
}

bool MulticastPacket::parity_ok(std::uint8_t control) const {
  const int total = std::popcount(static_cast<unsigned>(control)) + std::popcount(key) +
                    (((control & 0x02u) != 0) ? std::popcount(payload) : 0);
  return total % 2 == 1;
}

MulticastPacket MulticastPacket::decode(std::uint8_t control, RoutingKey key, std::uint32_t payload) {
  const auto type = static_cast<PacketType>((control >> 6) & 0x3u);
  require_input(type == PacketType::Multicast, "packet",
                "control byte 0x" + std::to_string(control) + " is not a multicast packet");
  MulticastPacket p;
  p.key = key;
  p.has_payload = (control & 0x02u) != 0;
  p.payload = p.has_payload ? payload : 0;
  p.timestamp = static_cast<std::uint8_t>((control >> 2) & 0x3u);
  p.emergency = static_cast<EmergencyState>((control >> 4) & 0x3u);
  require_input(p.parity_ok(control), "packet", "parity error in packet with key " + std::to_string(key));
  return p;
}

}  // namespace grindstone::hw::s1
