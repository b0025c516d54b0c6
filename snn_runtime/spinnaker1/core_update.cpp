#include "snn_runtime/spinnaker1/core_update.hpp"

#include <algorithm>

namespace grindstone::snn::spinnaker1 {

using hw::s1::SimTime;
using hw::s1::Ticks;

struct CoreUpdate::Emitter {
  CoreState& st;
  SimTime start;
  const hw::s1::CoreTiming& timing;
  /// sPyNNaker 4–5 spike spreading (CoreTiming::spike_spacing_cycles; 0: send at once).
  hw::s1::Cycles spacing;
  /// Cycles spent waiting for send slots so far. Not busy time: packet processing (DMA and user
  /// events, priority 0) pre-empts the timer callback's wait loop.
  hw::s1::Cycles waited;
  /// Sends `atom`'s spike after `neurons_before` neuron updates (and the spikes sent so far),
  /// but not before its send slot: one spacing per spike after the update loop starts.
  void operator()(std::uint32_t atom, std::int64_t neurons_before) {
    st.spike_atoms.push_back(atom);
    const auto k = static_cast<std::int64_t>(st.spike_atoms.size());
    auto at = timing.spike_send_cycles(neurons_before, k) + waited;
    const auto slot = timing.timer_overhead_cycles() + spacing * k;
    if (at < slot) {
      waited += slot - at;
      at = slot;
    }
    st.spike_times.push_back(start + timing.params().clock.duration(at));
  }
};

CoreUpdate::CoreUpdate(const Network& network, const Mapping& mapping, const Routing& routing,
                       const hw::s1::CoreTiming& timing, SimTime period, const SampleSchedule& schedule,
                       const std::vector<SourceDriver>& drivers, const std::vector<std::vector<PopulationSpikes>>& inputs,
                       std::int64_t raster_sample)
    : network_(network), m_(mapping), routing_(routing), timing_(timing), period_(period), schedule_(schedule), inputs_(inputs) {
  driver_of_.assign(network.populations.size(), -1);
  for (std::size_t d = 0; d < drivers.size(); ++d) driver_of_[static_cast<std::size_t>(drivers[d].population)] = static_cast<int>(d);
  group_bounds_.resize(network.populations.size());
  for (std::size_t p = 0; p < network.populations.size(); ++p) {
    const Population& pop = network.populations[p];
    auto& b = group_bounds_[p];
    b.assign(static_cast<std::size_t>(pop.temporal_groups) + 1, pop.size());
    b[0] = 0;
    for (std::int64_t i = pop.size() - 1; i >= 0; --i) b[static_cast<std::size_t>(pop.group_of(i))] = i;
    for (int g = pop.temporal_groups - 1; g >= 0; --g)
      b[static_cast<std::size_t>(g)] = std::min(b[static_cast<std::size_t>(g)], b[static_cast<std::size_t>(g) + 1]);
  }
  if (raster_sample >= 0) {
    raster_tile_ = static_cast<int>(raster_sample % schedule.tiles);
    raster_k_ = raster_sample / schedule.tiles;
  }
}

void CoreUpdate::update(std::size_t c, std::int64_t T, SimTime tick_start, CoreState& st,
                        std::vector<std::vector<std::uint8_t>>& out_bits) const {
  const PlacedCore& pc = m_.cores[c];
  const CoreSlice& s = m_.slices[static_cast<std::size_t>(pc.slice)];
  st.spike_atoms.clear();
  st.spike_times.clear();
  st.inbox.clear();
  const SimTime start = hw::s1::max(tick_start, st.busy_until);
  st.tick_began = start;
  // Spikes a core may send in one tick: its neurons, or a delay core's atoms × stages.
  const std::int64_t max_spikes = s.kind == CoreKind::Neurons         ? s.count
                                  : s.kind == CoreKind::DelayExtension ? static_cast<std::int64_t>(s.count) * s.stages
                                                                       : 0;
  Emitter emit{st, start, timing_, timing_.spike_spacing_cycles(period_, max_spikes), hw::s1::Cycles(0)};
  std::int64_t updated = 0;
  if (s.kind == CoreKind::Neurons) {
    update_neurons(pc, s, T, st, emit);
    updated = s.count;
  } else if (s.kind == CoreKind::Source) {
    emit_sources(pc, s, T, emit);
  } else {
    auto& due = st.scheduled[static_cast<std::size_t>(T % kDelayRingTicks)];
    std::sort(due.begin(), due.end());
    for (std::uint32_t atom : due) emit(atom, 0);
    due.clear();
  }
  const auto spiked = static_cast<std::int64_t>(st.spike_atoms.size());
  st.busy_until = start + timing_.params().clock.duration(timing_.timer_cycles(updated, spiked));
  if (s.kind != CoreKind::DelayExtension) {
    st.counters.spikes += spiked;
    record(c, T, st, out_bits);
  }
  st.counters.packets_sent += spiked * static_cast<std::int64_t>(routing_.sources[c].targets.size());
}

void CoreUpdate::update_neurons(const PlacedCore& pc, const CoreSlice& s, std::int64_t T, CoreState& st,
                                Emitter& emit) const {
  st.ring->drain(Ticks(T), st.drained);
  const std::int64_t* exc = st.drained.data();
  const std::int64_t* inh = exc + s.count;
  const PopulationWeightEncoding& enc = m_.encodings[static_cast<std::size_t>(s.population)];
  if (!st.potential.empty()) {
    // Integrate-and-fire: every neuron integrates every tick, resetting by subtraction.
    for (std::int32_t a = 0; a < s.count; ++a) {
      const auto i = static_cast<std::size_t>(s.first + a);
      auto& v = st.potential[static_cast<std::size_t>(a)];
      v += exc[a] - inh[a] + (enc.bias_units.empty() ? 0 : enc.bias_units[i]);
      if (v >= enc.threshold_units[i]) {
        v -= enc.threshold_units[i];
        emit(static_cast<std::uint32_t>(a), a + 1);
      }
    }
    return;
  }
  // Instant decay: only neurons whose fire tick is now for one of the tile's samples.
  const Population& pop = network_.populations[static_cast<std::size_t>(s.population)];
  const auto& b = group_bounds_[static_cast<std::size_t>(s.population)];
  for (int g = 0; g < pop.temporal_groups; ++g) {
    const std::int64_t lo = std::max(b[static_cast<std::size_t>(g)], s.first);
    const std::int64_t hi = std::min(b[static_cast<std::size_t>(g) + 1], s.first + s.count);
    if (lo >= hi || schedule_.at(pc.tile, T, pop.tick + g) < 0) continue;
    for (std::int64_t i = lo; i < hi; ++i) {
      const auto a = static_cast<std::size_t>(i - s.first);
      const std::int64_t v = exc[a] - inh[a];
      if (v >= enc.threshold_units[static_cast<std::size_t>(i)]) emit(static_cast<std::uint32_t>(a), static_cast<std::int64_t>(a) + 1);
    }
  }
}

void CoreUpdate::emit_sources(const PlacedCore& pc, const CoreSlice& s, std::int64_t T, Emitter& emit) const {
  const Population& pop = network_.populations[static_cast<std::size_t>(s.population)];
  const int d = driver_of_[static_cast<std::size_t>(s.population)];
  // Samples k whose source fires now: tick ≤ T − k·period ≤ last fire tick.
  const auto [k_lo, k_hi] = schedule_.firing(pc.tile, T, pop.tick, pop.last_fire_tick());
  for (std::int64_t k = k_lo; k <= k_hi; ++k) {
    const std::int64_t rel = T - k * schedule_.period;
    const PopulationSpikes& ps = inputs_[static_cast<std::size_t>(schedule_.global(pc.tile, k))][static_cast<std::size_t>(d)];
    auto lo = std::lower_bound(ps.neurons.begin(), ps.neurons.end(), s.first);
    for (auto it = lo; it != ps.neurons.end() && *it < s.first + s.count; ++it) {
      const auto idx = static_cast<std::size_t>(it - ps.neurons.begin());
      if (ps.ticks[idx] == rel) emit(static_cast<std::uint32_t>(*it - s.first), 0);
    }
  }
}

void CoreUpdate::record(std::size_t c, std::int64_t T, CoreState& st, std::vector<std::vector<std::uint8_t>>& out_bits) const {
  const PlacedCore& pc = m_.cores[c];
  const CoreSlice& s = m_.slices[static_cast<std::size_t>(pc.slice)];
  const Population& pop = network_.populations[static_cast<std::size_t>(s.population)];
  const bool is_output = s.population == network_.output && s.kind == CoreKind::Neurons;
  for (std::uint32_t atom : st.spike_atoms) {
    const std::int64_t i = s.first + atom;
    const std::int64_t k = schedule_.at(pc.tile, T, pop.fire_tick(i));
    if (k < 0) continue;
    if (is_output) out_bits[static_cast<std::size_t>(schedule_.global(pc.tile, k))][static_cast<std::size_t>(i)] = 1;
    if (pc.tile == raster_tile_ && k == raster_k_)
      st.raster.push_back({static_cast<std::int32_t>(T - k * schedule_.period), s.population, i});
  }
}

std::vector<CoreState> make_core_states(const Network& network, const Mapping& m) {
  std::vector<CoreState> cores(m.cores.size());
  for (std::size_t c = 0; c < m.cores.size(); ++c) {
    const CoreSlice& s = m.slices[static_cast<std::size_t>(m.cores[c].slice)];
    CoreState& st = cores[c];
    if (s.kind == CoreKind::Neurons) {
      hw::s1::RingBuffer::Params rp;
      rp.n_neurons = s.count;
      rp.max_delay_ticks = static_cast<int>(hw::s1::kMaxNativeDelay.value);
      rp.weight_shift = m.encodings[static_cast<std::size_t>(s.population)].shift;
      st.ring = std::make_unique<hw::s1::RingBuffer>(rp);
      st.drained.assign(static_cast<std::size_t>(2 * s.count), 0);
      if (network.populations[static_cast<std::size_t>(s.population)].model == NeuronModel::IntegrateAndFire)
        st.potential.assign(static_cast<std::size_t>(s.count), 0);
    } else if (s.kind == CoreKind::DelayExtension) {
      st.scheduled.assign(static_cast<std::size_t>(kDelayRingTicks), {});
    }
  }
  return cores;
}

}  // namespace grindstone::snn::spinnaker1
