#pragma once
// The multicast router of one SpiNNaker 1 chip, with its six outgoing links: table lookup
// (first match, default routing, local no-route drop), a pipelined timing model, blocking on full
// output buffers with wait1/wait2 time-outs (emergency routing, then drop), and the monitor's
// reinjection queue for dropped packets.
// Sources (reference §3): table semantics (see routing_table.hpp); clocks (scamp-3.c: router at
// 133 MHz); wait1/wait2 and their 8-bit float encoding (spinn_extra.h, SFEC reinjection_status.py);
// sPyNNaker's extra monitor sets wait1=0x4F (480 router cycles), wait2=0 (no emergency routing);
// reinjection queue of 4096 packets polled every 10 µs (extra_monitor_support.c PKT_QUEUE_SIZE,
// TICK_PERIOD). Throughput/pipeline: TickySim assumptions (1 packet per router cycle, 7 stages).
//
// Use from an event-driven executor: call forward() for each packet arriving at this router, in
// non-decreasing `now` (the queue model assumes time order). For each link bit of the result,
// deliver the packet to the neighbour (Machine::neighbour) at `link_arrival[l]`, arriving on
// opposite(l); for each core bit, deliver at `core_delivery`. If `reinjection_queued`, call
// reinject_next(t) at t = `reinject_at`. One Router per chip; not thread-safe (each router is
// mutated by forward/decide), so a parallel executor must give each router to one thread.
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "hw_model/spinnaker1/link.hpp"
#include "hw_model/spinnaker1/packet.hpp"
#include "hw_model/spinnaker1/routing_table.hpp"
#include "hw_model/spinnaker1/topology.hpp"
#include "hw_model/spinnaker1/units.hpp"

namespace grindstone::hw::s1 {

/// Decodes the router's 8-bit floating wait value (M = v & 0xF, E = v >> 4) into router cycles:
/// ((M+16) − 2^(4−E))·2^E if E ≤ 4, else (M+16)·2^E. Source: SFEC reinjection_status.py.
/// 0x4F → 480, 0x40 → 240, 0x00 → 0.
RouterCycles decode_router_wait(std::uint8_t encoded);

class Router {
 public:
  struct Params {
    /// Routing table (its capacity: kRouterUsableEntries unless a test shrinks it).
    RoutingTable::Params table;
    /// Router clock. Source: scamp-3.c pll_init "router at 133" MHz.
    RouterClock clock = kRouterClock;
    /// Router cycles between accepting successive packets. Assumption (TickySim: period 1).
    RouterCycles cycles_per_packet = RouterCycles(1);
    /// Router cycles from acceptance to the outputs. Assumption (TickySim pipeline_length: 7).
    RouterCycles pipeline_cycles = RouterCycles(7);
    /// Router cycles a packet may wait for its outputs before emergency routing (or, with
    /// emergency routing off, before being dropped). Source: sPyNNaker extra monitor
    /// wait1 = 0x4F = 480 cycles (≈3.6 µs); SCAMP's default is 0x40 = 240.
    RouterCycles wait1_cycles = decode_router_wait(0x4F);
    /// Router cycles an emergency-routed packet may wait before being dropped; 0 disables
    /// emergency routing. Source: sPyNNaker extra monitor wait2 = 0.
    RouterCycles wait2_cycles = RouterCycles(0);
    /// Router cycles to deliver a packet to a local core (router → communications controller).
    /// Assumption: 1 cycle; local delivery never blocks (the core's software spike queue is the
    /// executor's business).
    RouterCycles core_delivery_cycles = RouterCycles(1);
    /// Dropped packets are queued by the monitor and reinjected. Source: sPyNNaker default
    /// enable_reinjection = True.
    bool reinjection_enabled = true;
    /// Reinjection queue length, packets; further drops are lost. Source: extra_monitor_support.c
    /// PKT_QUEUE_SIZE 4096.
    int reinjection_queue_packets = 4096;
    /// The monitor polls its queue every this often. Source: extra_monitor_support.c TICK_PERIOD
    /// (10 µs).
    SimTime reinjection_poll_period = SimTime::from_us(10.0);
    /// Monitor time to reinject one packet once polled, CPU cycles at 200 MHz. Assumption: 100.
    Cycles reinjection_cycles_per_packet = Cycles(100);
    /// Parameters of the six outgoing links (and their output buffers).
    InterChipLink::Params link;
  };

