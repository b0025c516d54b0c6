#pragma once
// SNN → SNN passes on SnnState (after lowering). Each is a plain function with a unit test.
#include "converter/passes/pipeline.hpp"

namespace grindstone::passes {

/// `Threshold`: nothing to do (the Input population already fires iff pixel/255 ≥ 0.5).
/// `Bitplanes`: replaces the Input population by 8 sub-populations (input_bit = k); every
/// projection from the input is copied once per bit with weight_scale 2^k/255, so layer 1 sees
/// Σ_k 2^k/255·bit_k·w = pixel/255·w exactly. Only valid when the first layer is linear
/// (Dense/Conv2D) — InputError naming the layer otherwise.
void encode_input(SnnState& state, snn::InputEncoding encoding);

/// Realises `pending_bias`. Threshold mode: threshold_i ← threshold_i − b_i. Neurons mode:
/// a daisy chain of one-neuron bias populations: the start source (role Bias, no threshold,
/// fires at tick 0, placed after the inputs) is the bias neuron of the first layer; the bias
/// neuron of every later layer L fires at L.tick − 1 (the tick of the previous layer), driven
/// by the previous bias neuron (OneToOne weight 1, threshold 0.5); each adds b_i to L's neuron
/// i through a DenseConnector (1 × |L|). Pooling layers get a relay bias neuron (no synapses to
/// the layer) so the chain stays one tick per link; the chain stops at the last biased layer.
void bias_neurons(SnnState& state, BiasMode mode);

/// Softmax_Decode key → Decode::NHotKey; otherwise SpikeCount over the output neurons.
void decode_output(SnnState& state);

/// K temporal groups: every tick is multiplied by K and every non-bias population gets K
/// contiguous groups, so post.tick = pre.tick + K along the chain and every delay
/// fire_tick(post, i) − fire_tick(pre, j) lies in [1, 2K−1]; bias neurons fire K ticks before
/// their layer (delays K..2K−1). InputError when K < 1.
void temporal_groups(SnnState& state, int groups);

/// Fixed point: every weight (Dense, conv kernel, pool, one-to-one) and every threshold
/// becomes an exact multiple of 2^-n clipped to ±max; clipped weights are counted per
/// projection in `state.clipped`, clipped thresholds in `state.clipped_thresholds`.
/// weight_scale (bitplanes) stays exact: engines apply 2^k/255 to the quantised kernel.
/// A float format only records it in network.weights.
void quantise(SnnState& state, const snn::WeightFormat& format);

}  // namespace grindstone::passes
