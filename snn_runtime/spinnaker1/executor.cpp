#include "snn_runtime/spinnaker1/executor.hpp"

#include <chrono>
#include <cmath>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "snn_runtime/network/decode.hpp"
#include "snn_runtime/network/input_spikes.hpp"
#include "snn_runtime/spinnaker1/core_state.hpp"
#include "snn_runtime/spinnaker1/core_update.hpp"
#include "snn_runtime/spinnaker1/packet_delivery.hpp"
#include "snn_runtime/spinnaker1/sample_schedule.hpp"
#include "snn_runtime/spinnaker1/tick_routing.hpp"

namespace grindstone::snn::spinnaker1 {
namespace {

using hw::s1::SimTime;
using Clock = std::chrono::steady_clock;

/// The samples' schedule for `options`; InputError naming `context` if the between-sample time
/// is not a positive multiple of the timestep.
SampleSchedule make_schedule(const ExecutorOptions& opt, const Mapping& m, const datasets::Dataset& data,
                             const std::string& context) {
  require_input(opt.timestep_ms > 0 && opt.time_scale_factor > 0, context, "--time-scale-factor/--timestep-ms: must be positive");
  const double period_ratio = opt.between_sample_ms / opt.timestep_ms;
  const auto period = static_cast<std::int64_t>(std::llround(period_ratio));
  require_input(period >= 1 && std::abs(period_ratio - static_cast<double>(period)) < 1e-9, context,
                "--between-sample-ms: must be a positive multiple of the timestep");
  require_input(opt.drop_probability >= 0.0 && opt.drop_probability <= 1.0, context, "--drop-probability: must be in [0, 1]");
  return SampleSchedule{data.size(), m.options.tiles, period};
}

/// One run: the steps of a tick (update → route → deliver → decode, each a parallel region over
/// cores or routing groups, separated by barriers), then the totals. Every thread count gives the
/// same result: per-core and per-group work is sequential and ordered, and totals are summed in
/// core order.
class Executor {
 public:
  Executor(const Network& network, const Mapping& m, const Routing& routing, const datasets::Dataset& data,
           const ExecutorOptions& opt, const std::string& context)
      : network_(network),
        m_(m),
        data_(data),
        opt_(opt),
        schedule_(make_schedule(opt, m, data, context)),
        encoder_(network, data.pixels_per_image(), context),
        decoder_(network.decode, output().size(), context),
        tick_period_(SimTime::from_seconds(opt.timestep_ms * 1e-3 * opt.time_scale_factor)),
        timing_(opt.core),
        cores_(make_core_states(network, m)),
        inputs_(encode_inputs()),
        update_(network, m, routing, timing_, tick_period_, schedule_, encoder_.drivers(), inputs_, opt.raster_sample),
        routing_(m, routing, opt),
        delivery_(m, timing_, opt.input_queue_packets),
        out_bits_(static_cast<std::size_t>(schedule_.samples), std::vector<std::uint8_t>(static_cast<std::size_t>(output().size()), 0)) {
    int depth = 0;  // last fire tick of any population
    for (const Population& p : network.populations) depth = std::max(depth, p.last_fire_tick());
    n_ticks_ = schedule_.ticks(depth);
    res_.samples = schedule_.samples;
    res_.predictions.assign(static_cast<std::size_t>(schedule_.samples), -1);
  }

  ExecutorResult run(Clock::time_point wall_start) {
    for (std::int64_t T = 0; T < n_ticks_; ++T) {
      auto phase_start = Clock::now();
      auto lap = [&](int phase) {
        const auto now = Clock::now();
        res_.phase_seconds[static_cast<std::size_t>(phase)] += std::chrono::duration<double>(now - phase_start).count();
        phase_start = now;
      };
      update(T);
      lap(0);
      route(T);
      lap(1);
      deliver(T);
      lap(2);
      decode(T);
    }
    summarise();
    res_.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start).count();
    return std::move(res_);
  }

 private:
  const Population& output() const { return network_.populations[static_cast<std::size_t>(network_.output)]; }

  /// Input spikes per sample and source driver, encoded once.
  std::vector<std::vector<PopulationSpikes>> encode_inputs() const {
    std::vector<std::vector<PopulationSpikes>> inputs(static_cast<std::size_t>(schedule_.samples));
    parallel_for_collected(std::int64_t{0}, schedule_.samples,
                           [&](std::int64_t s) { encoder_.encode(data_.image(s), inputs[static_cast<std::size_t>(s)]); });
    return inputs;
  }

  /// Timer events of every core (neuron updates, sources, delay re-sends).
  void update(std::int64_t T) {
    const SimTime tick_start = tick_period_ * T;
    parallel_for_collected(std::size_t{0}, cores_.size(), [&](std::size_t c) { update_.update(c, T, tick_start, cores_[c], out_bits_); });
  }

  /// This tick's packets through the routers, into the target cores' inboxes.
  void route(std::int64_t T) { routing_.route(T, cores_); }