  struct Stats {
    std::int64_t packets_received = 0;     ///< forward() calls (arrivals, incl. reinjections)
    std::int64_t packets_routed = 0;       ///< packets that left to ≥1 output
    std::int64_t table_lookups = 0;        ///< lookups performed (emergency legs skip lookup)
    std::int64_t table_hits = 0;           ///< lookups that matched an entry
    std::int64_t default_routed = 0;       ///< unmatched link arrivals sent straight on
    std::int64_t no_route_dropped = 0;     ///< unmatched local packets dropped (never reinjected)
    std::int64_t multicast_replications = 0;  ///< copies beyond the first (fanout − 1 per packet)
    std::int64_t link_sends = 0;           ///< packets put on links (counting each link)
    std::int64_t core_deliveries = 0;      ///< packets delivered to local cores (each core)
    std::int64_t emergency_routed = 0;     ///< packets that took an emergency detour
    std::int64_t dropped = 0;              ///< packets dropped after blocking (wait1/wait2)
    std::int64_t reinjection_queued = 0;   ///< dropped packets taken by the monitor
    std::int64_t reinjection_lost = 0;     ///< dropped packets lost (queue full or disabled)
    /// Drops caused by a dead link (or a board edge) in the route: never queued for reinjection,
    /// since resending could never succeed (assumption; the monitor would retry forever).
    std::int64_t dead_link_drops = 0;
    std::int64_t reinjected = 0;           ///< packets the monitor sent back out
    SimTime total_blocking;                ///< sum of waits for output buffer space
    std::size_t max_reinjection_queue = 0;

    double drop_ratio() const { return packets_received ? static_cast<double>(dropped) / static_cast<double>(packets_received) : 0.0; }
    double mean_fanout() const {
      return packets_routed ? static_cast<double>(link_sends + core_deliveries) / static_cast<double>(packets_routed) : 0.0;
    }
    double hit_ratio() const { return table_lookups ? static_cast<double>(table_hits) / static_cast<double>(table_lookups) : 0.0; }
    Stats& operator+=(const Stats& o);
  };

  struct ForwardResult {
    RouteDecision decision;
    /// The packet as sent (emergency state updated).
    MulticastPacket packet;
    /// Actual outputs used (may differ from decision.route on an emergency detour; empty if
    /// dropped).
    RouteWord outputs;
    /// True if the packet left the router to all its outputs.
    bool sent = false;
    /// True if the packet was dropped after blocking (not for NoRouteDropped).
    bool dropped = false;
    /// True if the dropped packet is in the reinjection queue; call reinject_next at reinject_at.
    bool reinjection_queued = false;
    SimTime reinject_at;
    /// Time the packet left the pipeline for its outputs (or was dropped).
    SimTime departure;
    /// Link that carries an emergency detour (its copy has EmergencyState::FirstLeg; the other
    /// copies are `packet`), or −1.
    int emergency_link = -1;
    /// For each link bit of `outputs`: when the packet reaches the neighbour's router input.
    std::array<SimTime, kLinksPerChip> link_arrival{};
    /// When the packet reaches local cores (for the core bits of `outputs`).
    SimTime core_delivery;
  };

