#pragma once
// The SpiNNaker 2 executor of an SNN: every population fed only by dense projections runs on MAC
// arrays (binary spikes in, int8/int16 weights, threshold compare on write-out); spiking layers
// with kernel connectors (conv, OR pooling, one-to-one) run event-driven on ARM cores. In ANN mode
// conv projections also run on the MAC arrays (conv2d mode). Binary activations cross between the
// two as spikes.
//
// Exactness. Single-pass semantics (ARCHITECTURE.md §2) make a post neuron fire iff the sum of
// its incoming weights from spiking pre neurons (bias neurons always spike) reaches its threshold;
// delays are derived so every contribution lands on the post neuron's fire tick. For fixed-point
// networks every weight and threshold is an integer number of units, so the MAC path (8-bit
// operands when all units fit ±127, else the fused 16-bit mode) and the ARM path compute the
// same integer sums as the single-pass engine: classes are identical. Float networks are
// quantised to int8 per output column (scale 127 / max|w|, threshold scaled alike) on the MAC
// path; the report says how often classes agree with float arithmetic (`float_agreement`).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"
#include "hw_model/spinnaker2/chip.hpp"
#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker2/mapping.hpp"

namespace grindstone::snn::s2 {

struct ExecutorOptions {
  hw::MachineParams machine;
  /// false: hybrid (kernel connectors on ARM cores); true: conv layers on MAC arrays too.
  bool ann_mode = false;
  /// Samples per MAC invocation; 0 = one per accumulator row of the array
  /// (hw::s2::MacArray::Params::rows, 4), so a dense layer's batch fills the rows.
  std::int64_t batch = 0;
};

/// Per layer (population) figures of a run.
struct StageReport {
  std::string name;
  std::string engine;         ///< "mac" or "arm"
  std::int64_t pes = 0;
  bool streamed = false;
  std::int64_t tiles = 0;
  std::int64_t k_splits = 1;
  double seconds_per_batch = 0;  ///< mean modelled time of this stage per batch
};

struct RunReport {
  std::int64_t samples = 0;
  std::int64_t correct = 0;
  std::vector<int> predictions;
  double accuracy = 0;
  double spikes_per_sample = 0;           ///< all spikes incl. input and bias sources
  double synaptic_events_per_sample = 0;  ///< spikes × their non-zero synapses
  std::int64_t pes = 0;
  int chips = 0;
  double mac_utilisation = 0;    ///< useful MACs / MAC slots of the arrays' busy cycles
  double mac_peak_fraction = 0;  ///< useful MACs / peak MACs of the MAC PEs over the modelled time
  double hw_latency_seconds = 0;              ///< mean time from a batch's input to its outputs
  double hw_throughput_samples_per_second = 0;  ///< pipelined: batch / slowest stage
  double hw_seconds = 0;                      ///< modelled time for all samples
  std::int64_t dram_bytes = 0;  ///< dram.bytes_read
  std::int64_t noc_bytes = 0;   ///< noc.bytes
  std::int64_t useful_macs = 0;
  std::int64_t arm_cycles = 0;
  std::int64_t accumulator_overflows = 0;
  hw::EnergyBreakdown energy;
  double energy_per_inference = 0;
  bool integer_exact = false;  ///< fixed-point network: integer sums throughout
  /// Float networks: fraction of samples whose class equals the float (unquantised) result.
  /// Not measured for fixed-point networks (integer_exact: nothing is quantised), so empty.
  std::optional<double> float_agreement;
  std::string weights_format;
  std::vector<StageReport> stages;
  /// The components' own stats summed over all batches (reported in full); the totals above
  /// are read from them.
  hw::MacArray::Stats mac;
  hw::ArmCore::Stats arm;  ///< event-driven stages
  hw::Noc::Stats noc;
  hw::Dram::Stats dram;    ///< input samples and streamed weights
  /// ARM cycles adding partial sums of MAC layers split along k (arm_cycles = arm.cycles + this).
  std::int64_t partial_sum_cycles = 0;
};

class Executor {
 public:
  /// Maps `network` on the machine. Throws InputError when a layer cannot be held or the network
  /// uses something this engine cannot run (named).
  Executor(const Network& network, ExecutorOptions options);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  const MachinePlan& plan() const;
  /// Runs the test images of `data` (threshold input encoding), in parallel over batches;
  /// results do not depend on the thread count.
  RunReport run(const datasets::Dataset& data) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grindstone::snn::s2
