#pragma once
// Hardware estimate of a layer pipeline on SpiNNaker 2 from shapes alone: MAC layers (dense or
// conv, int8) on MAC arrays, other layers (pooling) on ARM cores with a given cycle count per
// sample. Used for whole networks run as ANNs (`--s2-mode ann` on a Keras model), where the
// functional int8 arithmetic is done by the caller with hw::s2::MacArray.
#include <cstdint>
#include <string>
#include <vector>

#include "hw_model/spinnaker2/chip.hpp"
#include "snn_runtime/spinnaker2/mapping.hpp"

namespace grindstone::snn::s2 {

struct PipelineLayer {
  std::string name;
  bool on_mac = true;
  MacLayerShape mac;                     ///< MAC layers
  std::int64_t arm_neurons = 0;          ///< ARM layers: output elements (sets the core count)
  std::int64_t arm_cycles_per_sample = 0;  ///< ARM layers: work of one sample, all cores together
  std::int64_t output_bytes_per_sample = 0;  ///< sent to the next layer over the NoC
};

struct PipelineEstimate {
  MachinePlan plan;
  std::vector<std::string> stage_names;  ///< one per layer, as stage_seconds_per_batch
  std::vector<bool> stage_on_mac;        ///< one per layer: MAC array (true) or ARM cores
  std::vector<double> stage_seconds_per_batch;
  double hw_latency_seconds = 0;               ///< one batch through every layer
  double hw_throughput_samples_per_second = 0;  ///< pipelined: batch / slowest layer
  double mac_utilisation = 0;                  ///< useful MACs / busy MAC slots
  std::int64_t useful_macs_per_sample = 0;
  std::int64_t dram_bytes_per_batch = 0;        ///< streamed weights + input samples
  std::int64_t noc_bytes_per_batch = 0;
  hw::EnergyBreakdown energy_per_sample;
  /// The components' stats for one batch (reported in full).
  hw::MacArray::Stats mac;
  hw::Noc::Stats noc;
  hw::Dram::Stats dram;
  std::int64_t arm_cycles_per_batch = 0;
};

/// Estimates `layers` processed in batches of `batch` samples; `input_bytes_per_sample` are read
/// from DRAM per sample. Throws InputError (as `place`) when the machine cannot hold a layer.
PipelineEstimate estimate_pipeline(const std::vector<PipelineLayer>& layers, std::int64_t input_bytes_per_sample,
                                   const hw::MachineParams& machine, std::int64_t batch);

}  // namespace grindstone::snn::s2
