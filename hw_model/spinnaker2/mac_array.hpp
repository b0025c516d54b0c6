#pragma once
// The SpiNNaker 2 machine-learning accelerator of one PE: a 64-MAC int8 array with matrix
// (MatMul) and 2-D convolution modes, wide accumulators, and a write-out stage that adds a bias,
// requantises (multiply, rounding shift, clamp) and applies ReLU for free.
//
// Two models of the same array:
//  - functional: bit-exact integer arithmetic (8-bit or fused 16-bit operands, accumulators of
//    `accumulator_bits` two's-complement bits that wrap on overflow);
//  - cycle: cycles for an M×K · K×N product on the broadcast, output-stationary organisation
//    (`rows` × `columns` accumulators; each cycle one k step of a rows×columns output block).
//
// Sources: TU Dresden SpiNNaker2 FAQ [V] (64 MACs, 8-bit multipliers, 29-bit accumulators, 2-D conv
// and matmul modes, signed/unsigned, 4 MACs fuse into one 16-bit MAC, ReLU/requantisation free);
// Kelber et al., NICE 2021 (seed 000_9273486a794bc3be) [V] (broadcast output-stationary array,
// zero gating, stride write-out, 4.6 TOPS @ 3.8 TOPS/W on Jib1). The 16×4 layout is a
// secondary compilation [U]; everything marked ASSUMPTION below is ours.
#include <cstdint>
#include <span>
#include <vector>

#include "hw_model/spinnaker2/units.hpp"

namespace grindstone::hw::s2 {

/// Operand width of one array invocation.
enum class OperandWidth {
  Bits8,   ///< int8/uint8 operands, all 64 MACs
  Bits16,  ///< int16 operands; 4 MACs fuse into one 16-bit MAC (FAQ [V]) → macs_per_cycle/4
};

/// Bytes of one operand value in SRAM/DRAM: int8 weights, activations and inputs.
inline constexpr std::int64_t kOperandBytes = sizeof(std::int8_t);
/// Bytes of one output column's bias: WriteOut::bias is added to the 32-bit accumulator.
inline constexpr std::int64_t kBiasBytes = sizeof(std::int32_t);

/// Shape of one matrix product: (m × k) · (k × n).
struct MatmulShape {
  std::int64_t m = 1;  ///< rows of the input operand (samples, or output positions in conv mode)
  std::int64_t k = 1;  ///< reduction length
  std::int64_t n = 1;  ///< output columns (neurons / output channels)
};

/// Geometry of a conv2d-mode invocation, channels-last input (in_h, in_w, in_channels) and
/// kernel rows ordered (i·kernel_w + j)·in_channels + c (as snn::ConvConnector / ann::Conv2D).
struct Conv2dGeometry {
  std::int64_t in_h = 1, in_w = 1, in_channels = 1, out_channels = 1;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, out_h = 1, out_w = 1;
  /// The equivalent matrix product: m = out_h·out_w, k = kernel_h·kernel_w·in_channels, n = out_channels.
  MatmulShape as_matmul() const { return {out_h * out_w, kernel_h * kernel_w * in_channels, out_channels}; }
};

/// The write-out stage applied to each accumulator on its way to SRAM:
/// out = clamp(relu?((acc + bias[col]) · multiplier >> shift, rounded half up), clamp_min, clamp_max).
/// A binary threshold neuron (fire iff acc ≥ T) is bias = 1 − T, multiplier 1, shift 0, ReLU,
/// clamp to [0, 1]. ASSUMPTION: clamp bounds are configurable (the FAQ only says requantisation
/// and ReLU are free; int8 requantisation clamps to [−128, 127]).
struct WriteOut {
  std::vector<std::int32_t> bias;  ///< per output column (empty = 0)
  std::int32_t multiplier = 1;     ///< requantisation multiplier
  int shift = 0;                   ///< arithmetic right shift after the multiply (0–31)
  bool relu = false;
  std::int32_t clamp_min = -128;
  std::int32_t clamp_max = 127;
  /// Bytes each written value occupies in SRAM (1 for int8/binary outputs).
  int bytes_per_value = 1;
};

class MacArray {
 public:
  struct Params {
    /// 8-bit MACs per clock cycle. Source: TU Dresden FAQ [V] "64 MAC per clock".
    int macs_per_cycle = 64;
    /// Output-stationary accumulator rows (input rows processed together). Source: 16×4 layout,
    /// secondary compilation [U]; ASSUMPTION that the 4 is the row (input) dimension.
    int rows = 4;
    /// Output-stationary accumulator columns (output neurons processed together); rows·columns
    /// = macs_per_cycle. Source as `rows` [U].
    int columns = 16;
    /// Accumulator width in bits (two's complement; wraps on overflow — ASSUMPTION: wrap, not
    /// saturate). Source: TU Dresden FAQ [V] 29 bits (a secondary source says 24 [U]).
    int accumulator_bits = 29;
    /// Cycles the ARM core spends programming one invocation (addresses, strides, shape, mode).
    /// ASSUMPTION: ~10 register writes at 2 cycles each.
    Cycles invocation_overhead_cycles{20};
    /// Pipeline fill/drain cycles per output block. ASSUMPTION (operand fetch → multiply → add).
    Cycles block_pipeline_cycles{3};
    /// Bytes the write-out stage stores per cycle. ASSUMPTION: one 128-bit SRAM word per cycle.
    std::int64_t writeout_bytes_per_cycle = 16;
    /// Bytes of one accumulator written out without requantisation (a partial sum of a layer
    /// split along k, or an int32 score): the 29-bit accumulator in a 32-bit word. ASSUMPTION
    /// (word-aligned SRAM stores).
    int partial_sum_bytes = 4;
  };

