#include "snn_runtime/spinnaker2/report.hpp"

#include <iomanip>
#include <sstream>

namespace grindstone::snn::s2 {

namespace {

nlohmann::json stage_json(const StageReport& s) {
  return {{"name", s.name},   {"engine", s.engine},     {"pes", s.pes},
          {"tiles", s.tiles}, {"k_splits", s.k_splits}, {"streamed", s.streamed},
          {"seconds_per_batch", s.seconds_per_batch}};
}

nlohmann::json energy_json(const hw::EnergyBreakdown& e) {
  return {{"mac", e.mac_joules}, {"arm", e.arm_joules},   {"noc", e.noc_joules},
          {"chip_links", e.chip_link_joules}, {"dram", e.dram_joules}, {"baseline", e.baseline_joules}};
}

// One line per component's stats (the same counters as stats_json).
void human_stats(std::ostream& h, const std::string& label, const hw::MacArray::Stats& m) {
  h << "  " << label << ": " << m.invocations << " invocations, cycles " << m.compute_cycles << " compute + "
    << m.overhead_cycles << " set-up + " << m.writeout_cycles << " write-out = " << m.total_cycles() << ", " << m.useful_macs
    << " useful MACs in " << m.mac_slots << " slots (utilisation " << std::setprecision(3) << m.utilisation() << "), "
    << m.accumulator_overflows << " accumulator overflows\n";
}
void human_stats(std::ostream& h, const std::string& label, const hw::ArmCore::Stats& a) {
  h << "  " << label << ": " << a.spikes_received << " packets received, " << a.synaptic_events << " synaptic events, "
    << a.neuron_updates << " neuron updates, " << a.spikes_sent << " spikes sent, " << a.cycles << " cycles\n";
}
void human_stats(std::ostream& h, const std::string& label, const hw::Noc::Stats& n) {
  h << "  " << label << ": " << n.transfers << " transfers, " << n.bytes << " bytes in " << n.flits << " flits, "
    << n.byte_hops << " byte-hops (mean hops " << std::setprecision(2) << n.mean_hops() << "), chip links "
    << n.chip_link_bytes << " bytes\n";
}
void human_stats(std::ostream& h, const std::string& label, const hw::Dram::Stats& d) {
  h << "  " << label << ": " << d.reads << " reads, " << d.bytes_read << " bytes, busy " << std::setprecision(2)
    << d.busy.value * 1e6 << " us\n";
}

// The keys every `run --engine spinnaker2` report shares (the run contract, ARCHITECTURE.md §3).
nlohmann::json common_json(const ReportContext& c, std::int64_t samples, double accuracy, std::int64_t pes, int chips) {
  const double n = static_cast<double>(std::max<std::int64_t>(1, samples));
  return {{"engine", "spinnaker2"},
          {"s2_mode", c.s2_mode},
          {"dataset", c.dataset},
          {"samples", samples},
          {"accuracy", accuracy},
          {"wall_seconds", c.wall_seconds},
          {"samples_per_second", c.wall_seconds > 0 ? n / c.wall_seconds : 0.0},
          {"pes", pes},
          {"chips", chips},
          {"chips_available", c.chips_available},
          {"clock_mhz", c.clock_mhz}};
}

}  // namespace

nlohmann::json stats_json(const hw::MacArray::Stats& s) {
  return {{"invocations", s.invocations},     {"compute_cycles", s.compute_cycles}, {"overhead_cycles", s.overhead_cycles},
          {"writeout_cycles", s.writeout_cycles}, {"total_cycles", s.total_cycles()}, {"useful_macs", s.useful_macs},
          {"mac_slots", s.mac_slots},         {"utilisation", s.utilisation()},   {"accumulator_overflows", s.accumulator_overflows}};
}
nlohmann::json stats_json(const hw::ArmCore::Stats& s) {
  return {{"spikes_received", s.spikes_received}, {"synaptic_events", s.synaptic_events},
          {"neuron_updates", s.neuron_updates},   {"spikes_sent", s.spikes_sent},
          {"cycles", s.cycles}};
}
nlohmann::json stats_json(const hw::Noc::Stats& s) {
  return {{"transfers", s.transfers}, {"bytes", s.bytes},  {"flits", s.flits}, {"byte_hops", s.byte_hops},
          {"mean_hops", s.mean_hops()}, {"chip_link_bytes", s.chip_link_bytes}};
}
nlohmann::json stats_json(const hw::Dram::Stats& s) {
  return {{"reads", s.reads}, {"bytes_read", s.bytes_read}, {"busy_seconds", s.busy.value}};
}

nlohmann::json report_json(const RunReport& r, const ReportContext& c) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : r.stages) stages.push_back(stage_json(s));
  nlohmann::json j = common_json(c, r.samples, r.accuracy, r.pes, r.chips);
  j.update({{"spikes_per_sample", r.spikes_per_sample},
          {"synaptic_events_per_sample", r.synaptic_events_per_sample},
          {"mac_utilisation", r.mac_utilisation},
          {"mac_peak_fraction", r.mac_peak_fraction},
          {"hw_throughput_samples_per_second", r.hw_throughput_samples_per_second},
          {"hw_latency_seconds", r.hw_latency_seconds},
          {"hw_seconds", r.hw_seconds},
          {"dram_bytes", r.dram_bytes},
          {"noc_bytes", r.noc_bytes},
          {"useful_macs", r.useful_macs},
          {"arm_cycles", r.arm_cycles},
          {"accumulator_overflows", r.accumulator_overflows},
          {"energy_joules", r.energy.total()},
          {"energy_per_inference_joules", r.energy_per_inference},
          {"energy_breakdown_joules", energy_json(r.energy)},
          {"weights_format", r.weights_format},
          {"integer_exact", r.integer_exact},
          {"float_agreement", r.float_agreement ? nlohmann::json(*r.float_agreement) : nlohmann::json(nullptr)},
          {"stages", stages},
          {"hw_stats",
           {{"mac", stats_json(r.mac)},
            {"arm", stats_json(r.arm)},
            {"arm_partial_sum_cycles", r.partial_sum_cycles},
            {"noc", stats_json(r.noc)},
            {"dram", stats_json(r.dram)}}}});
  if (!r.float_agreement)
    j["not_applicable"] = {{"float_agreement", "fixed-point network: integer sums throughout (integer_exact), nothing is quantised"}};
  return j;
}

