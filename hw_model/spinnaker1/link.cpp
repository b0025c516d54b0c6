#include "hw_model/spinnaker1/link.hpp"

#include <cmath>

#include "common/error.hpp"

namespace grindstone::hw::s1 {

InterChipLink::Stats& InterChipLink::Stats::operator+=(const Stats& o) {
  packets += o.packets;
  payload_packets += o.payload_packets;
  bits += o.bits;
  busy += o.busy;
  max_wait = max(max_wait, o.max_wait);
  return *this;
}

InterChipLink::InterChipLink(Params params, bool dead) : params_(params), dead_(dead) {
  require_input(params_.bits_per_second > 0, "link", "bits_per_second must be positive");
  require_input(params_.output_buffer_packets >= 1, "link", "output_buffer_packets must be at least 1");
  recent_finish_.assign(static_cast<std::size_t>(params_.output_buffer_packets), SimTime(0));
  auto serialise = [&](int bits) { return SimTime(std::llround(static_cast<double>(bits) * 1e12 / params_.bits_per_second)); };
  serialise_plain_ = serialise(kPacketBitsNoPayload);
  serialise_payload_ = serialise(kPacketBitsWithPayload);
}

SimTime InterChipLink::serialisation_time(const MulticastPacket& p) const {
  return p.has_payload ? serialise_payload_ : serialise_plain_;
}

SimTime InterChipLink::earliest_accept(SimTime t) const {
  if (dead_) return SimTime::never();
  if (accepted_ < params_.output_buffer_packets) return t;
  // The buffer is full until the oldest of the last N accepted packets has been sent.
  return max(t, recent_finish_[recent_next_]);
}

SimTime InterChipLink::transmit(const MulticastPacket& p, SimTime accept_time) {
  if (dead_) throw InternalError("transmit on a dead link");
  const SimTime ready = earliest_accept(accept_time);
  stats_.max_wait = max(stats_.max_wait, ready - accept_time);
  const SimTime serialise = serialisation_time(p);
  const SimTime start = max(ready, last_finish_);
  last_finish_ = start + serialise;
  recent_finish_[recent_next_] = last_finish_;
  recent_next_ = (recent_next_ + 1) % recent_finish_.size();
  ++accepted_;
  ++stats_.packets;
  if (p.has_payload) ++stats_.payload_packets;
  stats_.bits += p.size_bits();
  stats_.busy += serialise;
  return last_finish_ + params_.propagation;
}

void InterChipLink::reset() {
  stats_ = {};
  last_finish_ = SimTime(0);
  recent_finish_.assign(recent_finish_.size(), SimTime(0));
  recent_next_ = 0;
  accepted_ = 0;
}

}  // namespace grindstone::hw::s1
