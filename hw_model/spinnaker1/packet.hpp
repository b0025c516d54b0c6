#pragma once
// SpiNNaker 1 multicast packets: an 8-bit control byte and a 32-bit routing key (40 bits), plus
// an optional 32-bit payload (72 bits). Source (reference §3): SFEC spinn_extra.h; control byte
// fields parity(1), payload flag(1), timestamp(2), emergency routing(2), type(2), packed here from
// the least significant bit in that order.
#include <cstdint>

namespace grindstone::hw::s1 {

/// A 32-bit multicast routing key.
using RoutingKey = std::uint32_t;

/// Packet types of the control byte. Source: spinn_extra.h (MC=0, P2P=1, NN=2, FR=3).
enum class PacketType : std::uint8_t { Multicast = 0, PointToPoint = 1, NearestNeighbour = 2, FixedRoute = 3 };

/// Emergency-routing state carried in the control byte (2 bits). A packet blocked on link l is
/// sent on link l+1 with state FirstLeg; the next router sends it on (arrival port + 1) with
/// state SecondLeg; the router after that treats it as if it had arrived on (arrival port + 1)
/// and routes it normally. Source: reference §3 (emergency routing field); the leg rule follows
/// the triangle detour of the lattice (assumption: the reference does not spell it out).
enum class EmergencyState : std::uint8_t { Normal = 0, FirstLeg = 1, SecondLeg = 2 };

/// Number of bits on the wire. Source: reference §3 (40 bits; 72 with payload).
inline constexpr int kPacketBitsNoPayload = 40;
inline constexpr int kPacketBitsWithPayload = 72;

/// A multicast packet. Trivially copyable, 12 bytes.
struct MulticastPacket {
  RoutingKey key = 0;
  /// Payload word; meaningful only when has_payload (e.g. sPyNNaker Poisson spike counts).
  std::uint32_t payload = 0;
  bool has_payload = false;
  EmergencyState emergency = EmergencyState::Normal;
  /// 2-bit timestamp (the router drops packets older than 2 phases if enabled; not modelled).
  std::uint8_t timestamp = 0;

  static constexpr MulticastPacket with_key(RoutingKey k) { MulticastPacket p; p.key = k; return p; }
  static constexpr MulticastPacket with_payload(RoutingKey k, std::uint32_t value) {
    MulticastPacket p; p.key = k; p.payload = value; p.has_payload = true; return p;
  }
  /// 40 or 72.
  constexpr int size_bits() const { return has_payload ? kPacketBitsWithPayload : kPacketBitsNoPayload; }

  /// The control byte: bit0 parity, bit1 payload flag, bits2–3 timestamp, bits4–5 emergency
  /// state, bits6–7 type (multicast = 0). Parity is odd over the whole packet (control, key and
  /// payload bits including the parity bit have an odd number of ones). Assumption: odd parity as
  /// in the SpiNNaker datasheet (the reference names the field only).
  std::uint8_t control_byte() const;
  /// True if `control` has the right parity for this packet's key/payload.
  bool parity_ok(std::uint8_t control) const;
  /// Decodes a control byte + key (+ payload). Throws InputError if the type is not multicast
  /// or the parity is wrong.
  static MulticastPacket decode(std::uint8_t control, RoutingKey key, std::uint32_t payload = 0);

  friend constexpr bool operator==(const MulticastPacket&, const MulticastPacket&) = default;
};

}  // namespace grindstone::hw::s1
