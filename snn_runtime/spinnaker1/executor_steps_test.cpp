// The SpiNNaker 1 executor's pieces on their own: the sample schedule, and one tick's update,
// route and delivery steps on a small mapped network, checked against the hw cost model and the
// packet books.
#include <doctest/doctest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "datasets/dataset.hpp"
#include "snn_runtime/network/input_spikes.hpp"
#include "snn_runtime/spinnaker1/core_update.hpp"
#include "snn_runtime/spinnaker1/packet_delivery.hpp"
#include "snn_runtime/spinnaker1/sample_schedule.hpp"
#include "snn_runtime/spinnaker1/tick_routing.hpp"
#include "testing/engine_networks.hpp"

namespace s1 = grindstone::snn::spinnaker1;
namespace hs1 = grindstone::hw::s1;
using namespace grindstone;

TEST_CASE("sample schedule: tiles take samples in turn, one period apart") {
  const s1::SampleSchedule s{10, 3, 4};  // 10 samples, 3 tiles, period 4 ticks
  CHECK(s.on_tile(0) == 4);              // samples 0, 3, 6, 9
  CHECK(s.on_tile(1) == 3);
  CHECK(s.on_tile(2) == 3);
  CHECK(s.global(1, 2) == 7);
  // A neuron with fire tick 2 fires for tile 0's k-th sample at tick 4k + 2.
  CHECK(s.at(0, 2, 2) == 0);
  CHECK(s.at(0, 14, 2) == 3);
  CHECK(s.at(0, 18, 2) == -1);  // tile 0 has no 5th sample
  CHECK(s.at(0, 3, 2) == -1);   // not on the period
  CHECK(s.at(0, 1, 2) == -1);   // before the first
  CHECK(s.ticks(5) == 3 * 4 + 5 + 1);
  CHECK(s1::SampleSchedule{0, 3, 4}.ticks(5) == 0);
  // A source firing over relative ticks [1, 6] is active at tick 9 for samples k = 1 (rel 5) and
  // k = 2 (rel 1).
  CHECK(s.firing(0, 9, 1, 6) == std::pair<std::int64_t, std::int64_t>{1, 2});
  CHECK(s.firing(2, 14, 1, 6) == std::pair<std::int64_t, std::int64_t>{2, 2});  // tile 2 has k ≤ 2
  CHECK(s.firing(0, 0, 1, 6).first > s.firing(0, 0, 1, 6).second);            // before the window
}

namespace {

struct SmallRun {
  snn::Network net;
  s1::Mapping mapping;
  s1::Routing routing;
  datasets::Dataset data;
  s1::ExecutorOptions options;

  static s1::MappingOptions mapping_options() {
    s1::MappingOptions o;
    o.tiles = 2;
    o.max_neurons_per_core = 8;  // several cores per layer, over several chips
    o.machine = hs1::Machine::Params::spinn5();
    o.machine.chip.n_reserved_cores = 12;
    return o;
  }
  SmallRun()
      : net(make_net()),
        mapping(s1::map_network(net, mapping_options(), "test")),
        routing(s1::build_routing(mapping, "test")) {
    data.rows = 1;
    data.cols = 64;
    data.pixels = engines_testing::random_images(64, 4, 11);
    data.labels.assign(4, 0);
    data.num_classes = 4;
    options.time_scale_factor = 10;
  }
  static snn::Network make_net() {
    snn::Network n = engines_testing::random_dense_network({64, 40, 24, 16}, 3, snn::InputEncoding::Threshold, 8);
    n.weights.is_float = false;
    n.weights.fixed = FixedPointFormat{4, 8};
    return n;
  }
};

}  // namespace

