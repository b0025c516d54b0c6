#include <doctest/doctest.h>

#include "common/error.hpp"
#include "hw_model/spinnaker1/energy.hpp"
#include "hw_model/spinnaker1/timing.hpp"

namespace s1 = grindstone::hw::s1;
using s1::Cycles;
using s1::SimTime;
using s1::Ticks;

TEST_CASE("units: cycles, ticks and time convert only through clocks") {
  CHECK(s1::kCpuClock.duration(Cycles(200)) == SimTime::from_us(1.0));
  CHECK(s1::kCpuClock.duration(Cycles(1)).ps == 5000);
  CHECK(s1::kCpuClock.cycles_in(SimTime::from_us(1000.0)) == Cycles(200000));
  CHECK(s1::kRouterClock.cycles_covering(SimTime::from_ns(10)) == s1::RouterCycles(2));
  CHECK(s1::kRouterClock.cycles_in(SimTime::from_ns(10)) == s1::RouterCycles(1));
  CHECK(Ticks(3) + Ticks(4) == Ticks(7));
  CHECK(Cycles(3) * 4 == Cycles(12));
  CHECK(SimTime::from_seconds(1.5).seconds() == doctest::Approx(1.5));
}

TEST_CASE("core timing: per-tick cycle arithmetic") {
  s1::CoreTiming timing;
  s1::CoreTickWork w;
  w.neurons_updated = 100;
  w.neurons_spiked = 10;
  w.spikes_received = 20;
  w.pop_table_misses = 5;
  w.rows_fetched = 20;
  w.row_bytes_fetched = 20 * (10 + 3) * 4;
  w.synaptic_events = 200;
  // 500 + 100·80 + 10·20 + 20·250 + 5·100 + 200·40; DMA (1040 cycles) hides behind synapses.
  CHECK(timing.tick_cycles(w) == Cycles(500 + 8000 + 200 + 5000 + 500 + 8000));

  s1::CoreTickWork dma_bound;
  dma_bound.spikes_received = 1;
  dma_bound.synaptic_events = 10;
  dma_bound.row_bytes_fetched = 5000;
  // 500 + 250 + 400, plus the 5000 − 400 DMA cycles not hidden by processing.
  CHECK(timing.tick_cycles(dma_bound) == Cycles(500 + 250 + 400 + 4600));

  s1::TimingParams tp;
  CHECK(tp.cycles_per_tick() == Cycles(200000));
  CHECK(timing.record_tick(w, tp.cycles_per_tick()) == Cycles(22200));
  CHECK(timing.record_tick(dma_bound, Cycles(5000)) == Cycles(5750));
  CHECK(timing.stats().ticks == 2);
  CHECK(timing.stats().overruns == 1);
  CHECK(timing.stats().busy == Cycles(22200 + 5750));
  CHECK(timing.stats().max_tick == Cycles(22200));
  CHECK(timing.stats().overrun_ratio() == doctest::Approx(0.5));
}

TEST_CASE("core timing: a tick is the sum of its per-event costs") {
  s1::CoreTiming::Params p;
  p.timer_tick_overhead = Cycles(7);
  p.per_neuron_update = Cycles(3);
  p.per_neuron_spike = Cycles(11);
  p.per_spike_received = Cycles(13);
  p.per_pop_table_miss = Cycles(17);
  p.per_synaptic_event = Cycles(2);
  const s1::CoreTiming timing(p);
  CHECK(timing.timer_overhead_cycles() == Cycles(7));
  CHECK(timing.neuron_update_cycles(5) == Cycles(15));
  CHECK(timing.neuron_spike_cycles(2) == Cycles(22));
  CHECK(timing.received_cycles(3) == Cycles(39));
  CHECK(timing.miss_cycles() == Cycles(17));
  CHECK(timing.miss_cycles(2) == Cycles(34));
  CHECK(timing.relay_cycles() == Cycles(13));
  CHECK(timing.timer_cycles(5, 2) == Cycles(7 + 15 + 22));
  CHECK(timing.spike_send_cycles(5, 2) == timing.timer_cycles(5, 2));
  // A 52-byte row DMA (52 cycles at 1 B/cycle) shows beyond 10 synapses (20 cycles), hides behind 40.
  CHECK(timing.packet_cycles(10, 52) == Cycles(13 + 52));
  CHECK(timing.packet_cycles(40, 52) == Cycles(13 + 80));
  // The executor charges events one by one; tick_cycles charges a tick's totals. With one packet
  // they agree exactly.
  s1::CoreTickWork w;
  w.neurons_updated = 5;
  w.neurons_spiked = 2;
  w.spikes_received = 1;
  w.pop_table_misses = 2;
  w.synaptic_events = 40;
  w.row_bytes_fetched = 52;
  CHECK(timing.tick_cycles(w) == timing.timer_cycles(5, 2) + timing.packet_cycles(40, 52) + timing.miss_cycles(2));

  s1::CoreTiming::Stats st;
  st.record(Cycles(100), false);
  st.record(Cycles(300), true);
  CHECK(st.ticks == 2);
  CHECK(st.overruns == 1);
  CHECK(st.busy == Cycles(400));
  CHECK(st.max_tick == Cycles(300));
}

