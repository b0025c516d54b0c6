#pragma once
// NIR import of stateful graphs: integrate-and-fire networks for the rate engine.
//   IF r, v_threshold, v_reset       → an IntegrateAndFire population: v += dt·r·I each tick,
//                                      spike iff v > v_threshold (kept strict: the next float
//                                      above it is our ≥ threshold), then v ← v_reset
//   LIF with dt/τ < 1e-6 and v_leak 0 → the same IF with input gain dt·r/τ (no leak to model)
//   Affine / Linear / Conv2d / SumPool2d / AvgPool2d / Scale / Flatten → projections into the
//                                      next neuron node (weights × dt·r of their post neuron;
//                                      an Affine bias becomes the bias current dt·r·b)
// dt is the graph's (or the first neuron node's) metadata "dt", else 1 (one tick per NIR time
// unit). Inputs: a constant current pixel/255 per tick, or T frames per sample fed raw
// (RateOptions::input_frames). The output population's spike counts give the class.
#include "converter/nir/nir_graph.hpp"
#include "snn_runtime/network/network.hpp"

namespace grindstone::nir {

/// True when the graph has stateful neurons (IF, LIF, CubaLIF, LI, I, CubaLI).
bool is_stateful(const NirGraph& graph);

/// The rate network of a stateful NIR chain. InputError naming the node and field otherwise.
snn::Network to_rate_network(const NirGraph& graph);

}  // namespace grindstone::nir