TEST_CASE("executor steps: one tick of update, route and deliver keeps the cost model and the books") {
  SmallRun r;
  REQUIRE(r.mapping.machine.chips().size() > 1);
  const s1::SampleSchedule schedule{r.data.size(), r.mapping.options.tiles, 2};
  const hs1::CoreTiming timing(r.options.core);
  const snn::InputSpikeEncoder encoder(r.net, r.data.pixels_per_image(), "test");
  std::vector<std::vector<snn::PopulationSpikes>> inputs(static_cast<std::size_t>(r.data.size()));
  for (std::int64_t s = 0; s < r.data.size(); ++s) encoder.encode(r.data.image(s), inputs[static_cast<std::size_t>(s)]);
  std::vector<s1::CoreState> cores = s1::make_core_states(r.net, r.mapping);
  const hs1::SimTime period = hs1::SimTime::from_seconds(1e-3 * r.options.time_scale_factor);
  const s1::CoreUpdate update(r.net, r.mapping, r.routing, timing, period, schedule, encoder.drivers(), inputs, -1);
  s1::TickRouting routing(r.mapping, r.routing, r.options);
  std::vector<std::vector<std::uint8_t>> out_bits(4, std::vector<std::uint8_t>(16, 0));

  // Tick 0: only the input sources fire (the first layer fires at its own tick).
  std::int64_t expected_packets = 0;
  for (std::size_t c = 0; c < cores.size(); ++c) {
    update.update(c, 0, hs1::SimTime{}, cores[c], out_bits);
    const s1::CoreState& st = cores[c];
    const auto& slice = r.mapping.slices[static_cast<std::size_t>(r.mapping.cores[c].slice)];
    const auto n = static_cast<std::int64_t>(st.spike_atoms.size());
    if (slice.kind != s1::CoreKind::Source) CHECK(n == 0);
    // Each spike leaves when the timer event's cycle count reaches it; the event ends after the
    // last neuron (sources: none updated) and spike.
    for (std::int64_t k = 0; k < n; ++k)
      CHECK(st.spike_times[static_cast<std::size_t>(k)] == timing.params().clock.duration(timing.spike_send_cycles(0, k + 1)));
    const std::int64_t updated = slice.kind == s1::CoreKind::Neurons ? slice.count : 0;
    CHECK(st.busy_until == timing.params().clock.duration(timing.timer_cycles(updated, n)));
    CHECK(st.counters.packets_sent == n * static_cast<std::int64_t>(r.routing.sources[c].targets.size()));
    expected_packets += st.counters.packets_sent;
  }
  REQUIRE(expected_packets > 0);

  routing.route(0, cores);
  std::int64_t arrived = 0;
  for (const auto& st : cores) arrived += static_cast<std::int64_t>(st.inbox.size());
  CHECK(arrived == expected_packets);  // nothing lost on an idle machine

  // Deliver with a 3-packet input queue: every arrival is either accepted or dropped, and the
  // accepted ones add synapses into the ring buffers.
  const s1::PacketDelivery delivery(r.mapping, timing, 3);
  std::int64_t delivered = 0, dropped = 0, events = 0;
  for (std::size_t c = 0; c < cores.size(); ++c) {
    delivery.deliver(c, 0, period, cores[c]);
    const auto& k = cores[c].counters;
    CHECK(k.delivered + k.queue_drops == static_cast<std::int64_t>(cores[c].inbox.size()));
    CHECK(k.timing.ticks == 1);
    delivered += k.delivered;
    dropped += k.queue_drops;
    events += k.synaptic_events;
  }
  CHECK(delivered + dropped == expected_packets);
  CHECK(dropped > 0);  // bursts of simultaneous arrivals overflow a 3-packet queue
  CHECK(events > 0);

  hs1::RingBuffer::Stats rings;
  for (const auto& st : cores)
    if (st.ring) rings += st.ring->stats();
  CHECK(rings.additions == events);

  s1::ExecutorResult res;
  CHECK(routing.summarise(res) == res.router_traversals);
  CHECK(res.router_traversals > 0);
  CHECK(res.router_stats.core_deliveries == arrived);
  CHECK(res.packets_dropped_random == 0);
  CHECK(res.packets_dropped_router == 0);
}

TEST_CASE("executor steps: the input queue takes arrivals in time order, whatever the inbox order") {
  SmallRun r;
  const hs1::CoreTiming timing(r.options.core);
  std::vector<s1::CoreState> cores = s1::make_core_states(r.net, r.mapping);
  // A neuron core of the first layer, fed the same packets in two orders.
  std::size_t target = 0;
  while (r.mapping.slices[static_cast<std::size_t>(r.mapping.cores[target].slice)].kind != s1::CoreKind::Neurons) ++target;
  std::size_t source = 0;
  while (r.mapping.slices[static_cast<std::size_t>(r.mapping.cores[source].slice)].kind != s1::CoreKind::Source) ++source;
  std::vector<s1::Delivery> inbox;
  for (std::uint32_t a = 0; a < 8; ++a) inbox.push_back({hs1::SimTime::from_us(1.0 + (a % 2)), static_cast<std::int32_t>(source), a});
  const s1::PacketDelivery delivery(r.mapping, timing, 2);
  const hs1::SimTime period = hs1::SimTime::from_seconds(1e-2);
  auto run = [&](std::vector<s1::Delivery> in) {
    s1::CoreState& st = cores[target];
    st = std::move(s1::make_core_states(r.net, r.mapping)[target]);
    st.inbox = std::move(in);
    delivery.deliver(target, 0, period, st);
    return std::make_pair(st.counters.delivered, st.counters.queue_drops);
  };
  const auto forward = run(inbox);
  std::reverse(inbox.begin(), inbox.end());
  const auto backward = run(inbox);
  CHECK(forward == backward);
  CHECK(forward.first + forward.second == 8);
  CHECK(forward.second > 0);
}