TEST_CASE("system timing: timer period, time-scale factor, router and link time per packet") {
  s1::TimingParams tp;
  tp.time_scale_factor = 5;
  CHECK(tp.cycles_per_tick() == Cycles(1'000'000));
  CHECK(tp.timer_period() == SimTime::from_us(5000.0));
  CHECK(tp.duration(Ticks(10)) == SimTime::from_us(50000.0));
  CHECK(tp.min_time_scale_factor(Cycles(450000)) == 3);
  CHECK(tp.min_time_scale_factor(Cycles(200000)) == 1);
  CHECK(tp.min_time_scale_factor(Cycles(200001)) == 2);
  CHECK(tp.min_time_scale_factor(Cycles(10)) == 1);
  tp.validate();
  tp.time_scale_factor = 1.5;
  tp.validate();  // 1500 µs is whole
  tp.timestep_us = 1;
  CHECK_THROWS_AS(tp.validate(), grindstone::InputError);
  tp.time_scale_factor = 0;
  CHECK_THROWS_AS(tp.validate(), grindstone::InputError);

  CHECK(s1::link_time_per_packet(s1::InterChipLink::Params{}) == SimTime::from_ns(160));
  CHECK(s1::link_time_per_packet(s1::InterChipLink::Params{}, true) == SimTime::from_ns(288));
  CHECK(s1::router_time_per_packet(s1::Router::Params{}).ps == 7519);  // 1 cycle at 133 MHz
}

TEST_CASE("energy: board idle, active cores, packets, synaptic events") {
  const s1::EnergyModel model;
  CHECK(model.packet_joules(false) == doctest::Approx(1e-9));
  CHECK(model.packet_joules(true) == doctest::Approx(1.8e-9));
  s1::EnergyModel::Counts c;
  c.duration = SimTime::from_seconds(1.0);
  c.boards = 1;
  c.core_active_seconds = 806.0;
  c.packets_routed = 1'000'000'000;
  c.payload_packets_routed = 1'000'000;
  c.synaptic_events = 1'000'000'000;
  const auto b = model.estimate(c);
  CHECK(b.idle_joules == doctest::Approx(26.84));
  CHECK(b.core_joules == doctest::Approx(0.034 * 806));
  CHECK(b.packet_joules == doctest::Approx(1.0 + 1.8e-3));
  CHECK(b.synaptic_joules == 0.0);
  CHECK(b.total_joules() == doctest::Approx(26.84 + 27.404 + 1.0018));
  // Idle + 806 active cores ≈ the measured 59.38 W board minus the 31.88 W idle offset.
  CHECK(b.core_joules == doctest::Approx(59.38 - 31.88).epsilon(0.01));
  CHECK(b.mean_watts(c.duration) == doctest::Approx(b.total_joules()));

  s1::EnergyModel::Params p;
  p.joules_per_synaptic_event = 8e-9;
  s1::EnergyModel::Counts bare;
  bare.duration = SimTime::from_seconds(2.0);
  bare.chips = 4;
  bare.synaptic_events = 1000;
  const auto e = s1::EnergyModel(p).estimate(bare);
  CHECK(e.idle_joules == doctest::Approx(4 * 0.35 * 2));
  CHECK(e.synaptic_joules == doctest::Approx(8e-6));
  bare.packets_routed = -1;
  CHECK_THROWS_AS(model.estimate(bare), grindstone::InputError);
}

TEST_CASE("core timing: sPyNNaker 4-5 spike spacing and the incoming spike buffer's capacity") {
  const s1::CoreTiming timing;
  // time_between_spikes = int(timestep_us·tsf / (2·n)) µs, × 200 cycles/µs.
  CHECK(timing.spike_spacing_cycles(SimTime::from_us(14000.0), 255) == Cycles(27 * 200));  // 27.45 → 27 µs
  CHECK(timing.spike_spacing_cycles(SimTime::from_us(5000.0), 100) == Cycles(25 * 200));
  CHECK(timing.spike_spacing_cycles(SimTime::from_us(1000.0), 1000) == Cycles(0));  // 0.5 → 0 µs: no wait
  CHECK(timing.spike_spacing_cycles(SimTime::from_us(1000.0), 0) == Cycles(0));     // spike sources
  s1::CoreTiming::Params off;
  off.spread_spikes = false;
  CHECK(s1::CoreTiming(off).spike_spacing_cycles(SimTime::from_us(14000.0), 255) == Cycles(0));
  // circular_buffer.c: rounded up to a power of two, one slot always empty.
  CHECK(s1::incoming_spike_buffer_capacity(256) == 255);
  CHECK(s1::incoming_spike_buffer_capacity(300) == 511);
  CHECK(s1::incoming_spike_buffer_capacity(2) == 1);
  CHECK_THROWS_AS(s1::incoming_spike_buffer_capacity(1), grindstone::InputError);
}
