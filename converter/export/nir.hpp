#pragma once
// NIR export (neuromorphs/NIR HDF5 layout, see /work/shared/reference/whetstone-snntoolbox-nir.md §3):
//   /version            vlen string dataset ("1.0.0")
//   /node               type="NIRGraph", nodes/<name>/…, edges (E, 2) vlen strings,
//                       metadata/ (decode, classes, key, input_encoding, dt, time_unit,
//                       steps_per_sample, reset, threshold_rule, source_file, source_sha256)
// Every node is written field for field as the reference serializer writes it (nir/ir/*.py
// to_dict through nir/serialization.py write); tests/data/nir_reference_layout.json is that
// layout, checked by python/tests/test_nir_conformance.py.
// Mapping of a single-pass network (one sample = one evaluation of a stateless graph):
//   * Input: shape (C, H, W) channels-first for images, (N) otherwise. Bit-plane inputs export as
//     one real-valued input pixel/255 (Σ_k 2^k/255·bit_k = pixel/255, so this is exact).
//   * Dense → Affine weight (out, in), bias; a Dense reading an image population gets a Flatten
//     (start_dim 0, end_dim −1, input_type = the (C, H, W) shape as a plain dataset) and its weight columns reordered from our HWC to NIR's
//     CHW flatten order.
//   * Conv → Conv2d weight (Cout, Cin, kH, kW), input_shape (H, W), stride, padding
//     (pad_top, pad_left; Keras 'same' pads the extra row/column at the bottom/right, which a
//     symmetric NIR padding cannot say for even kernels — documented), dilation, groups 1, bias.
//   * Pool (OR) → SumPool2d kernel_size, stride, padding, followed by its Threshold.
//   * Bias neurons fire every sample, so their synapses become the Affine/Conv2d bias (exact);
//     the daisy chain itself is not exported. Threshold-mode networks carry the bias in θ.
//   * Neurons → Threshold nodes (z = v > θ, stateless = instant decay). NIR fires on v > θ
//     while Whetstone fires on v ≥ θ, so θ is lowered by the smallest representable step:
//     one unit 2^-n for Qm.n networks (sums of spikes are multiples of 2^-n), else — and for
//     layers reading the real-valued bit-plane input — the next float32 below.
//   * Temporal groups are a mapping detail (when neurons fire), not part of the graph.
// Rate (integrate-and-fire) networks are refused: export them from the Keras model instead.
#include <filesystem>

#include "snn_runtime/network/network.hpp"

namespace grindstone::exporters {

/// Writes `network` as a NIR graph to `path` (atomically). InputError when the network cannot
/// be expressed (integrate-and-fire neurons, non-constant per-channel conv bias).
void export_nir(const snn::Network& network, const std::filesystem::path& path);

/// The strict-inequality threshold equivalent to `v ≥ threshold` for sums in `format`.
float strict_threshold(float threshold, const snn::WeightFormat& format);

}  // namespace grindstone::exporters
