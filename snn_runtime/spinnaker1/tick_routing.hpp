#pragma once
// The executor's route step: one tick's packets through the hw Routers. The sources that spiked
// are split into routing groups (routing_groups.hpp) whose trees share no chip; each group is a
// discrete-event simulation in (time, canonical order) — table lookup, multicast replication,
// link serialisation, blocking, drops and reinjection, emergency detours — plus the
// `--drop-probability` fault (counter-based RNG keyed by seed, tick, key and chip). Groups run in
// parallel; a packet reaching a core lands in that core's inbox (one group per chip, so no two
// groups write one inbox).
#include <cstdint>
#include <vector>

#include "hw_model/spinnaker1/router.hpp"
#include "snn_runtime/spinnaker1/core_state.hpp"
#include "snn_runtime/spinnaker1/executor.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"
#include "snn_runtime/spinnaker1/route_memo.hpp"
#include "snn_runtime/spinnaker1/routing.hpp"
#include "snn_runtime/spinnaker1/routing_groups.hpp"

namespace grindstone::snn::spinnaker1 {

class TickRouting {
 public:
  TickRouting(const Mapping& mapping, const Routing& routing, const ExecutorOptions& options);

  /// Routes tick `T`'s spikes (cores[c].spike_atoms/spike_times) into the target cores' inboxes.
  void route(std::int64_t T, std::vector<CoreState>& cores);
  /// Router, link and loss totals (chip order, then group order) into `res`; returns the router
  /// traversals (packets received by routers, Σ over chips).
  std::int64_t summarise(ExecutorResult& res) const;

  /// A router event of a group's discrete-event simulation.
  struct Event {
    hw::s1::SimTime time;
    std::uint64_t seq = 0;     ///< canonical tie-break (injection order, then creation order)
    std::int32_t chip = 0;
    std::int32_t source = 0;   ///< global source core
    std::uint32_t atom = 0;
    hw::s1::Arrival from;
    bool reinjection = false;
    /// Injected packets: position in Group::injected of the same core's next packet.
    std::uint32_t next_of_core = kNoNext;
    static constexpr std::uint32_t kNoNext = ~std::uint32_t{0};
    /// A packet on an emergency detour keeps its state from hop to hop; without it the middle
    /// chip would look the key up, miss, and default-route the packet away for ever.
    hw::s1::EmergencyState emergency = hw::s1::EmergencyState::Normal;
    bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };

 private:
  /// Per-group event storage and loss counters, reused from tick to tick (no allocation per
  /// packet). A core's packets leave in time order, so instead of holding every injected packet,
  /// the min-heap holds the next packet of each source core plus the events routing creates (link
  /// hops, reinjections); popping a core's packet pushes its successor. The heap thus stays
  /// small, and events are visited in exactly the (time, seq) order of one priority queue over
  /// all of them.
  struct Group {
    std::vector<Event> injected;  ///< per source core, a run in (time, seq) order
    std::vector<Event> heap;
    std::uint64_t seq = 0;
    std::int64_t dropped_random = 0, dropped_router = 0;
    void push(const Event& e);
  };

  void route_group(std::size_t g, std::int64_t T, std::vector<CoreState>& cores);
  /// Queues the group's sources' spikes, one time-ordered run per source.
  void inject(Group& group, const std::vector<int>& sources, const std::vector<CoreState>& cores) const;
  /// Handles one event at its router: forward (or drop, or queue for reinjection), pushing link
  /// hops and filling core inboxes.
  void step(Group& group, const Event& ev, std::int64_t T, std::vector<CoreState>& cores);
  /// The blocked neighbour a detour heads for: the middle chip passes it on over the link after
  /// the one it arrived on (see Router::forward), which leads to that neighbour.
  int detour_target(int chip, hw::s1::Link arrived_on) const;

  const Mapping& m_;
  const Routing& routing_;
  double drop_probability_;
  std::uint64_t seed_;
  bool single_group_;
  std::vector<hw::s1::Router> routers_;  ///< per machine chip
  RouteMemo memo_;
  RoutingGroups groups_;
  std::vector<int> active_;              ///< this tick's sources with spikes and targets
  std::vector<Group> group_state_;       ///< per group index (counters summed over ticks)
};

}  // namespace grindstone::snn::spinnaker1
