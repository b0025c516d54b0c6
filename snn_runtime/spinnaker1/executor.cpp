#include "snn_runtime/spinnaker1/executor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "common/random.hpp"
#include "hw_model/spinnaker1/delays.hpp"
#include "hw_model/spinnaker1/ring_buffer.hpp"
#include "hw_model/spinnaker1/router.hpp"
#include "snn_runtime/network/decode.hpp"
#include "snn_runtime/network/input_spikes.hpp"
#include "snn_runtime/spinnaker1/routing_groups.hpp"
#include "snn_runtime/spinnaker1/row_plan.hpp"

namespace grindstone::snn::spinnaker1 {
namespace {

using hw::s1::Cycles;
using hw::s1::SimTime;
using hw::s1::Ticks;

/// A packet arriving at a core's input queue.
struct Delivery {
  SimTime time;
  std::int32_t source = 0;  ///< global source core
  std::uint32_t atom = 0;
};

/// A router event of the per-tick discrete-event simulation.
struct RouterEvent {
  SimTime time;
  std::uint64_t seq = 0;     ///< canonical tie-break (injection order, then creation order)
  std::int32_t chip = 0;
  std::int32_t source = 0;   ///< global source core
  std::uint32_t atom = 0;
  hw::s1::Arrival from;
  bool reinjection = false;
  /// Injected packets: position in GroupEvents::injected of the same core's next packet.
  std::uint32_t next_of_core = kNoNext;
  static constexpr std::uint32_t kNoNext = ~std::uint32_t{0};
  /// A packet on an emergency detour keeps its state from hop to hop; without it the middle chip
  /// would look the key up, miss, and default-route the packet away for ever.
  hw::s1::EmergencyState emergency = hw::s1::EmergencyState::Normal;
  bool operator>(const RouterEvent& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

/// Per-core counters, summed in core order after each run.
struct CoreCounters {
  std::int64_t spikes = 0, synaptic_events = 0, delivered = 0, queue_drops = 0, late_packets = 0, late_events = 0,
               misses = 0;
  hw::s1::CoreTiming::Stats timing;  ///< work per tick, overruns
};

/// Per-routing-group counters.
struct GroupCounters {
  std::int64_t dropped_random = 0, dropped_router = 0;
};

/// Per-routing-group event storage, reused from tick to tick (no allocation per packet). A core's
/// packets leave in time order, so instead of holding every injected packet, the min-heap holds
/// the next packet of each source core plus the events routing creates (link hops,
/// reinjections); popping a core's packet pushes its successor. The heap thus stays small, and
/// events are visited in exactly the (time, seq) order of one priority queue over all of them.
struct GroupEvents {
  std::vector<RouterEvent> injected;  ///< per source core, a run in (time, seq) order
  std::vector<RouterEvent> heap;
};

/// Dense memo of routing-table lookups, replacing the routers' hash maps on the hot path: one
/// entry per (source core, chip of its tree, atom) — the only (router, key) pairs the executor
/// can produce — holding the router's lookup_index of that key, or kUnknown until first used.
/// Each chip belongs to one routing group per tick, so concurrent groups write disjoint entries.
class RouteMemo {
 public:
  static constexpr std::int16_t kUnknown = -2;
  /// Above this many entries (2 bytes each) the memo is not built and routers memoise themselves.
  static constexpr std::size_t kMaxEntries = std::size_t{1} << 25;

  RouteMemo(const Mapping& m, const Routing& routing) {
    begin_.assign(m.cores.size() + 1, 0);
    atoms_.assign(m.cores.size(), 0);
    for (std::size_t c = 0; c < m.cores.size(); ++c) {
      atoms_[c] = static_cast<std::size_t>(m.slices[static_cast<std::size_t>(m.cores[c].slice)].atoms());
      begin_[c + 1] = begin_[c] + routing.sources[c].chips.size() * atoms_[c];
    }
    enabled_ = begin_.back() <= kMaxEntries;
    if (enabled_) entries_.assign(begin_.back(), kUnknown);
  }
  bool enabled() const { return enabled_; }
  /// The table entry of `key` (= the key of `source`'s atom `atom`) at `router`, the router of
  /// `chip`: looked up on first use; kUnknown if the chip is not on the source's tree.
  int entry(const SourceRoutes& sr, std::size_t source, int chip, std::uint32_t atom, std::uint32_t key,
            const hw::s1::Router& router) {
    const auto it = std::lower_bound(sr.chips.begin(), sr.chips.end(), chip);
    if (it == sr.chips.end() || *it != chip || atom >= atoms_[source]) return kUnknown;
    const auto hop = static_cast<std::size_t>(it - sr.chips.begin());
    std::int16_t& e = entries_[begin_[source] + hop * atoms_[source] + atom];
    if (e == kUnknown) e = static_cast<std::int16_t>(router.table().lookup_index(key));
    return e;
  }

 private:
  std::vector<std::size_t> begin_;  ///< per source core: first entry
  std::vector<std::size_t> atoms_;  ///< per source core
  std::vector<std::int16_t> entries_;  ///< lookup_index (≤ 1023) or kUnknown
  bool enabled_ = false;
};

struct CoreState {
  std::unique_ptr<hw::s1::RingBuffer> ring;   ///< neuron cores
  std::vector<std::int64_t> drained;          ///< 2 × neurons
  std::vector<std::int64_t> potential;        ///< integrate-and-fire neurons
  std::vector<std::vector<std::uint32_t>> scheduled;  ///< delay cores: atoms per future tick (ring)
  SimTime busy_until;                         ///< end of the core's work so far
  SimTime tick_began;                         ///< when this tick's timer event started
  std::vector<std::uint32_t> spike_atoms;     ///< this tick's spikes
  std::vector<SimTime> spike_times;
  std::vector<Delivery> inbox;
  std::vector<SimTime> queue_starts;          ///< scratch: processing start of accepted packets
  CoreCounters counters;
};

}  // namespace

ExecutorResult execute(const Network& network, const Mapping& m, const Routing& routing, const datasets::Dataset& data,
                       const ExecutorOptions& opt, const std::string& context) {
  const auto wall_start = std::chrono::steady_clock::now();
  require_input(opt.timestep_ms > 0 && opt.time_scale_factor > 0, context, "--time-scale-factor/--timestep-ms: must be positive");
  const double period_ratio = opt.between_sample_ms / opt.timestep_ms;
  const auto period = static_cast<std::int64_t>(std::llround(period_ratio));
  require_input(period >= 1 && std::abs(period_ratio - static_cast<double>(period)) < 1e-9, context,
                "--between-sample-ms: must be a positive multiple of the timestep");
  require_input(opt.drop_probability >= 0.0 && opt.drop_probability <= 1.0, context, "--drop-probability: must be in [0, 1]");
  const InputSpikeEncoder encoder(network, data.pixels_per_image(), context);
  const Decoder decoder(network.decode, network.populations[static_cast<std::size_t>(network.output)].size(), context);

  const std::int64_t n_samples = data.size();
  const int tiles = m.options.tiles;
  const auto n_cores = m.cores.size();
  const auto n_chips = m.machine.chips().size();
  const SimTime tick_period = SimTime::from_seconds(opt.timestep_ms * 1e-3 * opt.time_scale_factor);
  const hw::s1::CoreTiming timing(opt.core);
  const hw::s1::Clock cpu = opt.core.clock;

  // Samples: global sample s runs on tile s % tiles as that tile's (s / tiles)-th sample, which
  // starts at tick (s / tiles) · period.
  auto samples_on_tile = [&](int tile) { return tile < n_samples ? (n_samples - tile + tiles - 1) / tiles : 0; };
  int depth = 0;  // last fire tick of any population
  for (const Population& p : network.populations) depth = std::max(depth, p.last_fire_tick());
  const Population& out_pop = network.populations[static_cast<std::size_t>(network.output)];
  const std::int64_t max_per_tile = samples_on_tile(0);
  const std::int64_t n_ticks = max_per_tile == 0 ? 0 : (max_per_tile - 1) * period + depth + 1;

  // Encoded inputs, per sample and source population (drivers order).
  std::vector<int> driver_of(network.populations.size(), -1);
  for (std::size_t d = 0; d < encoder.drivers().size(); ++d) driver_of[static_cast<std::size_t>(encoder.drivers()[d].population)] = static_cast<int>(d);
  std::vector<std::vector<PopulationSpikes>> inputs(static_cast<std::size_t>(n_samples));
  parallel_for_collected(std::int64_t{0}, n_samples, [&](std::int64_t s) { encoder.encode(data.image(s), inputs[static_cast<std::size_t>(s)]); });

  // Group boundaries per population: group g holds neurons [bounds[g], bounds[g+1]).
  std::vector<std::vector<std::int64_t>> group_bounds(network.populations.size());
  for (std::size_t p = 0; p < network.populations.size(); ++p) {
    const Population& pop = network.populations[p];
    auto& b = group_bounds[p];
    b.assign(static_cast<std::size_t>(pop.temporal_groups) + 1, pop.size());
    b[0] = 0;
    for (std::int64_t i = pop.size() - 1; i >= 0; --i) b[static_cast<std::size_t>(pop.group_of(i))] = i;
    for (int g = pop.temporal_groups - 1; g >= 0; --g)
      b[static_cast<std::size_t>(g)] = std::min(b[static_cast<std::size_t>(g)], b[static_cast<std::size_t>(g) + 1]);
  }

  // ---- state ----------------------------------------------------------------------------------------
  std::vector<CoreState> cores(n_cores);
  const auto delay_ring = static_cast<int>((hw::s1::kMaxDelay + hw::s1::kDelayStageTicks).value + 1);
  for (std::size_t c = 0; c < n_cores; ++c) {
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
      st.scheduled.assign(static_cast<std::size_t>(delay_ring), {});
    }
  }
  std::vector<hw::s1::Router> routers;
  routers.reserve(n_chips);
  hw::s1::Router::Params router_params = opt.router;
  router_params.table = m.options.router_table;  // the tables were compressed to fit this
  for (std::size_t c = 0; c < n_chips; ++c) {
    routers.emplace_back(m.machine, m.machine.chips()[c], router_params);
    routers.back().load_table(routing.tables[c]);
  }
  // Rows regrouped for the host, and the processing time of each row (cycles → time once).
  std::vector<PreparedMatrix> prepared(m.matrices.size());
  std::vector<std::vector<SimTime>> row_duration(m.matrices.size());
  parallel_for_collected(std::size_t{0}, m.matrices.size(), [&](std::size_t i) {
    const SynapticMatrix& mat = m.matrices[i];
    prepared[i] = prepare_matrix(mat);
    row_duration[i].resize(mat.row_begin.size() - 1);
    for (std::size_t a = 0; a + 1 < mat.row_begin.size(); ++a) {
      const std::uint32_t len = mat.row_begin[a + 1] - mat.row_begin[a];
      row_duration[i][a] = cpu.duration(timing.packet_cycles(len, hw::s1::CoreBudget::row_bytes(static_cast<int>(len))));
    }
  });
  const SimTime miss_duration = cpu.duration(timing.miss_cycles());
  const SimTime delay_packet_duration = cpu.duration(timing.relay_cycles());
  RouteMemo route_memo(m, routing);
  std::vector<GroupEvents> group_events;
  // Key → source core: vertex-global index and core-in-vertex.
  std::vector<std::uint32_t> key_of_core(n_cores);
  for (std::size_t c = 0; c < n_cores; ++c) key_of_core[c] = m.cores[c].key;

