#include "snn_runtime/spinnaker1/packet_delivery.hpp"

#include <algorithm>

#include "common/parallel.hpp"
#include "hw_model/spinnaker1/core_budget.hpp"
#include "hw_model/spinnaker1/delays.hpp"

namespace grindstone::snn::spinnaker1 {

using hw::s1::SimTime;
using hw::s1::Ticks;

PacketDelivery::PacketDelivery(const Mapping& mapping, const hw::s1::CoreTiming& timing, int input_queue_packets)
    : m_(mapping),
      cpu_(timing.params().clock),
      input_queue_packets_(hw::s1::incoming_spike_buffer_capacity(input_queue_packets)),
      prepared_(mapping.matrices.size()),
      row_duration_(mapping.matrices.size()),
      miss_duration_(cpu_.duration(timing.miss_cycles())),
      relay_duration_(cpu_.duration(timing.relay_cycles())) {
  parallel_for_collected(std::size_t{0}, mapping.matrices.size(), [&](std::size_t i) {
    const SynapticMatrix& mat = mapping.matrices[i];
    prepared_[i] = prepare_matrix(mat);
    row_duration_[i].resize(mat.row_begin.size() - 1);
    for (std::size_t a = 0; a + 1 < mat.row_begin.size(); ++a) {
      const std::uint32_t len = mat.row_begin[a + 1] - mat.row_begin[a];
      row_duration_[i][a] = cpu_.duration(timing.packet_cycles(len, hw::s1::CoreBudget::row_bytes(static_cast<int>(len))));
    }
  });
}

void PacketDelivery::deliver(std::size_t c, std::int64_t T, SimTime period, CoreState& st) const {
  const PlacedCore& pc = m_.cores[c];
  const CoreSlice& s = m_.slices[static_cast<std::size_t>(pc.slice)];
  if (!st.inbox.empty()) {
    std::sort(st.inbox.begin(), st.inbox.end(), [](const Delivery& a, const Delivery& b) {
      if (a.time != b.time) return a.time < b.time;
      return a.source != b.source ? a.source < b.source : a.atom < b.atom;
    });
    const auto& table = m_.population_table[static_cast<std::size_t>(pc.slice)];
    SimTime cursor = st.busy_until;
    st.queue_leaves.clear();
    std::size_t waiting_from = 0;  // first accepted packet still in the buffer at `arrival`
    SimTime prev_begin;
    for (const Delivery& d : st.inbox) {
      while (waiting_from < st.queue_leaves.size() && st.queue_leaves[waiting_from] <= d.time) ++waiting_from;
      if (st.queue_leaves.size() - waiting_from >= static_cast<std::size_t>(input_queue_packets_)) {
        ++st.counters.queue_drops;
        continue;
      }
      ++st.counters.delivered;
      const SimTime begin = hw::s1::max(cursor, d.time);
      // A packet leaves the buffer when its row's DMA starts (spike_processing.c): at once if
      // the DMA pipeline is idle, else when the previous row is handed to processing — the
      // DMA-complete callback starts the next read before it processes the row just fetched.
      st.queue_leaves.push_back(st.queue_leaves.empty() ? d.time : hw::s1::max(d.time, prev_begin));
      prev_begin = begin;
      cursor = process(s, table, d, begin, T, period, st);
    }
    st.busy_until = cursor;
  }
  st.counters.timing.record(cpu_.cycles_in(st.busy_until - st.tick_began), st.busy_until > period * T + period);
}

SimTime PacketDelivery::process(const CoreSlice& s, const std::vector<PopulationTableEntry>& table, const Delivery& d,
                                SimTime begin, std::int64_t T, SimTime period, CoreState& st) const {
  if (s.kind == CoreKind::DelayExtension) return relay(s, d, begin, T, period, st);
  // Master population table: binary search by source slice (the key's vertex|core part).
  const int src_slice = m_.cores[static_cast<std::size_t>(d.source)].slice;
  auto it = std::lower_bound(table.begin(), table.end(), src_slice,
                             [](const PopulationTableEntry& e, int v) { return e.source_slice < v; });
  if (it == table.end() || it->source_slice != src_slice) {
    ++st.counters.misses;
    return begin + miss_duration_;
  }
  // The row's synapses, added run by run (row_plan.hpp: identical to word by word).
  const auto matrix = static_cast<std::size_t>(it->matrix);
  const SimTime finish = begin + row_duration_[matrix][d.atom];
  const RowOutcome row = apply_row(prepared_[matrix], d.atom, *st.ring, Ticks(T), finish, period);
  st.counters.synaptic_events += row.added;
  st.counters.late_events += row.late;
  if (row.late > 0) ++st.counters.late_packets;
  return finish;
}

SimTime PacketDelivery::relay(const CoreSlice& s, const Delivery& d, SimTime begin, std::int64_t T, SimTime period,
                              CoreState& st) const {
  const std::uint16_t mask = s.stage_mask[d.atom];
  const SimTime finish = begin + relay_duration_;
  for (int stage = 1; stage <= s.stages; ++stage) {
    if (!((mask >> (stage - 1)) & 1u)) continue;
    const std::int64_t when = T + static_cast<std::int64_t>(stage) * hw::s1::kDelayStageTicks.value;
    if (finish > period * when) {
      ++st.counters.late_events;
      continue;
    }
    st.scheduled[static_cast<std::size_t>(when % kDelayRingTicks)].push_back(static_cast<std::uint32_t>((stage - 1) * s.count) +
                                                                            d.atom);
  }
  return finish;
}

}  // namespace grindstone::snn::spinnaker1
