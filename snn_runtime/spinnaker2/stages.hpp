#pragma once
// The layers (stages) of the SpiNNaker 2 executor: one per non-source population, each either on
// MAC arrays (dense, or conv in ANN mode) or event-driven on ARM cores. Internal to
// snn_runtime/spinnaker2 (executor.cpp drives them; tests use them directly).
#include <cstdint>
#include <string>
#include <vector>

#include "hw_model/spinnaker2/mac_array.hpp"
#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker2/mapping.hpp"

namespace grindstone::snn::s2 {

/// Activity of every population for a batch: activity[p][b·size + i] ∈ {0, 1}.
using Activity = std::vector<std::vector<std::uint8_t>>;

enum class StageEngine { Mac, Arm };

/// A non-bias projection into a stage; `offset` is its first row in the stacked MAC input.
struct Incoming {
  int projection = -1;
  int pre = -1;
  std::int64_t offset = 0;
  /// Bit-plane input population k (0–7), or −1 (see Stage::pixel_input).
  int plane_bit = -1;
  /// Fixed point: integer weight units per stored-weight unit 2^-n, weight_scale·M of the stage
  /// (snn::WeightUnits; 2^k for plane k of a ×255 stage). 1 for float networks.
  std::int64_t multiplier = 1;
};

/// Work of one ARM core for one sample.
struct CoreLoad {
  std::int64_t received = 0;  ///< spike packets that reached the core
  std::int64_t events = 0;    ///< synaptic events on its neurons
  std::int64_t sent = 0;      ///< spikes its neurons emitted
  std::int64_t last_spike = -1;
};

struct Stage {
  int post = -1;
  std::string name;
  StageEngine engine = StageEngine::Arm;
  std::vector<Incoming> inputs;
  /// Per post neuron: summed weights from always-firing bias neurons (units / float).
  std::vector<std::int64_t> constant_units;
  std::vector<double> constant_float;  ///< float networks: summed in double
  /// Per post neuron threshold (units / float).
  std::vector<std::int64_t> threshold_units;
  std::vector<float> threshold_float;
  /// Per stacked input row: its non-zero synapses (for synaptic-event counts).
  std::vector<std::int64_t> row_synapses;
  /// Fed by the eight bit planes of a bit-plane network. Plane k's weights are w·2^k/255, so (by
  /// the integer weight-unit rule of every engine, snn::WeightUnits) this stage's sums, constants
  /// and thresholds are kept ×255 in fixed point, which makes them integers again:
  /// Σ_k bit_k·w·2^k = pixel·w. On the MAC array the
  /// eight planes are one uint8 operand per pixel (the array multiplies unsigned 8-bit values),
  /// so k counts pixels, not plane neurons.
  bool pixel_input = false;

  // MAC stages
  MacLayerShape shape;
  hw::Conv2dGeometry geometry;      ///< conv stages
  std::vector<std::int8_t> weights8;    ///< k×n row-major, 8-bit mode
  std::vector<std::int16_t> weights16;  ///< k×n row-major, 16-bit mode
  /// Per post neuron write-out bias 1 − T, so that clamp(relu(acc + bias), 0, 1) = [acc ≥ T].
  std::vector<std::int32_t> fire_bias;
  int mac_index = -1;
  int arm_index = -1;
};

/// The bias populations' activity (one sample; it is the same for every sample): the start
/// source fires; relay neurons fire iff their input from earlier bias neurons reaches their
/// threshold. Other populations get empty vectors. `events` = synaptic events per sample of
/// every projection out of a bias population.
Activity bias_activity(const Network& net, std::int64_t& events);

/// One stage per non-bias, non-input population, in population order. A population goes to the MAC
/// arrays when every non-bias projection into it is dense (hybrid), or also when it has a single
/// conv projection (ANN mode); otherwise to ARM cores. Throws InputError for unsupported input.
std::vector<Stage> build_stages(const Network& net, bool ann_mode, const Activity& bias);

/// Runs a MAC stage on the batch's activity (bit-exact MAC model) and adds synaptic events.
void run_mac_stage(const Stage& stage, const Network& net, Activity& activity, std::int64_t count,
                   hw::MacArray& mac, std::int64_t& events);

/// Runs an ARM stage for one sample event-driven, recording each core's load (neurons are on
/// cores in blocks of `neurons_per_core`).
void run_arm_sample(const Stage& stage, const Network& net, Activity& activity, std::int64_t sample,
                    std::int64_t neurons_per_core, std::vector<CoreLoad>& load, std::int64_t& events);

/// Float networks: the stage in double arithmetic without quantisation (for `float_agreement`).
void run_float_reference(const Stage& stage, const Network& net, Activity& activity, std::int64_t count);

}  // namespace grindstone::snn::s2