  ExecutorResult res;
  res.samples = n_samples;
  res.predictions.assign(static_cast<std::size_t>(n_samples), -1);
  std::vector<std::vector<std::uint8_t>> out_bits(static_cast<std::size_t>(n_samples),
                                                  std::vector<std::uint8_t>(static_cast<std::size_t>(out_pop.size()), 0));
  std::vector<std::int64_t> sent_per_core(n_cores, 0);
  std::vector<GroupCounters> group_counters;
  std::vector<std::vector<RasterSpike>> raster_per_core(n_cores);
  const auto raster_tile = opt.raster_sample >= 0 ? static_cast<int>(opt.raster_sample % tiles) : -1;
  const std::int64_t raster_k = opt.raster_sample >= 0 ? opt.raster_sample / tiles : -1;

  auto sample_index = [&](int tile, std::int64_t rel_tick, int fire_tick) -> std::int64_t {
    // Which of the tile's samples has `fire_tick` at absolute tick rel_tick (−1 if none).
    const std::int64_t d = rel_tick - fire_tick;
    if (d < 0 || d % period != 0) return -1;
    const std::int64_t k = d / period;
    return k < samples_on_tile(tile) ? k : -1;
  };

  RoutingGroups groups(n_chips);
  std::vector<int> active;  // this tick's sources with spikes and targets

