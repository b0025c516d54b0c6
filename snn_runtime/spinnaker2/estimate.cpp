#include "snn_runtime/spinnaker2/estimate.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace grindstone::snn::s2 {

PipelineEstimate estimate_pipeline(const std::vector<PipelineLayer>& layers, std::int64_t input_bytes_per_sample,
                                   const hw::MachineParams& machine, std::int64_t batch) {
  require_input(!layers.empty() && batch >= 1, "spinnaker2", "empty pipeline");
  const auto& chip = machine.chip;
  std::vector<MacLayerShape> mac_shapes;
  std::vector<ArmPlan> arm_plans;
  std::vector<int> index_of(layers.size(), -1);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].on_mac) {
      index_of[i] = static_cast<int>(mac_shapes.size());
      mac_shapes.push_back(layers[i].mac);
    } else {
      index_of[i] = static_cast<int>(arm_plans.size());
      arm_plans.push_back(plan_arm(layers[i].name, layers[i].arm_neurons, chip.pe.arm));
    }
  }
  PipelineEstimate e;
  e.plan = place(mac_shapes, arm_plans, batch, machine);
  hw::MacArray mac(chip.pe.mac);
  hw::Noc noc(chip.noc);
  hw::Dram dram(chip.dram);
  std::int64_t arm_cycles = 0;
  std::int64_t prev_pe = -1;
  std::int64_t prev_bytes = input_bytes_per_sample;
  dram.read(input_bytes_per_sample * batch);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const PipelineLayer& l = layers[i];
    const std::int64_t first = l.on_mac ? e.plan.mac[static_cast<std::size_t>(index_of[i])].first_pe
                                        : e.plan.arm[static_cast<std::size_t>(index_of[i])].first_pe;
    const int dest_qpe = chip.qpe_of(static_cast<int>(first % chip.pes));
    double seconds = 0;
    if (prev_pe >= 0) {  // activations from the previous layer
      const std::int64_t bytes = prev_bytes * batch;
      seconds += chip.noc_clock().duration(noc.transfer(chip.qpe_of(static_cast<int>(prev_pe % chip.pes)), dest_qpe, bytes)).value;
      if (prev_pe / chip.pes != first / chip.pes) seconds += noc.transfer_between_chips(bytes).value;
    }
    if (l.on_mac) {
      const TilePlan& t = e.plan.mac[static_cast<std::size_t>(index_of[i])];
      const hw::MatmulShape tile{std::min(t.m_tile, batch * l.mac.per_sample.m), t.k_tile, t.n_tile};
      const int out_bytes = t.k_splits > 1 ? chip.pe.mac.partial_sum_bytes : l.mac.output_bytes_per_value;
      for (std::int64_t p = 0; p < t.tiles(); ++p) mac.account(tile, l.mac.width, out_bytes);
      double compute = chip.clock.duration(mac.matmul_cycles(tile, l.mac.width, out_bytes)).value * static_cast<double>(t.passes());
      if (t.streamed) compute = std::max(compute, dram.read(l.mac.weight_bytes()).value);
      seconds += compute;
      if (t.k_splits > 1) {
        const std::int64_t partial = tile.m * t.n_tile;
        const hw::NocCycles move = noc.transfer(dest_qpe, dest_qpe + 1, partial * chip.pe.mac.partial_sum_bytes * (t.k_splits - 1));
        const hw::Cycles add = hw::ArmCore(chip.pe.arm).partial_sum_cycles((t.k_splits - 1) * partial);
        arm_cycles += add.count;
        seconds += chip.noc_clock().duration(move).value + chip.clock.duration(add).value;
      }
      e.useful_macs_per_sample += l.mac.per_sample.m * l.mac.per_sample.k * l.mac.per_sample.n;
    } else {
      const ArmPlan& a = e.plan.arm[static_cast<std::size_t>(index_of[i])];
      const std::int64_t per_core = (l.arm_cycles_per_sample + a.cores - 1) / a.cores;
      arm_cycles += l.arm_cycles_per_sample * batch;
      seconds += chip.clock.duration(hw::Cycles(per_core * batch)).value;
    }
    e.stage_names.push_back(l.name);
    e.stage_on_mac.push_back(l.on_mac);
    e.stage_seconds_per_batch.push_back(seconds);
    prev_pe = first;
    prev_bytes = l.output_bytes_per_sample;
  }
  double bottleneck = 0;
  for (double s : e.stage_seconds_per_batch) {
    e.hw_latency_seconds += s;
    bottleneck = std::max(bottleneck, s);
  }
  e.hw_throughput_samples_per_second = bottleneck > 0 ? static_cast<double>(batch) / bottleneck : 0;
  // MAC utilisation counts the useful MACs of the real batch against the busy slots
  const auto& ms = mac.stats();
  e.mac_utilisation = ms.mac_slots ? static_cast<double>(e.useful_macs_per_sample * batch) / static_cast<double>(ms.mac_slots) : 0;
  e.dram_bytes_per_batch = dram.stats().bytes_read;
  e.noc_bytes_per_batch = noc.stats().bytes;
  e.mac = ms;
  e.noc = noc.stats();
  e.dram = dram.stats();
  e.arm_cycles_per_batch = arm_cycles;
  hw::Activity act;
  act.mac_slots = ms.mac_slots;
  act.arm_cycles = arm_cycles;
  act.noc_byte_hops = noc.stats().byte_hops;
  act.chip_link_bytes = noc.stats().chip_link_bytes;
  act.dram_bytes = dram.stats().bytes_read;
  act.elapsed = hw::Seconds(bottleneck);  // steady state: one batch per bottleneck interval
  act.chips = e.plan.chips_used;
  const hw::EnergyBreakdown per_batch = hw::energy(chip.energy, act);
  const double b = static_cast<double>(batch);
  e.energy_per_sample = {per_batch.mac_joules / b, per_batch.arm_joules / b, per_batch.noc_joules / b,
                         per_batch.chip_link_joules / b, per_batch.dram_joules / b, per_batch.baseline_joules / b};
  return e;
}

}  // namespace grindstone::snn::s2