  /// Packet processing at the target cores.
  void deliver(std::int64_t T) {
    parallel_for_collected(std::size_t{0}, cores_.size(), [&](std::size_t c) { delivery_.deliver(c, T, tick_period_, cores_[c]); });
  }

  /// Predictions of the samples whose last output tick was this one.
  void decode(std::int64_t T) {
    const std::int64_t done_rel = T - output().last_fire_tick();
    if (done_rel < 0 || done_rel % schedule_.period != 0) return;
    const std::int64_t k = done_rel / schedule_.period;
    for (int t = 0; t < schedule_.tiles; ++t) {
      const std::int64_t s = schedule_.global(t, k);
      if (k < schedule_.on_tile(t) && s < schedule_.samples)
        res_.predictions[static_cast<std::size_t>(s)] = decoder_.decode_bits(out_bits_[static_cast<std::size_t>(s)]);
    }
  }

  /// Totals: cores in core order, then routers and groups; accuracy, times, energy.
  void summarise() {
    ExecutorResult& res = res_;
    res.per_population.assign(network_.populations.size(), {});
    for (std::size_t c = 0; c < cores_.size(); ++c) {
      const CoreState& st = cores_[c];
      const CoreCounters& k = st.counters;
      PopulationLoad& load = res.per_population[static_cast<std::size_t>(m_.slices[static_cast<std::size_t>(m_.cores[c].slice)].population)];
      load.packets_delivered += k.delivered;
      load.packets_dropped_input_queue += k.queue_drops;
      load.late_spikes += k.late_packets;
      load.core_overruns += k.timing.overruns;
      load.worst_tick_cycles = std::max(load.worst_tick_cycles, k.timing.max_tick.value);
      res.spikes += k.spikes;
      res.synaptic_events += k.synaptic_events;
      res.packets_delivered += k.delivered;
      res.packets_dropped_input_queue += k.queue_drops;
      res.late_spikes += k.late_packets;
      res.late_synaptic_events += k.late_events;
      res.pop_table_misses += k.misses;
      res.core_timing_stats += k.timing;
      res.packets_sent += k.packets_sent;
      if (st.ring) {
        res.ring_buffer_saturations += st.ring->stats().saturations;
        res.ring_buffer_stats += st.ring->stats();
      }
      res.raster.insert(res.raster.end(), st.raster.begin(), st.raster.end());
    }
    const std::int64_t traversals = routing_.summarise(res);
    res.packets_dropped = res.packets_dropped_random + res.packets_dropped_router + res.packets_dropped_input_queue;
    res.core_overruns = res.core_timing_stats.overruns;
    res.worst_tick_cycles = res.core_timing_stats.max_tick.value;
    const std::int64_t n_samples = schedule_.samples;
    for (std::int64_t s = 0; s < n_samples; ++s)
      if (res.predictions[static_cast<std::size_t>(s)] == data_.labels[static_cast<std::size_t>(s)]) ++res.correct;
    res.accuracy = n_samples ? static_cast<double>(res.correct) / static_cast<double>(n_samples) : 0.0;
    res.ticks = n_ticks_;
    res.timer_period_seconds = tick_period_.seconds();
    res.simulated_seconds = tick_period_.seconds() * static_cast<double>(n_ticks_);
    res.hw_latency_seconds = tick_period_.seconds() * static_cast<double>(output().last_fire_tick() + 1);
    res.hw_throughput_samples_per_second = res.simulated_seconds > 0 ? static_cast<double>(n_samples) / res.simulated_seconds : 0.0;

    hw::s1::EnergyModel::Counts counts;
    counts.duration = tick_period_ * n_ticks_;
    counts.boards = m_.machine.n_boards();
    counts.core_active_seconds = static_cast<double>(cores_.size()) * res.simulated_seconds;
    counts.packets_routed = traversals;
    counts.synaptic_events = res.synaptic_events;
    res.energy = hw::s1::EnergyModel(opt_.energy).estimate(counts);
  }

  const Network& network_;
  const Mapping& m_;
  const datasets::Dataset& data_;
  const ExecutorOptions& opt_;
  const SampleSchedule schedule_;
  const InputSpikeEncoder encoder_;
  const Decoder decoder_;
  const SimTime tick_period_;
  const hw::s1::CoreTiming timing_;
  std::vector<CoreState> cores_;
  const std::vector<std::vector<PopulationSpikes>> inputs_;
  const CoreUpdate update_;
  TickRouting routing_;
  const PacketDelivery delivery_;
  std::vector<std::vector<std::uint8_t>> out_bits_;  ///< per sample, per output neuron
  std::int64_t n_ticks_ = 0;
  ExecutorResult res_;
};

}  // namespace

ExecutorResult execute(const Network& network, const Mapping& m, const Routing& routing, const datasets::Dataset& data,
                       const ExecutorOptions& opt, const std::string& context) {
  const auto wall_start = Clock::now();
  return Executor(network, m, routing, data, opt, context).run(wall_start);
}

}  // namespace grindstone::snn::spinnaker1