TEST_CASE("executor steps: neuron cores space their spikes, the queue frees a slot when a row's DMA starts") {
  SmallRun r;
  const hs1::CoreTiming timing(r.options.core);
  const s1::SampleSchedule schedule{r.data.size(), r.mapping.options.tiles, 2};
  const snn::InputSpikeEncoder encoder(r.net, r.data.pixels_per_image(), "test");
  std::vector<std::vector<snn::PopulationSpikes>> inputs(static_cast<std::size_t>(r.data.size()));
  for (std::int64_t s = 0; s < r.data.size(); ++s) encoder.encode(r.data.image(s), inputs[static_cast<std::size_t>(s)]);
  const hs1::SimTime period = hs1::SimTime::from_seconds(1e-3 * r.options.time_scale_factor);
  const s1::CoreUpdate update(r.net, r.mapping, r.routing, timing, period, schedule, encoder.drivers(), inputs, -1);
  s1::TickRouting routing(r.mapping, r.routing, r.options);
  const s1::PacketDelivery delivery(r.mapping, timing, 256);
  std::vector<s1::CoreState> cores = s1::make_core_states(r.net, r.mapping);
  std::vector<std::vector<std::uint8_t>> out_bits(4, std::vector<std::uint8_t>(16, 0));
  // Run ticks until a neuron core has spiked: its k-th spike leaves no earlier than
  // overhead + k·spacing after its timer event started, and the waits are not busy time.
  bool checked = false;
  for (std::int64_t T = 0; T < 6 && !checked; ++T) {
    for (std::size_t c = 0; c < cores.size(); ++c) update.update(c, T, period * T, cores[c], out_bits);
    for (std::size_t c = 0; c < cores.size(); ++c) {
      const auto& slice = r.mapping.slices[static_cast<std::size_t>(r.mapping.cores[c].slice)];
      const s1::CoreState& st = cores[c];
      if (slice.kind != s1::CoreKind::Neurons || st.spike_atoms.size() < 2) continue;
      const hs1::Cycles spacing = timing.spike_spacing_cycles(period, slice.count);
      REQUIRE(spacing > hs1::Cycles(0));
      for (std::size_t k = 0; k < st.spike_times.size(); ++k) {
        const auto at = timing.params().clock.cycles_in(st.spike_times[k] - st.tick_began);
        CHECK(at >= timing.timer_overhead_cycles() + spacing * static_cast<std::int64_t>(k + 1));
        if (k) CHECK(st.spike_times[k] > st.spike_times[k - 1]);
      }
      CHECK(st.busy_until - st.tick_began ==
            timing.params().clock.duration(timing.timer_cycles(slice.count, static_cast<std::int64_t>(st.spike_atoms.size()))));
      checked = true;
    }
    routing.route(T, cores);
    for (std::size_t c = 0; c < cores.size(); ++c) delivery.deliver(c, T, period, cores[c]);
  }
  CHECK(checked);

  // 300 simultaneous packets at an idle core with the default buffer (255 usable): the first
  // leaves the buffer at once (its DMA starts), and so does the second (the first's DMA-complete
  // callback starts the second's read before processing the first row); each later one leaves
  // when its predecessor's row is handed to processing. So 255 + 2 are accepted, 43 dropped.
  std::size_t target = 0;
  while (r.mapping.slices[static_cast<std::size_t>(r.mapping.cores[target].slice)].kind != s1::CoreKind::Neurons) ++target;
  std::size_t source = 0;
  while (r.mapping.slices[static_cast<std::size_t>(r.mapping.cores[source].slice)].kind != s1::CoreKind::Source) ++source;
  s1::CoreState st = std::move(s1::make_core_states(r.net, r.mapping)[target]);
  for (std::uint32_t a = 0; a < 300; ++a) st.inbox.push_back({hs1::SimTime::from_us(1.0), static_cast<std::int32_t>(source), a % 64});
  delivery.deliver(target, 0, period, st);
  CHECK(st.counters.delivered == 257);
  CHECK(st.counters.queue_drops == 43);
}

TEST_CASE("executor steps: a packet lost at its first router counts once per target downstream") {
  SmallRun r;
  r.options.drop_probability = 1.0;  // every router drops every packet it receives
  const hs1::SimTime period = hs1::SimTime::from_seconds(1e-3 * r.options.time_scale_factor);
  const s1::SampleSchedule schedule{r.data.size(), r.mapping.options.tiles, 2};
  const hs1::CoreTiming timing(r.options.core);
  const snn::InputSpikeEncoder encoder(r.net, r.data.pixels_per_image(), "test");
  std::vector<std::vector<snn::PopulationSpikes>> inputs(static_cast<std::size_t>(r.data.size()));
  for (std::int64_t s = 0; s < r.data.size(); ++s) encoder.encode(r.data.image(s), inputs[static_cast<std::size_t>(s)]);
  std::vector<s1::CoreState> cores = s1::make_core_states(r.net, r.mapping);
  const s1::CoreUpdate update(r.net, r.mapping, r.routing, timing, period, schedule, encoder.drivers(), inputs, -1);
  s1::TickRouting routing(r.mapping, r.routing, r.options);
  std::vector<std::vector<std::uint8_t>> out_bits(4, std::vector<std::uint8_t>(16, 0));
  std::int64_t sent = 0;
  for (std::size_t c = 0; c < cores.size(); ++c) {
    update.update(c, 0, hs1::SimTime{}, cores[c], out_bits);
    sent += cores[c].counters.packets_sent;
  }
  REQUIRE(sent > 0);
  routing.route(0, cores);
  for (const auto& st : cores) CHECK(st.inbox.empty());
  s1::ExecutorResult res;
  routing.summarise(res);
  CHECK(res.packets_dropped_random == sent);
  CHECK(res.packets_dropped_router == 0);
}
