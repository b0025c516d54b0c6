#include "snn_runtime/spinnaker2/executor.hpp"


#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "snn_runtime/network/decode.hpp"
#include "snn_runtime/network/input_spikes.hpp"
#include "snn_runtime/spinnaker2/stages.hpp"

namespace grindstone::snn::s2 {

namespace {

// Per-batch results, reduced in batch order after the parallel region.
struct BatchResult {
  std::vector<int> predictions;
  std::vector<int> float_predictions;
  std::int64_t spikes = 0, synaptic_events = 0;
  std::int64_t partial_sum_cycles = 0;  ///< ARM cycles adding k-split partial sums
  hw::MacArray::Stats mac;
  hw::ArmCore::Stats arm;
  hw::Noc::Stats noc;
  hw::Dram::Stats dram;
  std::vector<double> stage_seconds;
};

}  // namespace

Decoder checked_decoder(const Network& net) {
  require_input(net.output >= 0 && net.output < static_cast<int>(net.populations.size()), "spinnaker2", "no output population");
  return Decoder(net.decode, net.populations[static_cast<std::size_t>(net.output)].size(), "spinnaker2");
}

struct Executor::Impl {
  const Network& net;
  ExecutorOptions options;
  std::vector<Stage> stages;
  MachinePlan plan;
  /// Input populations: one (threshold input) or the eight bit planes (bit-plane input).
  std::vector<int> input_populations;
  Activity bias;                       // bias populations' spikes (the same every sample)
  std::int64_t bias_events_per_sample = 0;
  Decoder decoder;

  Impl(const Network& network, ExecutorOptions opts)
      : net(network), options(opts), decoder(checked_decoder(network)) {
    if (options.batch == 0) options.batch = options.machine.chip.pe.mac.rows;
    require_input(options.batch >= 1, "spinnaker2", "batch must be ≥ 1");
    require_input(net.input == InputEncoding::Threshold || net.input == InputEncoding::Bitplanes, "spinnaker2",
                  "input encoding: only 'threshold' and 'bitplanes' spike inputs run on this engine");
    for (std::size_t p = 0; p < net.populations.size(); ++p) {
      const auto& pop = net.populations[p];
      require_input(pop.model == NeuronModel::InstantDecay, "spinnaker2",
                    "population '" + pop.name + "': integrate-and-fire (rate) networks run on --engine rate");
      if (pop.role == PopulationRole::Input) {
        require_input(input_populations.empty() || net.input == InputEncoding::Bitplanes, "spinnaker2",
                      "more than one input population in a threshold-input network");
        require_input(pop.size() == net.input_shape.size(), "spinnaker2",
                      "population '" + pop.name + "': size differs from the input shape " + net.input_shape.to_string());
        require_input((net.input == InputEncoding::Bitplanes) == (pop.input_bit >= 0), "spinnaker2",
                      "population '" + pop.name + "': input_bit does not match the network's input encoding");
        input_populations.push_back(static_cast<int>(p));
      }
    }
    require_input(!input_populations.empty(), "spinnaker2", "the network has no input population");
    require_input(net.output >= 0 && net.output < static_cast<int>(net.populations.size()), "spinnaker2", "no output population");
    bias = bias_activity(net, bias_events_per_sample);
    stages = build_stages(net, options.ann_mode, bias);
    std::vector<MacLayerShape> mac_shapes;
    std::vector<ArmPlan> arm_plans;
    for (auto& s : stages) {
      if (s.engine == StageEngine::Mac) {
        s.mac_index = static_cast<int>(mac_shapes.size());
        mac_shapes.push_back(s.shape);
      } else {
        s.arm_index = static_cast<int>(arm_plans.size());
        arm_plans.push_back(plan_arm(s.name, net.populations[static_cast<std::size_t>(s.post)].size(), options.machine.chip.pe.arm));
      }
    }
    plan = place(mac_shapes, arm_plans, options.batch, options.machine);
  }

  std::int64_t first_pe(const Stage& s) const {
    return s.engine == StageEngine::Mac ? plan.mac[static_cast<std::size_t>(s.mac_index)].first_pe
                                        : plan.arm[static_cast<std::size_t>(s.arm_index)].first_pe;
  }

  // Where the activity of population p is produced (PE), −1 for the input (read from DRAM).
  std::int64_t producer_pe(int population) const {
    for (const auto& s : stages)
      if (s.post == population) return first_pe(s);
    return -1;
  }

  /// The hardware components one batch runs on (their stats are the batch's).
  struct Components {
    hw::MacArray mac;
    hw::Noc noc;
    hw::ArmCore arm;
    hw::Dram dram;
  };

