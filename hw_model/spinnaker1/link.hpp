#pragma once
// One direction of an inter-chip link, with the router's output buffer that feeds it: a FIFO of
// `output_buffer_packets` packets drained by a serialiser at the link's bit rate, plus a fixed
// propagation latency. Dead links never accept a packet.
// Sources: reference §3 "Router throughput and link bandwidth": not documented in the sources
// listed; the figures are the TickySim model's assumptions (mossblaser/tickysim
// configs/spinnaker.config): 160 ns per 40-bit packet per link (≈250 Mbit/s), output buffers of
// 2 packets.
#include <cstdint>
#include <vector>

#include "hw_model/spinnaker1/packet.hpp"
#include "hw_model/spinnaker1/units.hpp"

namespace grindstone::hw::s1 {

class InterChipLink {
 public:
  struct Params {
    /// Serialisation rate, bits per second. Assumption (TickySim): 160 ns per 40-bit packet,
    /// i.e. 250 Mbit/s; a 72-bit packet takes 288 ns.
    double bits_per_second = 250e6;
    /// Extra latency from the end of serialisation to arrival at the next router's input, ps.
    /// Assumption: 0 (wire delay of on-board traces is negligible next to serialisation).
    SimTime propagation = SimTime(0);
    /// Packets the router's output buffer for this link holds (including the one being sent).
    /// Assumption (TickySim output_buffer_length: 2).
    int output_buffer_packets = 2;
  };

  struct Stats {
    std::int64_t packets = 0;           ///< packets transmitted
    std::int64_t payload_packets = 0;   ///< of which 72-bit
    std::int64_t bits = 0;              ///< bits transmitted
    SimTime busy;                       ///< total serialisation time
    SimTime max_wait;                   ///< longest wait for buffer space seen by accept()
    /// Fraction of `elapsed` the serialiser was busy.
    double utilisation(SimTime elapsed) const { return elapsed.ps > 0 ? static_cast<double>(busy.ps) / static_cast<double>(elapsed.ps) : 0.0; }
    Stats& operator+=(const Stats& o);
  };

  InterChipLink() : InterChipLink(Params{}) {}
  explicit InterChipLink(Params params, bool dead = false);

  const Params& params() const { return params_; }
  const Stats& stats() const { return stats_; }
  bool dead() const { return dead_; }
  void set_dead(bool dead) { dead_ = dead; }

  /// Serialisation time of one packet (40 or 72 bits at bits_per_second).
  SimTime serialisation_time(const MulticastPacket& p) const;
  /// Earliest time ≥ t at which the output buffer has room for one more packet;
  /// SimTime::never() if the link is dead. Requires calls in non-decreasing t to be physical.
  SimTime earliest_accept(SimTime t) const;
  /// Puts `p` into the output buffer at `accept_time` (≥ earliest_accept) and returns the time it
  /// arrives at the far router (after queueing behind earlier packets, serialisation and
  /// propagation). InternalError if the link is dead.
  SimTime transmit(const MulticastPacket& p, SimTime accept_time);
  /// Time the serialiser finishes everything accepted so far.
  SimTime busy_until() const { return last_finish_; }
  /// Forgets queue state and counters.
  void reset();

 private:
  Params params_;
  bool dead_ = false;
  Stats stats_;
  SimTime last_finish_;
  /// Finish times of the last output_buffer_packets packets (ring), to know when a slot frees.
  std::vector<SimTime> recent_finish_;
  std::size_t recent_next_ = 0;
  std::int64_t accepted_ = 0;
  /// Serialisation times of a 40- and a 72-bit packet, computed once from the params.
  SimTime serialise_plain_, serialise_payload_;
};

}  // namespace grindstone::hw::s1
