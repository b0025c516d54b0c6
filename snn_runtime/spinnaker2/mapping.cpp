#include "snn_runtime/spinnaker2/mapping.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "common/error.hpp"

namespace grindstone::snn::s2 {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

std::string mib(std::int64_t bytes) {
  const double m = static_cast<double>(bytes) / (1024.0 * 1024.0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", m);
  return buf;
}

// SRAM of one tile: weights, its share of the input, and its outputs of `output_bytes` each
// (int32 partial sums when k is split, else the written-out values).
std::int64_t tile_bytes(const MacLayerShape& l, std::int64_t m_total, std::int64_t mt, std::int64_t kt,
                        std::int64_t nt, int output_bytes) {
  const std::int64_t weights = kt * nt * l.weight_bytes_per_value();
  std::int64_t input = mt * kt * l.input_bytes_per_value;
  if (l.conv) {
    // A conv tile holds the rows of the image its output positions need, not an im2col copy: its
    // share of the image plus a halo for the rows it shares with the neighbouring tiles.
    // ASSUMPTION: the halo is a flat quarter of one sample's image, not derived from the kernel
    // (MacLayerShape carries no kernel height; a window spans WindowAxis::extent() input rows).
    // Settled by the SRAM a real tiled conv needs per PE, or by deriving it from the geometry.
    const std::int64_t batch = std::max<std::int64_t>(1, m_total / std::max<std::int64_t>(1, l.per_sample.m));
    const std::int64_t share = ceil_div(l.conv_input_bytes * batch * mt, m_total);
    input = std::min(share + l.conv_input_bytes / 4, l.conv_input_bytes * batch);
  }
  const std::int64_t output = mt * nt * output_bytes;
  return weights + input + output;
}

}  // namespace

TilePlan plan_tiles(const MacLayerShape& l, std::int64_t batch, const hw::PeParams& pe, int mac_columns) {
  const std::int64_t budget = pe.usable_sram_bytes();
  const std::int64_t M = l.per_sample.m * batch, K = l.per_sample.k, N = l.per_sample.n;
  require_input(M > 0 && K > 0 && N > 0, "layer '" + l.name + "'", "empty MAC layer shape");
  // Fewest tiles first: split the outputs (no reduction needed), then the positions, and the
  // reduction dimension only when a single column block of the full input does not fit.
  const std::int64_t col_step = std::min<std::int64_t>(N, mac_columns);
  for (std::int64_t ks = 1; ks <= K; ks = (ks < 8 ? ks + 1 : ks * 2)) {
    const std::int64_t kt = ceil_div(K, ks);
    const int out_bytes = ks > 1 ? pe.mac.partial_sum_bytes : l.output_bytes_per_value;
    for (std::int64_t ms = 1; ms <= M; ms = (ms < 8 ? ms + 1 : ms * 2)) {
      const std::int64_t mt = ceil_div(M, ms);
      // the largest multiple of col_step that fits
      std::int64_t nt = 0;
      for (std::int64_t lo = col_step, hi = ceil_div(N, col_step) * col_step; lo <= hi;) {
        const std::int64_t mid = ((lo / col_step + hi / col_step) / 2) * col_step;
        if (tile_bytes(l, M, mt, kt, std::min(mid, N), out_bytes) <= budget) {
          nt = std::min(mid, N);
          lo = mid + col_step;
        } else {
          hi = mid - col_step;
        }
      }
      if (nt == 0) continue;
      TilePlan p;
      p.k_splits = ks;
      p.m_splits = ms;
      p.n_splits = ceil_div(N, nt);
      p.k_tile = kt;
      p.m_tile = mt;
      p.n_tile = std::min(N, ceil_div(ceil_div(N, p.n_splits), col_step) * col_step);  // balanced
      p.tile_sram_bytes = tile_bytes(l, M, mt, kt, p.n_tile, out_bytes);
      return p;
    }
  }
  throw InputError("layer '" + l.name + "': no tile of it fits a PE's " + std::to_string(budget) + " bytes of usable SRAM");
}

ArmPlan plan_arm(const std::string& name, std::int64_t neurons, const hw::ArmCore::Params& arm) {
  ArmPlan p;
  p.name = name;
  p.neurons = neurons;
  p.cores = std::max<std::int64_t>(1, ceil_div(neurons, arm.max_neurons_per_core));
  p.neurons_per_core = std::max<std::int64_t>(1, ceil_div(neurons, p.cores));
  return p;
}

MachinePlan place(const std::vector<MacLayerShape>& mac_layers, const std::vector<ArmPlan>& arm_layers,
                  std::int64_t batch, const hw::MachineParams& machine) {
  const std::int64_t total_pes = machine.total_pes();
  const int columns = hw::MacArray(machine.chip.pe.mac).columns(hw::OperandWidth::Bits8);
  MachinePlan plan;
  plan.arm = arm_layers;
  std::int64_t arm_cores = 0;
  for (const auto& a : arm_layers) arm_cores += a.cores;
  if (arm_cores > total_pes)
    throw InputError("spinnaker2: the spiking layers need " + std::to_string(arm_cores) + " ARM cores but " +
                     std::to_string(machine.chips) + " chip(s) have " + std::to_string(total_pes) +
                     " PEs; use more --chips");
  std::int64_t dram_needed = 0;
  for (const auto& l : mac_layers) {
    TilePlan t = plan_tiles(l, batch, machine.chip.pe, columns);
    const std::int64_t fit_in_dram = machine.total_dram_bytes();
    if (l.weight_bytes() > fit_in_dram)
      throw InputError("spinnaker2: layer '" + l.name + "' has " + mib(l.weight_bytes()) +
                       " of weights, more than the " + mib(fit_in_dram) + " of DRAM of " + std::to_string(machine.chips) +
                       " chip(s) (and far more than their SRAM); use more --chips");
    dram_needed += l.weight_bytes();
    t.pes = t.tiles();
    plan.mac.push_back(t);
  }
  if (dram_needed > machine.total_dram_bytes())
    throw InputError("spinnaker2: the network's weights (" + mib(dram_needed) + ") exceed the " +
                     mib(machine.total_dram_bytes()) + " of DRAM of " + std::to_string(machine.chips) + " chip(s)");

  // Stream the largest layers until the resident ones plus at least one PE per streamed layer fit.
  std::vector<std::size_t> by_size(mac_layers.size());
  std::iota(by_size.begin(), by_size.end(), std::size_t{0});
  std::stable_sort(by_size.begin(), by_size.end(), [&](std::size_t a, std::size_t b) {
    return mac_layers[a].weight_bytes() > mac_layers[b].weight_bytes();
  });
  auto pes_needed = [&] {
    std::int64_t n = arm_cores;
    for (const auto& t : plan.mac) n += t.streamed ? 1 : t.tiles();
    return n;
  };
  for (std::size_t idx : by_size) {
    if (pes_needed() <= total_pes) break;
    plan.mac[idx].streamed = true;
  }
  if (pes_needed() > total_pes)
    throw InputError("spinnaker2: the network needs at least " + std::to_string(pes_needed()) + " PEs even with every "
                     "MAC layer streamed from DRAM, but " + std::to_string(machine.chips) + " chip(s) have " +
                     std::to_string(total_pes) + "; use more --chips");
  // Share the spare PEs among streamed layers in proportion to their tiles (at least one each).
  std::int64_t spare = total_pes - pes_needed();
  std::int64_t streamed_tiles = 0;
  for (const auto& t : plan.mac)
    if (t.streamed) streamed_tiles += t.tiles() - 1;
  for (auto& t : plan.mac) {
    if (!t.streamed) continue;
    const std::int64_t extra = streamed_tiles > 0 ? std::min(t.tiles() - 1, spare * (t.tiles() - 1) / streamed_tiles) : 0;
    t.pes = 1 + extra;
  }
  // Sequential placement: MAC tiles and ARM cores in the order given (layer order).
  std::int64_t next = 0;
  for (std::size_t i = 0; i < plan.mac.size(); ++i) {
    plan.mac[i].first_pe = next;
    next += plan.mac[i].pes;
    (plan.mac[i].streamed ? plan.streamed_weight_bytes : plan.resident_weight_bytes) += mac_layers[i].weight_bytes();
  }
  for (auto& a : plan.arm) {
    a.first_pe = next;
    next += a.cores;
  }
  plan.pes_used = next;
  plan.chips_used = static_cast<int>(std::max<std::int64_t>(1, ceil_div(next, machine.chip.pes)));
  return plan;
}

}  // namespace grindstone::snn::s2