  for (std::int64_t T = 0; T < n_ticks; ++T) {
    const SimTime tick_start = tick_period * T;
    // ---- phase 1: timer events (neuron updates, sources, delay re-sends) ----------------------
    auto phase_start = std::chrono::steady_clock::now();
    auto lap = [&](int phase) {
      const auto now = std::chrono::steady_clock::now();
      res.phase_seconds[static_cast<std::size_t>(phase)] += std::chrono::duration<double>(now - phase_start).count();
      phase_start = now;
    };
    parallel_for_collected(std::size_t{0}, n_cores, [&](std::size_t c) {
      const PlacedCore& pc = m.cores[c];
      const CoreSlice& s = m.slices[static_cast<std::size_t>(pc.slice)];
      CoreState& st = cores[c];
      st.spike_atoms.clear();
      st.spike_times.clear();
      st.inbox.clear();
      const SimTime start = hw::s1::max(tick_start, st.busy_until);
      st.tick_began = start;
      hw::s1::CoreTickWork work;
      const Population& pop = network.populations[static_cast<std::size_t>(s.population)];
      auto emit = [&](std::uint32_t atom, std::int64_t neurons_before) {
        st.spike_atoms.push_back(atom);
        const Cycles at = timing.spike_send_cycles(neurons_before, static_cast<std::int64_t>(st.spike_atoms.size()));
        st.spike_times.push_back(start + cpu.duration(at));
      };
      if (s.kind == CoreKind::Neurons) {
        st.ring->drain(Ticks(T), st.drained);
        const std::int64_t* exc = st.drained.data();
        const std::int64_t* inh = exc + s.count;
        const PopulationWeightEncoding& enc = m.encodings[static_cast<std::size_t>(s.population)];
        work.neurons_updated = s.count;
        if (!st.potential.empty()) {
          for (std::int32_t a = 0; a < s.count; ++a) {
            const auto i = static_cast<std::size_t>(s.first + a);
            auto& v = st.potential[static_cast<std::size_t>(a)];
            v += exc[a] - inh[a] + (enc.bias_units.empty() ? 0 : enc.bias_units[i]);
            if (v >= enc.threshold_units[i]) {
              v -= enc.threshold_units[i];
              emit(static_cast<std::uint32_t>(a), a + 1);
            }
          }
        } else {
          // Instant decay: only neurons whose fire tick is now for one of the tile's samples.
          const auto& b = group_bounds[static_cast<std::size_t>(s.population)];
          for (int g = 0; g < pop.temporal_groups; ++g) {
            const std::int64_t lo = std::max(b[static_cast<std::size_t>(g)], s.first);
            const std::int64_t hi = std::min(b[static_cast<std::size_t>(g) + 1], s.first + s.count);
            if (lo >= hi || sample_index(pc.tile, T, pop.tick + g) < 0) continue;
            for (std::int64_t i = lo; i < hi; ++i) {
              const auto a = static_cast<std::size_t>(i - s.first);
              const std::int64_t v = exc[a] - inh[a];
              if (v >= enc.threshold_units[static_cast<std::size_t>(i)]) emit(static_cast<std::uint32_t>(a), static_cast<std::int64_t>(a) + 1);
            }
          }
        }
      } else if (s.kind == CoreKind::Source) {
        const int d = driver_of[static_cast<std::size_t>(s.population)];
        // Samples k whose source fires now: tick ≤ T − k·period ≤ last fire tick.
        const std::int64_t k_lo = std::max<std::int64_t>(0, (T - pop.last_fire_tick() + period - 1) / period);
        const std::int64_t k_hi = std::min<std::int64_t>(samples_on_tile(pc.tile) - 1, (T - pop.tick) / period);
        for (std::int64_t k = k_lo; T >= pop.tick && k <= k_hi; ++k) {
          const std::int64_t rel = T - k * period;
          const PopulationSpikes& ps =
              inputs[static_cast<std::size_t>(pc.tile + k * tiles)][static_cast<std::size_t>(d)];
          auto lo = std::lower_bound(ps.neurons.begin(), ps.neurons.end(), s.first);
          for (auto it = lo; it != ps.neurons.end() && *it < s.first + s.count; ++it) {
            const auto idx = static_cast<std::size_t>(it - ps.neurons.begin());
            if (ps.ticks[idx] == rel) emit(static_cast<std::uint32_t>(*it - s.first), 0);
          }
        }
        work.neurons_spiked = static_cast<std::int64_t>(st.spike_atoms.size());
      } else {
        auto& due = st.scheduled[static_cast<std::size_t>(T % delay_ring)];
        std::sort(due.begin(), due.end());
        for (std::uint32_t atom : due) emit(atom, 0);
        due.clear();
        work.neurons_spiked = static_cast<std::int64_t>(st.spike_atoms.size());
      }
      if (s.kind == CoreKind::Neurons) work.neurons_spiked = static_cast<std::int64_t>(st.spike_atoms.size());
      st.busy_until = start + cpu.duration(timing.timer_cycles(work.neurons_updated, work.neurons_spiked));
      if (s.kind != CoreKind::DelayExtension) st.counters.spikes += static_cast<std::int64_t>(st.spike_atoms.size());
      // Output spikes → sample bits; raster.
      const bool is_output = s.population == network.output && s.kind == CoreKind::Neurons;
      for (std::uint32_t atom : st.spike_atoms) {
        if (s.kind == CoreKind::DelayExtension) break;
        const std::int64_t i = s.first + atom;
        const std::int64_t k = sample_index(pc.tile, T, pop.fire_tick(i));
        if (k < 0) continue;
        if (is_output) out_bits[static_cast<std::size_t>(pc.tile + k * tiles)][static_cast<std::size_t>(i)] = 1;
        if (pc.tile == raster_tile && k == raster_k)
          raster_per_core[c].push_back({static_cast<std::int32_t>(T - k * period), s.population, i});
      }
      sent_per_core[c] += static_cast<std::int64_t>(st.spike_atoms.size()) *
                          static_cast<std::int64_t>(routing.sources[c].targets.size());
    });

    lap(0);
    // ---- phase 2: routing, one discrete-event simulation per group of connected chips ------------
    active.clear();
    for (std::size_t c = 0; c < n_cores; ++c)
      if (!cores[c].spike_atoms.empty() && !routing.sources[c].targets.empty()) active.push_back(static_cast<int>(c));
    groups.build(active, routing.sources, opt.router.wait2_cycles > hw::s1::RouterCycles(0));
    if (group_counters.size() < groups.size()) group_counters.resize(groups.size());
    if (group_events.size() < groups.size()) group_events.resize(groups.size());
    // The blocked neighbour a detour heads for: the middle chip passes it on over the link after
    // the one it arrived on (see Router::forward), which leads to that neighbour.
    auto detour_target = [&](int chip, hw::s1::Link arrived_on) {
      const auto next = m.machine.neighbour(m.machine.chips()[static_cast<std::size_t>(chip)],
                                            hw::s1::link_from_index(hw::s1::link_index(arrived_on) + 1));
      return next ? m.machine.chip_index(*next) : chip;
    };
    parallel_for_collected(std::size_t{0}, groups.size(), [&](std::size_t g) {
      GroupCounters local;
      std::vector<RouterEvent>& injected = group_events[g].injected;
      std::vector<RouterEvent>& heap = group_events[g].heap;
      injected.clear();
      heap.clear();
      auto push = [&](const RouterEvent& e) {
        heap.push_back(e);
        std::push_heap(heap.begin(), heap.end(), std::greater<>{});
      };
      std::uint64_t seq = 0;
      for (int src : groups.sources(g)) {
        const CoreState& st = cores[static_cast<std::size_t>(src)];
        const PlacedCore& pc = m.cores[static_cast<std::size_t>(src)];
        const std::size_t run = injected.size();
        for (std::size_t k = 0; k < st.spike_atoms.size(); ++k)
          injected.push_back({st.spike_times[k], seq++, pc.chip, src, st.spike_atoms[k], hw::s1::Arrival::from_core(pc.processor), false});
        const auto first = injected.begin() + static_cast<std::ptrdiff_t>(run);
        auto earlier = [](const RouterEvent& a, const RouterEvent& b) { return b > a; };
        // Spike times rise with the spike count (see emit), so this sort never runs; it keeps the
        // merge exact should that change.
        if (!std::is_sorted(first, injected.end(), earlier)) std::sort(first, injected.end(), earlier);
        for (std::size_t k = run; k + 1 < injected.size(); ++k) injected[k].next_of_core = static_cast<std::uint32_t>(k + 1);
        if (run < injected.size()) push(injected[run]);
      }
      while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
        const RouterEvent ev = heap.back();
        heap.pop_back();
        if (ev.next_of_core != RouterEvent::kNoNext) push(injected[ev.next_of_core]);
        const SourceRoutes& sr = routing.sources[static_cast<std::size_t>(ev.source)];
        const std::uint32_t key = key_of_core[static_cast<std::size_t>(ev.source)] | ev.atom;
        // The chip whose tree position a loss is charged to: a detour's middle chip is off the
        // tree, so its losses are those of the blocked neighbour it is heading for.
        const int tree_chip = ev.emergency == hw::s1::EmergencyState::FirstLeg && !ev.from.local
                                  ? detour_target(ev.chip, ev.from.link)
                                  : ev.chip;
        hw::s1::Router& router = routers[static_cast<std::size_t>(ev.chip)];
        hw::s1::Router::ForwardResult r;
        if (ev.reinjection) {
          r = router.reinject_next(ev.time);
        } else {
          if (opt.drop_probability > 0.0 &&
              random_uniform(opt.seed, static_cast<std::uint64_t>(T), (std::uint64_t{key} << 20) ^ static_cast<std::uint64_t>(ev.chip)) <
                  opt.drop_probability) {
            local.dropped_random += sr.downstream_of(tree_chip);
            continue;
          }
          hw::s1::MulticastPacket packet = hw::s1::MulticastPacket::with_key(key);
          packet.emergency = ev.emergency;
          const int entry = route_memo.enabled() && ev.emergency == hw::s1::EmergencyState::Normal
                                ? route_memo.entry(sr, static_cast<std::size_t>(ev.source), ev.chip, ev.atom, key, router)
                                : RouteMemo::kUnknown;
          r = entry == RouteMemo::kUnknown ? router.forward(packet, ev.from, ev.time)
                                           : router.forward(packet, ev.from, ev.time, entry);
        }
        if (!r.sent) {
          if (r.reinjection_queued) {
            push({r.reinject_at, seq++, ev.chip, ev.source, ev.atom, ev.from, true, RouterEvent::kNoNext, r.packet.emergency});
          } else {
            local.dropped_router += sr.downstream_of(tree_chip);
          }
          continue;
        }
        for (hw::s1::Link l : hw::s1::kAllLinks) {
          if (!r.outputs.has_link(l)) continue;
          const auto next = m.machine.neighbour(m.machine.chips()[static_cast<std::size_t>(ev.chip)], l);
          if (!next) continue;  // unreachable: routes only use live links
          const auto state = hw::s1::link_index(l) == r.emergency_link ? hw::s1::EmergencyState::FirstLeg : r.packet.emergency;
          push({r.link_arrival[static_cast<std::size_t>(hw::s1::link_index(l))], seq++, m.machine.chip_index(*next), ev.source,
                ev.atom, hw::s1::Arrival::from_link(hw::s1::opposite(l)), false, RouterEvent::kNoNext, state});
        }
        const std::uint32_t core_bits = r.outputs.core_bits();
        for (int p = 0; core_bits >> p; ++p) {
          if (!((core_bits >> p) & 1u)) continue;
          const int target = routing.core_at[static_cast<std::size_t>(ev.chip)][static_cast<std::size_t>(p)];
          if (target >= 0) cores[static_cast<std::size_t>(target)].inbox.push_back({r.core_delivery, ev.source, ev.atom});
        }
      }
      group_counters[g].dropped_random += local.dropped_random;
      group_counters[g].dropped_router += local.dropped_router;
    });