std::string report_human(const RunReport& r, const ReportContext& c) {
  std::ostringstream h;
  h << "spinnaker2 (" << c.s2_mode << ", " << c.clock_mhz << " MHz, " << r.chips << " chip(s), " << r.pes << " PEs) on "
    << c.dataset << " test, " << r.samples << " samples: accuracy " << std::fixed << std::setprecision(4) << r.accuracy << '\n'
    << "  modelled: latency " << std::setprecision(2) << r.hw_latency_seconds * 1e6 << " us per batch, throughput "
    << std::setprecision(0) << r.hw_throughput_samples_per_second << " samples/s, energy " << std::setprecision(3)
    << r.energy_per_inference * 1e6 << " uJ per inference, MAC utilisation " << std::setprecision(3) << r.mac_utilisation
    << ", DRAM " << r.dram_bytes << " bytes\n";
  for (const auto& s : r.stages)
    h << "  " << std::left << std::setw(20) << s.name << ' ' << s.engine << "  PEs " << s.pes
      << (s.streamed ? " (weights streamed from DRAM)" : "") << "  " << std::setprecision(2) << s.seconds_per_batch * 1e6
      << " us/batch\n";
  h << std::right;
  human_stats(h, "MAC arrays", r.mac);
  human_stats(h, "ARM cores", r.arm);
  h << "  ARM partial-sum adds: " << r.partial_sum_cycles << " cycles\n";
  human_stats(h, "NoC", r.noc);
  human_stats(h, "DRAM", r.dram);
  if (r.float_agreement)
    h << "  float network quantised to int8: classes agree with float arithmetic on " << std::setprecision(4) << *r.float_agreement
      << " of samples\n";
  h << "  (this computer: " << std::setprecision(2) << c.wall_seconds << " s)";
  return h.str();
}

nlohmann::json ann_report_json(const AnnRunReport& r, const AnnProgram& program, const CnnMappingParams& mapping,
                               const ReportContext& c) {
  const CnnEstimate& e = r.estimate;
  nlohmann::json j = common_json(c, r.samples, r.accuracy, e.pes, e.chips);
  j.update({// The run contract's spike counts (ARCHITECTURE.md §3) do not exist for an int8 ANN: null,
          // with the reason, rather than a typed-in 0.
          {"spikes_per_sample", nullptr},
          {"synaptic_events_per_sample", nullptr},
          {"not_applicable",
           {{"spikes_per_sample", "an int8 ANN on the MAC arrays sends no spikes (see nonzero_activations_per_sample)"},
            {"synaptic_events_per_sample", "an int8 ANN on the MAC arrays has no synaptic events (see useful_macs_per_sample)"}}},
          {"nonzero_activations_per_sample", r.nonzero_activations_per_sample},
          {"batch", 1},
          {"mac_utilisation", e.mac_utilisation},
          {"useful_macs_per_sample", e.macs},
          {"hw_throughput_samples_per_second", e.fps},
          {"hw_latency_seconds", e.latency_seconds},
          {"dram_bytes", r.dram_bytes},
          {"energy_joules", r.energy_joules},
          {"energy_per_inference_joules", e.energy.total()},
          {"energy_breakdown_per_inference_joules", energy_json(e.energy)},
          {"accumulator_overflows", r.mac.accumulator_overflows},
          {"quantisation", program.quantisation},
          // The mapping and timing of one frame: what `grindstone estimate` prints for this model.
          {"estimate", estimate_json(e, mapping)},
          {"hw_stats", {{"mac_functional_run", stats_json(r.mac)}}}});
  return j;
}

std::string ann_report_human(const AnnRunReport& r, const AnnProgram& program, const CnnMappingParams& mapping,
                             const ReportContext& c) {
  const CnnEstimate& e = r.estimate;
  std::ostringstream h;
  h << "spinnaker2 (ann, int8 on MAC arrays, " << c.clock_mhz << " MHz, " << e.chips << " chip(s), " << e.pes << " PEs) on "
    << c.dataset << " test, " << r.samples << " samples: accuracy " << std::fixed << std::setprecision(4) << r.accuracy << '\n';
  h << std::right << "  " << program.quantisation << "; " << std::setprecision(1) << r.nonzero_activations_per_sample
    << " non-zero activations per sample\n";
  human_stats(h, "MAC arrays (functional run, one sample per invocation)", r.mac);
  h << "  modelled, one frame at a time (as grindstone estimate):\n" << estimate_summary(e, mapping) << '\n';
  h << "  (this computer: " << std::setprecision(2) << c.wall_seconds << " s)";
  return h.str();
}

}  // namespace grindstone::snn::s2