  Activity batch_activity(const datasets::Dataset& data, std::int64_t first, std::int64_t count) const;
  double mac_stage(const Stage& s, Activity& act, std::int64_t count, Components& parts, BatchResult& r, std::int64_t& events) const;
  double arm_stage(const Stage& s, Activity& act, std::int64_t count, Components& parts, std::int64_t& events) const;
  BatchResult run_batch(const datasets::Dataset& data, std::int64_t first, std::int64_t count) const;
};

// The input populations' spikes of a batch, and the bias populations' (the same every sample).
Activity Executor::Impl::batch_activity(const datasets::Dataset& data, std::int64_t first, std::int64_t count) const {
  Activity act(net.populations.size());
  for (int input : input_populations) {
    const Population& pop = net.populations[static_cast<std::size_t>(input)];
    const std::int64_t in_size = pop.size();
    auto& a = act[static_cast<std::size_t>(input)];
    a.assign(static_cast<std::size_t>(count * in_size), 0);
    for (std::int64_t b = 0; b < count; ++b) {
      const std::uint8_t* img = data.image(first + b);
      for (std::int64_t i = 0; i < in_size; ++i)
        a[static_cast<std::size_t>(b * in_size + i)] =
            (pop.input_bit >= 0 ? bitplane_fires(img[i], pop.input_bit) : threshold_fires(img[i])) ? 1 : 0;
    }
  }
  for (std::size_t p = 0; p < net.populations.size(); ++p)
    if (net.populations[p].role == PopulationRole::Bias)
      for (std::int64_t b = 0; b < count; ++b) act[p].insert(act[p].end(), bias[p].begin(), bias[p].end());
  return act;
}

// A MAC stage on the batch; returns its modelled seconds: inputs multicast to the tiles, the tiles
// compute (streamed layers overlap the DRAM weight stream with compute), partial sums reduced.
double Executor::Impl::mac_stage(const Stage& s, Activity& act, std::int64_t count, Components& parts, BatchResult& r,
                                 std::int64_t& events) const {
  const auto& chip = options.machine.chip;
  const int dest_qpe = chip.qpe_of(static_cast<int>(first_pe(s) % chip.pes));
  const TilePlan& t = plan.mac[static_cast<std::size_t>(s.mac_index)];
  run_mac_stage(s, net, act, count, parts.mac, events);
  double input_seconds = 0;
  for (const auto& inc : s.inputs) {
    const std::int64_t src = producer_pe(inc.pre);
    const std::int64_t bytes = count * net.populations[static_cast<std::size_t>(inc.pre)].size();
    if (src < 0) continue;  // input image: charged as DRAM bytes
    const hw::NocCycles c = parts.noc.transfer(chip.qpe_of(static_cast<int>(src % chip.pes)), dest_qpe, bytes);
    double sec = chip.noc_clock().duration(c).value;
    if (src / chip.pes != first_pe(s) / chip.pes) sec += parts.noc.transfer_between_chips(bytes).value;
    input_seconds = std::max(input_seconds, sec);
  }
  const hw::MatmulShape tile{std::min(t.m_tile, count * s.shape.per_sample.m), t.k_tile, t.n_tile};
  const hw::Cycles tile_cycles = parts.mac.matmul_cycles(tile, s.shape.width, t.k_splits > 1 ? chip.pe.mac.partial_sum_bytes : 1);
  double compute = chip.clock.duration(tile_cycles).value * static_cast<double>(t.passes());
  if (t.streamed) compute = std::max(compute, parts.dram.read(s.shape.weight_bytes()).value);
  double reduce = 0;
  if (t.k_splits > 1) {
    const std::int64_t partial = tile.m * t.n_tile;
    const hw::NocCycles move = parts.noc.transfer(dest_qpe, dest_qpe + 1, partial * chip.pe.mac.partial_sum_bytes * (t.k_splits - 1));
    const hw::Cycles add = parts.arm.partial_sum_cycles((t.k_splits - 1) * partial);
    r.partial_sum_cycles += add.count;
    reduce = chip.noc_clock().duration(move).value + chip.clock.duration(add).value;
  }
  return input_seconds + compute + reduce;
}

// An ARM stage on the batch, sample by sample; returns its modelled seconds: the slowest core of
// each sample, plus chip-link crossings of the spike packets it receives over the NoC.
double Executor::Impl::arm_stage(const Stage& s, Activity& act, std::int64_t count, Components& parts,
                                 std::int64_t& events) const {
  const auto& chip = options.machine.chip;
  const std::int64_t n_post = net.populations[static_cast<std::size_t>(s.post)].size();
  const ArmPlan& a = plan.arm[static_cast<std::size_t>(s.arm_index)];
  double seconds = 0;
  std::vector<CoreLoad> load;
  for (std::int64_t b = 0; b < count; ++b) {
    load.assign(static_cast<std::size_t>(a.cores), CoreLoad{});
    run_arm_sample(s, net, act, b, a.neurons_per_core, load, events);
    std::int64_t slowest = 0;
    for (std::int64_t c = 0; c < a.cores; ++c) {
      const auto& l = load[static_cast<std::size_t>(c)];
      const std::int64_t neurons = std::min(a.neurons_per_core, n_post - c * a.neurons_per_core);
      const hw::Cycles cyc = parts.arm.process(l.received, l.events, std::max<std::int64_t>(0, neurons), l.sent);
      slowest = std::max(slowest, cyc.count);
    }
    seconds += chip.clock.duration(hw::Cycles(slowest)).value;
  }
  const int dest_qpe = chip.qpe_of(static_cast<int>(first_pe(s) % chip.pes));
  for (const auto& inc : s.inputs) {
    const std::int64_t src = producer_pe(inc.pre);
    if (src < 0) continue;
    std::int64_t spikes = 0;
    for (auto v : act[static_cast<std::size_t>(inc.pre)]) spikes += v;
    const std::int64_t bytes = spikes * chip.noc.spike_packet_bytes;
    parts.noc.transfer(chip.qpe_of(static_cast<int>(src % chip.pes)), dest_qpe, bytes);
    if (src / chip.pes != first_pe(s) / chip.pes) seconds += parts.noc.transfer_between_chips(bytes).value;
  }
  return seconds;
}

BatchResult Executor::Impl::run_batch(const datasets::Dataset& data, std::int64_t first, std::int64_t count) const {
  const auto& chip = options.machine.chip;
  BatchResult r;
  r.stage_seconds.assign(stages.size(), 0.0);
  Activity act = batch_activity(data, first, count);
  Components parts{hw::MacArray(chip.pe.mac), hw::Noc(chip.noc), hw::ArmCore(chip.pe.arm), hw::Dram(chip.dram)};
  parts.dram.read(count * data.pixels_per_image());  // samples are read from DRAM (overlapped: not timed)
  r.synaptic_events += count * bias_events_per_sample;
  const bool is_float = net.weights.is_float;
  Activity float_act;
  if (is_float) float_act = act;
  for (std::size_t si = 0; si < stages.size(); ++si) {
    const Stage& s = stages[si];
    const auto post = static_cast<std::size_t>(s.post);
    act[post].assign(static_cast<std::size_t>(count * net.populations[post].size()), 0);
    std::int64_t events = 0;
    r.stage_seconds[si] = s.engine == StageEngine::Mac ? mac_stage(s, act, count, parts, r, events) : arm_stage(s, act, count, parts, events);
    r.synaptic_events += events;
    if (is_float) run_float_reference(s, net, float_act, count);
  }
  for (const auto& a : act)
    for (auto v : a) r.spikes += v;
  const auto out = static_cast<std::size_t>(net.output);
  const std::int64_t n_out = net.populations[out].size();
  for (std::int64_t b = 0; b < count; ++b) {
    r.predictions.push_back(decoder.decode_bits(
        std::span<const std::uint8_t>(act[out]).subspan(static_cast<std::size_t>(b * n_out), static_cast<std::size_t>(n_out))));
    if (is_float)
      r.float_predictions.push_back(decoder.decode_bits(
          std::span<const std::uint8_t>(float_act[out]).subspan(static_cast<std::size_t>(b * n_out), static_cast<std::size_t>(n_out))));
  }
  r.mac = parts.mac.stats();
  r.arm = parts.arm.stats();
  r.noc = parts.noc.stats();
  r.dram = parts.dram.stats();
  return r;
}

Executor::Executor(const Network& network, ExecutorOptions options)
    : impl_(std::make_unique<Impl>(network, options)) {}
Executor::~Executor() = default;
const MachinePlan& Executor::plan() const { return impl_->plan; }

RunReport Executor::run(const datasets::Dataset& data) const {
  const Impl& im = *impl_;
  require_input(data.pixels_per_image() == im.net.input_shape.size(), "spinnaker2",
                "dataset images have " + std::to_string(data.pixels_per_image()) + " pixels but the network's input shape is " +
                    im.net.input_shape.to_string());
  const std::int64_t batch = im.options.batch;
  const std::int64_t batches = (data.size() + batch - 1) / batch;
  std::vector<BatchResult> results(static_cast<std::size_t>(batches));
  parallel_for_collected(std::int64_t{0}, batches, [&](std::int64_t b) {
    const std::int64_t first = b * batch;
    results[static_cast<std::size_t>(b)] = im.run_batch(data, first, std::min(batch, data.size() - first));
  });

  RunReport rep;
  const auto& chip = im.options.machine.chip;
  rep.samples = data.size();
  rep.integer_exact = !im.net.weights.is_float;
  rep.weights_format = im.net.weights.to_string();
  std::int64_t agree = 0;
  double latency_sum = 0, bottleneck_sum = 0;
  std::vector<double> stage_sum(im.stages.size(), 0.0);
  for (const auto& r : results) {  // ordered reduction
    for (std::size_t i = 0; i < r.predictions.size(); ++i) {
      const std::int64_t sample = static_cast<std::int64_t>(rep.predictions.size());
      rep.predictions.push_back(r.predictions[i]);
      if (r.predictions[i] == data.labels[static_cast<std::size_t>(sample)]) ++rep.correct;
      if (!r.float_predictions.empty() && r.float_predictions[i] == r.predictions[i]) ++agree;
    }
    double latency = 0, bottleneck = 0;
    for (std::size_t s = 0; s < r.stage_seconds.size(); ++s) {
      latency += r.stage_seconds[s];
      bottleneck = std::max(bottleneck, r.stage_seconds[s]);
      stage_sum[s] += r.stage_seconds[s];
    }
    latency_sum += latency;
    bottleneck_sum += bottleneck;
    rep.spikes_per_sample += static_cast<double>(r.spikes);
    rep.synaptic_events_per_sample += static_cast<double>(r.synaptic_events);
    rep.partial_sum_cycles += r.partial_sum_cycles;
    rep.mac += r.mac;
    rep.arm += r.arm;
    rep.noc += r.noc;
    rep.dram += r.dram;
  }
  const double n = static_cast<double>(std::max<std::int64_t>(1, rep.samples));
  const double nb = static_cast<double>(std::max<std::int64_t>(1, batches));
  rep.accuracy = static_cast<double>(rep.correct) / n;
  if (im.net.weights.is_float) rep.float_agreement = static_cast<double>(agree) / n;
  rep.spikes_per_sample /= n;
  rep.synaptic_events_per_sample /= n;
  rep.pes = im.plan.pes_used;
  rep.chips = im.plan.chips_used;
  const hw::MacArray::Stats& mac = rep.mac;
  rep.arm_cycles = rep.arm.cycles + rep.partial_sum_cycles;
  rep.noc_bytes = rep.noc.bytes;
  rep.dram_bytes = rep.dram.bytes_read;
  rep.useful_macs = mac.useful_macs;
  rep.accumulator_overflows = mac.accumulator_overflows;
  rep.mac_utilisation = mac.utilisation();
  rep.hw_latency_seconds = latency_sum / nb;
  // Pipelined: stages sit on different PEs, so batch b+1 enters a stage as batch b leaves it.
  rep.hw_seconds = bottleneck_sum + (rep.hw_latency_seconds - bottleneck_sum / nb);
  rep.hw_throughput_samples_per_second = rep.hw_seconds > 0 ? n / rep.hw_seconds : 0;
  std::int64_t mac_pes = 0;
  for (const auto& t : im.plan.mac) mac_pes += t.pes;
  const double peak = static_cast<double>(mac_pes) * chip.pe.mac.macs_per_cycle * chip.clock.hz * rep.hw_seconds;
  rep.mac_peak_fraction = peak > 0 ? static_cast<double>(mac.useful_macs) / peak : 0;
  hw::Activity activity;
  activity.mac_slots = mac.mac_slots;
  activity.arm_cycles = rep.arm_cycles;
  activity.noc_byte_hops = rep.noc.byte_hops;
  activity.chip_link_bytes = rep.noc.chip_link_bytes;
  activity.dram_bytes = rep.dram_bytes;
  activity.elapsed = hw::Seconds(rep.hw_seconds);
  activity.chips = rep.chips;
  rep.energy = hw::energy(chip.energy, activity);
  rep.energy_per_inference = rep.energy.total() / n;
  for (std::size_t s = 0; s < im.stages.size(); ++s) {
    const Stage& st = im.stages[s];
    StageReport sr;
    sr.name = st.name;
    sr.engine = st.engine == StageEngine::Mac ? "mac" : "arm";
    if (st.engine == StageEngine::Mac) {
      const TilePlan& t = im.plan.mac[static_cast<std::size_t>(st.mac_index)];
      sr.pes = t.pes;
      sr.streamed = t.streamed;
      sr.tiles = t.tiles();
      sr.k_splits = t.k_splits;
    } else {
      sr.pes = im.plan.arm[static_cast<std::size_t>(st.arm_index)].cores;
      sr.tiles = sr.pes;
    }
    sr.seconds_per_batch = stage_sum[s] / nb;
    rep.stages.push_back(sr);
  }
  return rep;
}

}  // namespace grindstone::snn::s2