    lap(1);
    // ---- phase 3: packet processing at the target cores -----------------------------------------
    parallel_for_collected(std::size_t{0}, n_cores, [&](std::size_t c) {
      CoreState& st = cores[c];
      const PlacedCore& pc = m.cores[c];
      const CoreSlice& s = m.slices[static_cast<std::size_t>(pc.slice)];
      if (!st.inbox.empty()) {
        std::sort(st.inbox.begin(), st.inbox.end(), [](const Delivery& a, const Delivery& b) {
          if (a.time != b.time) return a.time < b.time;
          return a.source != b.source ? a.source < b.source : a.atom < b.atom;
        });
        const auto& table = m.population_table[static_cast<std::size_t>(pc.slice)];
        SimTime cursor = st.busy_until;
        st.queue_starts.clear();
        std::size_t waiting_from = 0;  // first accepted packet that had not started at `arrival`
        for (const Delivery& d : st.inbox) {
          while (waiting_from < st.queue_starts.size() && st.queue_starts[waiting_from] <= d.time) ++waiting_from;
          if (st.queue_starts.size() - waiting_from >= static_cast<std::size_t>(opt.input_queue_packets)) {
            ++st.counters.queue_drops;
            continue;
          }
          ++st.counters.delivered;
          const SimTime begin = hw::s1::max(cursor, d.time);
          st.queue_starts.push_back(begin);
          // Master population table: binary search by source slice (the key's vertex|core part).
          const int src_slice = m.cores[static_cast<std::size_t>(d.source)].slice;
          if (s.kind == CoreKind::DelayExtension) {
            const std::uint16_t mask = s.stage_mask[d.atom];
            const SimTime finish = begin + delay_packet_duration;
            for (int stage = 1; stage <= s.stages; ++stage) {
              if (!((mask >> (stage - 1)) & 1u)) continue;
              const std::int64_t when = T + static_cast<std::int64_t>(stage) * hw::s1::kDelayStageTicks.value;
              if (finish > tick_period * when) { ++st.counters.late_events; continue; }
              st.scheduled[static_cast<std::size_t>(when % delay_ring)].push_back(
                  static_cast<std::uint32_t>((stage - 1) * s.count) + d.atom);
            }
            cursor = finish;
            continue;
          }
          auto it = std::lower_bound(table.begin(), table.end(), src_slice,
                                     [](const PopulationTableEntry& e, int v) { return e.source_slice < v; });
          if (it == table.end() || it->source_slice != src_slice) {
            ++st.counters.misses;
            cursor = begin + miss_duration;
            continue;
          }
          // The row's synapses, added run by run (row_plan.hpp: identical to word by word).
          const auto matrix = static_cast<std::size_t>(it->matrix);
          const SimTime finish = begin + row_duration[matrix][d.atom];
          const RowOutcome row = apply_row(prepared[matrix], d.atom, *st.ring, Ticks(T), finish, tick_period);
          st.counters.synaptic_events += row.added;
          st.counters.late_events += row.late;
          if (row.late > 0) ++st.counters.late_packets;
          cursor = finish;
        }
        st.busy_until = cursor;
      }
      st.counters.timing.record(cpu.cycles_in(st.busy_until - st.tick_began), st.busy_until > tick_start + tick_period);
    });

