// `grindstone run NET.snn.h5 --engine spinnaker2 [--clock-mhz F] [--chips N] [--s2-mode hybrid|ann]`:
// the SpiNNaker 2 model (dense layers on MAC arrays, spiking layers on ARM cores).
#include <chrono>
#include <iomanip>
#include <sstream>

#include "apps/run_command.hpp"
#include "common/error.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "snn_runtime/spinnaker2/executor.hpp"

namespace grindstone::cli {

namespace {

nlohmann::json stage_json(const snn::s2::StageReport& s) {
  return {{"name", s.name},         {"engine", s.engine}, {"pes", s.pes},
          {"tiles", s.tiles},       {"k_splits", s.k_splits}, {"streamed", s.streamed},
          {"seconds_per_batch", s.seconds_per_batch}};
}

}  // namespace

// apps/run_spinnaker2_ann.cpp: a Keras model as an int8 ANN on the MAC arrays.
nlohmann::json run_spinnaker2_ann(const RunOptions& options, std::string& human);

nlohmann::json run_spinnaker2(const RunOptions& options, std::string& human) {
  const std::string file = options.network.filename().string();
  const bool snn_file = file.size() >= 7 && file.compare(file.size() - 7, 7, ".snn.h5") == 0;
  if (!snn_file && options.s2_mode == "ann") return run_spinnaker2_ann(options, human);
  const auto start = std::chrono::steady_clock::now();
  const snn::Network network = snn::load_network(options.network);
  snn::s2::ExecutorOptions exec;
  exec.machine.chips = options.chips;
  exec.machine.chip.clock.hz = options.clock_mhz * 1e6;
  exec.ann_mode = options.s2_mode == "ann";
  const snn::s2::Executor executor(network, exec);
  const auto data = datasets::load(options.dataset, datasets::Split::Test, options.data_dir, options.limit);
  const snn::s2::RunReport r = executor.run(data);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : r.stages) stages.push_back(stage_json(s));
  nlohmann::json report = {
      {"engine", "spinnaker2"},
      {"s2_mode", options.s2_mode},
      {"dataset", options.dataset},
      {"samples", r.samples},
      {"accuracy", r.accuracy},
      {"wall_seconds", wall},
      {"samples_per_second", wall > 0 ? static_cast<double>(r.samples) / wall : 0.0},
      {"spikes_per_sample", r.spikes_per_sample},
      {"synaptic_events_per_sample", r.synaptic_events_per_sample},
      {"pes", r.pes},
      {"chips", r.chips},
      {"chips_available", options.chips},
      {"clock_mhz", options.clock_mhz},
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
      {"energy_breakdown_joules",
       {{"mac", r.energy.mac_joules},
        {"arm", r.energy.arm_joules},
        {"noc", r.energy.noc_joules},
        {"chip_links", r.energy.chip_link_joules},
        {"dram", r.energy.dram_joules},
        {"baseline", r.energy.baseline_joules}}},
      {"weights_format", r.weights_format},
      {"integer_exact", r.integer_exact},
      {"float_agreement", r.float_agreement},
      {"stages", stages}};

  std::ostringstream h;
  h << "spinnaker2 (" << options.s2_mode << ", " << options.clock_mhz << " MHz, " << r.chips << " chip(s), " << r.pes
    << " PEs) on " << options.dataset << " test, " << r.samples << " samples: accuracy " << std::fixed << std::setprecision(4)
    << r.accuracy << '\n'
    << "  modelled: latency " << std::setprecision(2) << r.hw_latency_seconds * 1e6 << " us per batch, throughput "
    << std::setprecision(0) << r.hw_throughput_samples_per_second << " samples/s, energy " << std::setprecision(3)
    << r.energy_per_inference * 1e6 << " uJ per inference, MAC utilisation " << std::setprecision(3) << r.mac_utilisation
    << ", DRAM " << r.dram_bytes << " bytes\n";
  for (const auto& s : r.stages)
    h << "  " << std::left << std::setw(20) << s.name << ' ' << s.engine << "  PEs " << s.pes << (s.streamed ? " (weights streamed from DRAM)" : "")
      << "  " << std::setprecision(2) << s.seconds_per_batch * 1e6 << " us/batch\n";
  if (!r.integer_exact) h << "  float network quantised to int8: classes agree with float arithmetic on " << std::setprecision(4) << r.float_agreement << " of samples\n";
  h << "  (this computer: " << std::setprecision(2) << wall << " s)";
  human = h.str();
  return report;
}

}  // namespace grindstone::cli
