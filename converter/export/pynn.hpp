#pragma once
// PyNN export: a standalone Python script (numpy + PyNN) that rebuilds a single-pass network and
// classifies MNIST-style test images with it. The network is embedded (base64 float32 arrays).
//
//   python3 NET.py [--simulator brian2|spiNNaker|nest] [--limit N] [--data-dir D]
//                  [--dataset mnist|fashion-mnist] [--print-classes]
// Prints `accuracy: X` as its last line (with --print-classes, one `class: C` line per sample
// before it).
//
// Faithfulness (ARCHITECTURE.md §2 semantics on an IF_curr_delta neuron):
//   * Inputs and the bias start source are SpikeSourceArrays; each sample gets its own window of
//     W = last fire tick + 24 ticks (1 ms each), so the membrane residue of a neuron that did not
//     fire has decayed by e^-24 before the next sample (tau_m = 1 ms).
//   * Instant decay + "fire iff Σ ≥ θ at the fire tick": every neuron population gets a gate
//     source whose spike lands together with the neuron's inputs and adds G (G = 1 + max(0, −min θ))
//     so that v_thresh = θ' + G > 0 = v_rest; a neuron can only cross it when its inputs land.
//     θ' is θ lowered by the smallest representable step (PyNN fires on v > v_thresh).
//   * pyNN.brian2 checks the threshold one step after a synaptic jump and after one step of decay
//     (factor c = e^-dt/tau_m): the script compensates with one extra tick per neuron hop
//     ("lag") in the delays and by scaling v_thresh by c. NEST and sPyNNaker apply input and
//     check in the same step (lag 0, no scaling). Only brian2 is exercised by our tests.
//   * Weights are split into excitatory and inhibitory FromListConnectors; inhibitory weights
//     are negative for brian2/NEST (PyNN's rule for current-based synapses) and given as
//     magnitudes for sPyNNaker (which selects the receptor by receptor_type).
//   * Temporal groups become per-synapse delays fire_tick(post) − fire_tick(pre) (+ lag).
// Rate (integrate-and-fire) networks are refused.
#include <filesystem>
#include <string>

#include "snn_runtime/network/network.hpp"

namespace grindstone::exporters {

/// Writes the script atomically. InputError for networks it cannot express.
void export_pynn(const snn::Network& network, const std::filesystem::path& path);

/// The script text (exposed for tests).
std::string pynn_script(const snn::Network& network);

}  // namespace grindstone::exporters
