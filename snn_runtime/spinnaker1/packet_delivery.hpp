#pragma once
// The executor's delivery step (NEST's delivery, after update and routing): one target core's
// arrivals of tick T, in (time, source core, atom) order, enter the bounded input queue (sPyNNaker's
// incoming spike buffer: capacity hw incoming_spike_buffer_capacity, 255 for the default 256; full
// → dropped; a packet leaves it when its row DMA starts, i.e. while the previous row is being
// processed — two rows are out of the buffer at once) and are processed one by one — master population table binary search, row DMA,
// synapses, cycle costs (hw CoreTiming) — adding into ring-buffer slot T + d. A synapse whose
// processing ends after the start of tick T + d is late: its contribution is lost (counted in
// late_spikes per packet). Delay-extension cores queue each packet's stages for re-sending.
// Finally the core's work of the tick is recorded (cycles, overrun).
#include <cstdint>
#include <vector>

#include "hw_model/spinnaker1/timing.hpp"
#include "snn_runtime/spinnaker1/core_state.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"
#include "snn_runtime/spinnaker1/row_plan.hpp"

namespace grindstone::snn::spinnaker1 {

class PacketDelivery {
 public:
  /// Prepares every synaptic matrix of `mapping` (row plans, and each row's processing time,
  /// converted from cycles once). `input_queue_packets`: sPyNNaker's incoming_spike_buffer_size.
  PacketDelivery(const Mapping& mapping, const hw::s1::CoreTiming& timing, int input_queue_packets);

  /// Processes core `c`'s inbox of tick `T` (tick period `period`) and records its tick's work.
  void deliver(std::size_t c, std::int64_t T, hw::s1::SimTime period, CoreState& st) const;

 private:
  /// One accepted packet starting at `begin`; returns when the core is done with it.
  hw::s1::SimTime process(const CoreSlice& s, const std::vector<PopulationTableEntry>& table, const Delivery& d,
                          hw::s1::SimTime begin, std::int64_t T, hw::s1::SimTime period, CoreState& st) const;
  /// A delay-extension core's packet: schedules its stages' re-sends.
  hw::s1::SimTime relay(const CoreSlice& s, const Delivery& d, hw::s1::SimTime begin, std::int64_t T,
                        hw::s1::SimTime period, CoreState& st) const;

  const Mapping& m_;
  hw::s1::Clock cpu_;
  int input_queue_packets_;
  std::vector<PreparedMatrix> prepared_;              ///< per matrix
  std::vector<std::vector<hw::s1::SimTime>> row_duration_;  ///< per matrix, per source atom
  hw::s1::SimTime miss_duration_;
  hw::s1::SimTime relay_duration_;
};

}  // namespace grindstone::snn::spinnaker1
