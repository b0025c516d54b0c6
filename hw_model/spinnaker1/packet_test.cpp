#include <doctest/doctest.h>

#include <bit>

#include "common/error.hpp"
#include "hw_model/spinnaker1/packet.hpp"

namespace s1 = grindstone::hw::s1;

TEST_CASE("multicast packets are 40 bits, 72 with payload; control byte has odd parity") {
  const auto p = s1::MulticastPacket::with_key(0x12345678);
  CHECK(p.size_bits() == 40);
  const auto q = s1::MulticastPacket::with_payload(0xDEADBEEF, 3);
  CHECK(q.size_bits() == 72);
  for (const auto& pkt : {p, q}) {
    const std::uint8_t c = pkt.control_byte();
    CHECK(((c >> 6) & 3) == 0);  // multicast
    CHECK(((c >> 1) & 1) == (pkt.has_payload ? 1 : 0));
    const int ones = std::popcount(static_cast<unsigned>(c)) + std::popcount(pkt.key) + (pkt.has_payload ? std::popcount(pkt.payload) : 0);
    CHECK(ones % 2 == 1);
    CHECK(s1::MulticastPacket::decode(c, pkt.key, pkt.payload) == pkt);
    CHECK_THROWS_AS(s1::MulticastPacket::decode(static_cast<std::uint8_t>(c ^ 1u), pkt.key, pkt.payload), grindstone::InputError);
  }
  auto e = p;
  e.emergency = s1::EmergencyState::SecondLeg;
  CHECK(((e.control_byte() >> 4) & 3) == 2);
  CHECK_THROWS_AS(s1::MulticastPacket::decode(0x40, 0), grindstone::InputError);  // point-to-point type
}