  /// A router for `chip`; `dead_links` bit l marks outgoing link l dead (packets routed there
  /// block and are dropped, as on hardware). Links with no neighbour (board edges) should also be
  /// marked dead.
  explicit Router(ChipCoord chip) : Router(chip, Params{}, 0) {}
  Router(ChipCoord chip, Params params, std::uint8_t dead_links = 0);
  /// As above, taking dead links (and missing neighbours) from the machine.
  Router(const Machine& machine, ChipCoord chip) : Router(machine, chip, Params{}) {}
  Router(const Machine& machine, ChipCoord chip, Params params);

  ChipCoord chip() const { return chip_; }
  const Params& params() const { return params_; }
  const Stats& stats() const { return stats_; }
  const RoutingTable& table() const { return table_; }
  const InterChipLink& link(Link l) const { return links_[static_cast<std::size_t>(link_index(l))]; }

  /// Loads a table (replacing the previous one); throws InputError "chip (x,y): routing table
  /// needs N entries after compression, the router holds 1023" if it does not fit.
  void load_table(std::vector<RoutingEntry> entries);

  /// Table decision for a packet (memoised per key; updates lookup counters only).
  RouteDecision decide(const MulticastPacket& p, Arrival from);
  /// Routes a packet arriving at `now` through lookup, pipeline and output buffers; see class
  /// comment. Updates stats and link queues.
  ForwardResult forward(const MulticastPacket& p, Arrival from, SimTime now);
  /// The same for a caller that has already looked the key up: `entry_index` must be
  /// table().lookup_index(p.key) (checked by a debug assertion). Identical result and stats (the
  /// lookup is still counted); lets an executor keep a dense key → entry table of its own instead
  /// of the router's hash-map memo.
  ForwardResult forward(const MulticastPacket& p, Arrival from, SimTime now, int entry_index);

  /// Packets waiting in the reinjection queue.
  std::size_t reinjection_queue_size() const { return reinjection_queue_.size(); }
  /// Time at which the head of the reinjection queue is due, if any.
  std::optional<SimTime> next_reinjection_time() const;
  /// Resends the head of the reinjection queue to the outputs it was dropped from (assumption:
  /// the router's dropped-packet registers keep the route, so no new lookup), at max(now, due).
  /// Returns the forwarding result (which may drop and queue it again). InternalError if empty.
  ForwardResult reinject_next(SimTime now);

  /// Clears stats, queues and link state (keeps the table).
  void reset();

 private:
  struct PendingReinjection {
    MulticastPacket packet;
    RouteWord outputs;
    SimTime due;
  };
  /// Pipeline + output buffers + drop/reinjection for a packet whose outputs are known.
  ForwardResult send(const MulticastPacket& p, const RouteDecision& decision, RouteWord outputs, SimTime now);
  /// forward() with the table entry known (≥ −1) or still to be looked up (kUnknownEntry).
  ForwardResult forward_with(const MulticastPacket& p, Arrival from, SimTime now, int entry_index);
  /// The decision for a looked-up entry index (counts the lookup).
  RouteDecision decide_entry(int index, Arrival from);
  static constexpr int kUnknownEntry = -2;

  ChipCoord chip_;
  Params params_;
  RoutingTable table_;
  std::array<InterChipLink, kLinksPerChip> links_;
  Stats stats_;
  SimTime input_free_;  ///< when the pipeline can accept the next packet
  std::deque<PendingReinjection> reinjection_queue_;
  SimTime last_reinjection_due_;
  std::unordered_map<RoutingKey, int> lookup_cache_;  ///< key → entry index (−1: no match)
  // Params converted to time once (Clock::duration rounds through double on every call).
  SimTime accept_interval_;      ///< cycles_per_packet
  SimTime pipeline_delay_;       ///< pipeline_cycles
  SimTime wait1_;                ///< wait1_cycles
  SimTime wait2_;                ///< wait2_cycles
  SimTime core_delivery_delay_;  ///< core_delivery_cycles
  SimTime reinjection_delay_;    ///< reinjection_cycles_per_packet at the CPU clock
};

}  // namespace grindstone::hw::s1