    lap(2);
    // ---- decode the samples whose last output tick was this one --------------------------------
    const std::int64_t done_rel = T - out_pop.last_fire_tick();
    if (done_rel >= 0 && done_rel % period == 0) {
      const std::int64_t k = done_rel / period;
      for (int t = 0; t < tiles; ++t) {
        const std::int64_t s = t + k * tiles;
        if (k < samples_on_tile(t) && s < n_samples)
          res.predictions[static_cast<std::size_t>(s)] = decoder.decode_bits(out_bits[static_cast<std::size_t>(s)]);
      }
    }
  }

  // ---- totals, in core order -------------------------------------------------------------------------
  for (std::size_t c = 0; c < n_cores; ++c) {
    const CoreCounters& k = cores[c].counters;
    res.spikes += k.spikes;
    res.synaptic_events += k.synaptic_events;
    res.packets_delivered += k.delivered;
    res.packets_dropped_input_queue += k.queue_drops;
    res.late_spikes += k.late_packets;
    res.late_synaptic_events += k.late_events;
    res.pop_table_misses += k.misses;
    res.core_timing_stats += k.timing;
    res.packets_sent += sent_per_core[c];
    if (cores[c].ring) {
      res.ring_buffer_saturations += cores[c].ring->stats().saturations;
      res.ring_buffer_stats += cores[c].ring->stats();
    }
    res.raster.insert(res.raster.end(), raster_per_core[c].begin(), raster_per_core[c].end());
  }
  for (const GroupCounters& g : group_counters) {
    res.packets_dropped_random += g.dropped_random;
    res.packets_dropped_router += g.dropped_router;
  }
  res.packets_dropped = res.packets_dropped_random + res.packets_dropped_router + res.packets_dropped_input_queue;
  res.router_packets.assign(n_chips, 0);
  std::int64_t traversals = 0;
  for (std::size_t c = 0; c < n_chips; ++c) {
    res.router_packets[c] = routers[c].stats().packets_received;
    res.packets_reinjected += routers[c].stats().reinjected;
    traversals += routers[c].stats().packets_received;
    res.router_stats += routers[c].stats();
    for (hw::s1::Link l : hw::s1::kAllLinks) res.link_stats += routers[c].link(l).stats();
  }
  res.router_traversals = traversals;
  res.core_overruns = res.core_timing_stats.overruns;
  res.worst_tick_cycles = res.core_timing_stats.max_tick.value;
  for (std::int64_t s = 0; s < n_samples; ++s)
    if (res.predictions[static_cast<std::size_t>(s)] == data.labels[static_cast<std::size_t>(s)]) ++res.correct;
  res.accuracy = n_samples ? static_cast<double>(res.correct) / static_cast<double>(n_samples) : 0.0;
  res.ticks = n_ticks;
  res.timer_period_seconds = tick_period.seconds();
  res.simulated_seconds = tick_period.seconds() * static_cast<double>(n_ticks);
  res.hw_latency_seconds = tick_period.seconds() * static_cast<double>(out_pop.last_fire_tick() + 1);
  res.hw_throughput_samples_per_second = res.simulated_seconds > 0 ? static_cast<double>(n_samples) / res.simulated_seconds : 0.0;

  hw::s1::EnergyModel::Counts counts;
  counts.duration = tick_period * n_ticks;
  counts.boards = m.machine.n_boards();
  counts.core_active_seconds = static_cast<double>(n_cores) * res.simulated_seconds;
  counts.packets_routed = traversals;
  counts.synaptic_events = res.synaptic_events;
  res.energy = hw::s1::EnergyModel(opt.energy).estimate(counts);
  res.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return res;
}

}  // namespace grindstone::snn::spinnaker1
