#pragma once
// Binary-spike convolution as an output-stationary gather: for each output pixel, its cout sums
// stay in vector registers while every active input channel under every tap of its window adds
// its kernel row (cout weights) — one vector add per 8 (int32/float) synapses, no per-synapse
// stores. The scatter form (ScatterProjection::deliver per spike) loads and stores the
// accumulators once per synapse row instead, and issues one call per (spike, tap); measured on
// the sharpened conv network this gather is several times faster (docs/benchmarks.md).
//
// Exactness: integer sums are exact in any order. Float sums are formed in a different order from
// the scatter, but the single-pass engine's rounding bound holds for any order (it re-checks
// near-threshold sums in double), so decisions are unchanged.
#include <cstdint>
#include <vector>

#include "snn_runtime/network/connector_geometry.hpp"

namespace grindstone::snn::functional {

/// Scratch for gather_conv (reused across calls, so the hot loop never allocates).
struct ConvGatherScratch {
  std::vector<std::int32_t> pixel_start;  ///< per pre pixel: first entry of its channels
  std::vector<std::int32_t> row_offset;   ///< per spike: channel · cout
};

/// True when gather_conv handles a conv of `out_channels` with elements of `element_bytes`
/// (cout a multiple of the 32-byte vector's lanes, at most 16 vectors).
bool gather_conv_supported(std::int64_t out_channels, std::size_t element_bytes);

/// acc[post] += kernel[(tap·cin + ch)·cout + o] for every synapse of the pre neurons in
/// fired[0..count) (ascending neuron indices, channels-last). `kernel` is (kh·kw·cin) × cout,
/// row-major, scaled as the caller's units. Requires gather_conv_supported.
void gather_conv(const WindowGeometry& g, const float* kernel, const std::int32_t* fired, std::int64_t count,
                 ConvGatherScratch& scratch, float* acc);
void gather_conv(const WindowGeometry& g, const std::int32_t* kernel, const std::int32_t* fired, std::int64_t count,
                 ConvGatherScratch& scratch, std::int32_t* acc);
/// int16 kernel into int32 sums: exact when Σ_rows |kernel(row, o)| ≤ 32767 for every o (the
/// sums are formed in int16 per output pixel, then widened); half the bytes per row.
void gather_conv(const WindowGeometry& g, const std::int16_t* kernel, const std::int32_t* fired, std::int64_t count,
                 ConvGatherScratch& scratch, std::int32_t* acc);
void gather_conv(const WindowGeometry& g, const std::int64_t* kernel, const std::int32_t* fired, std::int64_t count,
                 ConvGatherScratch& scratch, std::int64_t* acc);

/// True when the gather beats scatter_conv for `count` spikes: at one spike per input pixel or
/// more (the gather visits every tap of every output pixel; the scatter only the spikes' taps).
bool gather_conv_pays(const WindowGeometry& g, std::int64_t count);

/// Same sums as gather_conv, spike by spike (vector adds into acc per tap); for sparse input.
/// Requires gather_conv_supported.
void scatter_conv(const WindowGeometry& g, const float* kernel, const std::int32_t* fired, std::int64_t count, float* acc);
void scatter_conv(const WindowGeometry& g, const std::int32_t* kernel, const std::int32_t* fired, std::int64_t count,
                  std::int32_t* acc);
void scatter_conv(const WindowGeometry& g, const std::int64_t* kernel, const std::int32_t* fired, std::int64_t count,
                  std::int64_t* acc);

}  // namespace grindstone::snn::functional
