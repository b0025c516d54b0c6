#pragma once
// The JSON reports and readable summaries of `run --engine spinnaker2` (ARCHITECTURE.md §3):
// the SNN executor's RunReport (hybrid / ann mode on a .snn.h5) and the int8 ANN program's
// AnnRunReport (ann mode on a Keras model). Every figure comes from the run; the components'
// stats (MAC array, ARM cores, NoC, DRAM) are reported in full under "hw_stats" and in the
// summary.
#include <nlohmann/json.hpp>
#include <string>

#include "snn_runtime/spinnaker2/ann_program.hpp"
#include "snn_runtime/spinnaker2/executor.hpp"

namespace grindstone::snn::s2 {

/// What the report needs besides the run: the request and the host time.
struct ReportContext {
  std::string dataset;
  std::string s2_mode;
  int chips_available = 1;
  double clock_mhz = 300;
  double wall_seconds = 0;  ///< this computer, whole command
};

nlohmann::json report_json(const RunReport& r, const ReportContext& c);
std::string report_human(const RunReport& r, const ReportContext& c);

/// ANN mode on a Keras model: no spikes exist, so the contract's spikes_per_sample and
/// synaptic_events_per_sample are null with the reason under "not_applicable";
/// nonzero_activations_per_sample and useful_macs_per_sample count the work this mode does.
nlohmann::json ann_report_json(const AnnRunReport& r, const AnnProgram& program, const CnnMappingParams& mapping,
                               const ReportContext& c);
std::string ann_report_human(const AnnRunReport& r, const AnnProgram& program, const CnnMappingParams& mapping,
                             const ReportContext& c);

/// The stats objects as JSON (counters and the ratios derived from them).
nlohmann::json stats_json(const hw::MacArray::Stats& s);
nlohmann::json stats_json(const hw::ArmCore::Stats& s);
nlohmann::json stats_json(const hw::Noc::Stats& s);
nlohmann::json stats_json(const hw::Dram::Stats& s);

}  // namespace grindstone::snn::s2
