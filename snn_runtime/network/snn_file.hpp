#pragma once
// The `.snn.h5` file: a converted network (ARCHITECTURE.md §4), written with the HDF5 C API.
//
// Layout, version 1 (all names fixed; strings are variable-length UTF-8):
//   /                      attrs format="grindstone-snn", version=1 (int), weights_format
//                          ("float" | "Qm.n"), bias_mode, input_encoding ("threshold" |
//                          "bitplanes" | "real"), output (int, population index)
//   /input_shape           int64 (rank)
//   /populations/NNNNNN    one group per population, in order (zero-padded index);
//                          attrs name, role ("input"|"bias"|"hidden"|"output"), model
//                          ("instant_decay"|"integrate_and_fire"), tick, temporal_groups,
//                          source_layer, input_bit; datasets shape int64 (rank),
//                          threshold float32 (size, absent for sources), bias_current float32
//                          (size, integrate-and-fire only)
//   /projections/NNNNNN    attrs name, pre, post, kind ("dense"|"conv"|"pool"|"one_to_one"),
//                          weight_scale; dense: dataset weights float32 (pre size, post size);
//                          conv: attrs kernel_h, kernel_w, in_channels, out_channels, stride_h,
//                          stride_w, dilation_h, dilation_w, pad_top, pad_left and dataset kernel
//                          float32 (kh·kw·cin, cout); pool: attrs pool_h, pool_w, stride_h,
//                          stride_w, pad_top, pad_left, weight; one_to_one: attr weight
//   /decode                attrs kind ("n_hot_key"|"spike_count"), classes,
//                          tie_break_by_potential; dataset key float32 (classes, width) for n_hot_key
//   /provenance            attrs source_file, source_sha256, grindstone_version; dataset
//                          passes (vlen strings, in order)
#include <filesystem>

#include "snn_runtime/network/network.hpp"

namespace grindstone::snn {

/// The format version this build writes and reads.
inline constexpr int kSnnFileVersion = 1;

/// Validates `network` (InputError naming the field) and writes it atomically (temporary file
/// in the same folder + rename).
void save_network(const Network& network, const std::filesystem::path& path);

/// Reads and validates a network. InputError "<file>: <field>: …" for a file that is not HDF5
/// or is truncated, has another `format`, an unknown `version` (the message says which version
/// was found), a missing group/dataset/attribute, or inconsistent shapes (weights vs population
/// sizes, threshold lengths, decode key width).
Network load_network(const std::filesystem::path& path);

/// load_network without the containment: reads in this process (a libhdf5 crash crashes the
/// caller). For the contained child and the fuzz harnesses (fuzz/), which must see crashes.
Network load_network_in_process(const std::filesystem::path& path);

}  // namespace grindstone::snn
