#include "hw_model/spinnaker1/timing.hpp"

#include <cmath>

#include "common/error.hpp"

namespace grindstone::hw::s1 {

CoreTiming::Stats& CoreTiming::Stats::operator+=(const Stats& o) {
  ticks += o.ticks;
  overruns += o.overruns;
  busy += o.busy;
  max_tick = std::max(max_tick, o.max_tick);
  return *this;
}

void CoreTiming::Stats::record(Cycles worked, bool overrun) {
  ++ticks;
  busy += worked;
  max_tick = std::max(max_tick, worked);
  if (overrun) ++overruns;
}

Cycles CoreTiming::dma_cycles(std::int64_t bytes) const {
  return Cycles(static_cast<std::int64_t>(std::ceil(static_cast<double>(bytes) / params_.dma_bytes_per_cycle)));
}

Cycles CoreTiming::spike_spacing_cycles(SimTime period, std::int64_t max_spikes) const {
  if (!params_.spread_spikes || max_spikes < 1) return Cycles(0);
  // The host truncates to whole microseconds before the core scales by its clock in MHz.
  const auto us = static_cast<std::int64_t>(std::floor(period.microseconds() / (2.0 * static_cast<double>(max_spikes)) + 1e-9));
  return params_.clock.cycles_in(SimTime::from_us(static_cast<double>(us)));
}

Cycles CoreTiming::synapse_and_dma_cycles(std::int64_t synapses, std::int64_t row_bytes) const {
  const Cycles synapse_cycles = params_.per_synaptic_event * synapses;
  // Double-buffered DMA: the next row streams in while the current one is processed, so only
  // transfer time beyond the synapse processing shows up.
  const Cycles dma = dma_cycles(row_bytes);
  return dma > synapse_cycles ? dma : synapse_cycles;
}

Cycles CoreTiming::tick_cycles(const CoreTickWork& w) const {
  return timer_cycles(w.neurons_updated, w.neurons_spiked) + received_cycles(w.spikes_received) +
         miss_cycles(w.pop_table_misses) + synapse_and_dma_cycles(w.synaptic_events, w.row_bytes_fetched);
}

Cycles CoreTiming::record_tick(const CoreTickWork& work, Cycles budget) {
  const Cycles c = tick_cycles(work);
  stats_.record(c, c > budget);
  return c;
}

std::int64_t TimingParams::min_time_scale_factor(Cycles worst_tick) const {
  const Cycles per_unit = core.clock.cycles_in(SimTime::from_us(static_cast<double>(timestep_us)));
  if (per_unit.value <= 0) return 1;
  const std::int64_t tsf = (worst_tick.value + per_unit.value - 1) / per_unit.value;
  return std::max<std::int64_t>(1, tsf);
}

void TimingParams::validate() const {
  require_input(timestep_us >= 1, "--timestep-us", "timestep must be at least 1 us, got " + std::to_string(timestep_us));
  require_input(time_scale_factor > 0, "--time-scale-factor", "time_scale_factor must be positive");
  const double period = static_cast<double>(timestep_us) * time_scale_factor;
  require_input(std::abs(period - std::round(period)) < 1e-9, "--time-scale-factor",
                "timestep " + std::to_string(timestep_us) + " us x time_scale_factor " + std::to_string(time_scale_factor) +
                    " is not a whole number of us");
}

SimTime router_time_per_packet(const Router::Params& p) { return p.clock.duration(p.cycles_per_packet); }

SimTime link_time_per_packet(const InterChipLink::Params& p, bool with_payload) {
  const int bits = with_payload ? kPacketBitsWithPayload : kPacketBitsNoPayload;
  return SimTime(std::llround(static_cast<double>(bits) * 1e12 / p.bits_per_second)) + p.propagation;
}

int incoming_spike_buffer_capacity(int requested) {
  require_input(requested >= 2, "incoming_spike_buffer_size", "needs at least 2 entries, got " + std::to_string(requested));
  int real = 1;
  while (real < requested) real *= 2;
  return real - 1;
}

}  // namespace grindstone::hw::s1