  struct Stats {
    std::int64_t invocations = 0;
    std::int64_t compute_cycles = 0;     ///< k steps of all output blocks
    std::int64_t overhead_cycles = 0;    ///< invocation set-up and pipeline fill
    std::int64_t writeout_cycles = 0;
    std::int64_t useful_macs = 0;        ///< m·k·n summed (in the invocation's operand width)
    std::int64_t mac_slots = 0;          ///< busy cycles × MACs available in that width
    std::int64_t accumulator_overflows = 0;  ///< results outside the accumulator range (wrapped)
    std::int64_t total_cycles() const { return compute_cycles + overhead_cycles + writeout_cycles; }
    /// Useful MACs / MAC slots of the busy cycles (0 when idle).
    double utilisation() const { return mac_slots ? static_cast<double>(useful_macs) / static_cast<double>(mac_slots) : 0.0; }
    Stats& operator+=(const Stats& o);
  };

  MacArray();  // default Params
  explicit MacArray(Params params);
  const Params& params() const { return params_; }
  const Stats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

  // ---- cycle model (pure: does not touch stats) ----
  /// MACs per cycle in `width` (64 for 8-bit, 16 for fused 16-bit).
  int macs_per_cycle(OperandWidth width) const;
  /// Accumulator columns per cycle in `width` (16 for 8-bit; 4 for 16-bit — ASSUMPTION: fusing
  /// 4 MACs shrinks the column count, keeping the row count).
  int columns(OperandWidth width) const;
  /// Cycles of one invocation computing an m×k·k×n product and writing out m·n values of
  /// `bytes_per_value` bytes: ceil(m/rows)·ceil(n/cols)·(k + pipeline) + set-up + write-out.
  Cycles matmul_cycles(MatmulShape shape, OperandWidth width, int bytes_per_value) const;
  /// Records the cost of one invocation in stats (what the functional calls do too) and
  /// returns its cycles. Used by mappers that estimate without computing.
  Cycles account(MatmulShape shape, OperandWidth width, int bytes_per_value);
  /// The set-up + compute part of `account` (what matmul/conv2d record).
  Cycles account_compute(MatmulShape shape, OperandWidth width);
  /// The write-out part of `account`: `values` values of `bytes_per_value` bytes.
  Cycles account_writeout(std::int64_t values, int bytes_per_value);

  // ---- functional model ----
  /// acc (m×n, row-major) = a (m×k, row-major) · b (k×n, row-major), wrapped to the accumulator
  /// width. The operand types select the width: any int16 operand means 16-bit mode. Zero
  /// inputs are skipped (zero gating) — a speed-up of the model, not a change of the result.
  /// Accounts the invocation's set-up and compute cycles; `write_out` accounts the write-out.
  template <class A, class B>
  void matmul(std::span<const A> a, std::span<const B> b, MatmulShape shape, std::span<std::int32_t> acc);

  /// Conv2d mode: acc (out_h·out_w × out_channels, row-major) from a channels-last input image
  /// and a (kernel_h·kernel_w·in_channels × out_channels) row-major kernel; positions outside the
  /// image contribute 0. Accounts set-up and compute cycles, as `matmul`.
  template <class A, class B>
  void conv2d(std::span<const A> input, std::span<const B> kernel, const Conv2dGeometry& geometry,
              std::span<std::int32_t> acc);

  /// The write-out stage over an m×n accumulator block; `out` gets m·n values. Accounts the
  /// write-out cycles of m·n values at write_out.bytes_per_value bytes each.
  void write_out(std::span<const std::int32_t> acc, MatmulShape shape, const WriteOut& write_out,
                 std::span<std::int32_t> out);

 private:
  /// Wraps a wide sum to the accumulator width, counting overflow.
  std::int32_t wrap(std::int64_t value);
  Params params_;
  Stats stats_;
};

/// Applies the write-out arithmetic to one accumulator value (exposed for tests and mappers).
std::int32_t apply_write_out(std::int32_t acc, std::int32_t bias, const WriteOut& write_out);

}  // namespace grindstone::hw::s2
