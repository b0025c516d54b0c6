#include "hw_model/spinnaker2/mac_array.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common/error.hpp"

namespace grindstone::hw::s2 {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

template <class T>
constexpr std::int64_t max_magnitude() {
  return std::max<std::int64_t>(-static_cast<std::int64_t>(std::numeric_limits<T>::min()),
                                static_cast<std::int64_t>(std::numeric_limits<T>::max()));
}

template <class A, class B>
constexpr OperandWidth width_of() {
  static_assert(sizeof(A) <= 2 && sizeof(B) <= 2 && std::is_integral_v<A> && std::is_integral_v<B>,
                "MAC operands are 8- or 16-bit integers");
  return (sizeof(A) == 2 || sizeof(B) == 2) ? OperandWidth::Bits16 : OperandWidth::Bits8;
}

void check_size(std::size_t have, std::int64_t need, const char* what) {
  if (have < static_cast<std::size_t>(need))
    throw InternalError(std::string("MacArray: ") + what + " holds " + std::to_string(have) + " values, needs " +
                        std::to_string(need));
}

}  // namespace

MacArray::Stats& MacArray::Stats::operator+=(const Stats& o) {
  invocations += o.invocations;
  compute_cycles += o.compute_cycles;
  overhead_cycles += o.overhead_cycles;
  writeout_cycles += o.writeout_cycles;
  useful_macs += o.useful_macs;
  mac_slots += o.mac_slots;
  accumulator_overflows += o.accumulator_overflows;
  return *this;
}

MacArray::MacArray() : MacArray(Params{}) {}

MacArray::MacArray(Params params) : params_(params) {
  if (params_.rows <= 0 || params_.columns <= 0 || params_.rows * params_.columns != params_.macs_per_cycle ||
      params_.columns % 4 != 0)
    throw InputError("MacArray: rows·columns must equal macs_per_cycle, with columns a multiple of 4");
  if (params_.accumulator_bits < 16 || params_.accumulator_bits > 32)
    throw InputError("MacArray: accumulator_bits must be 16..32");
  if (params_.writeout_bytes_per_cycle <= 0) throw InputError("MacArray: writeout_bytes_per_cycle must be positive");
}

int MacArray::macs_per_cycle(OperandWidth width) const {
  return width == OperandWidth::Bits8 ? params_.macs_per_cycle : params_.macs_per_cycle / 4;
}

int MacArray::columns(OperandWidth width) const {
  return width == OperandWidth::Bits8 ? params_.columns : params_.columns / 4;
}

Cycles MacArray::matmul_cycles(MatmulShape shape, OperandWidth width, int bytes_per_value) const {
  const std::int64_t blocks = ceil_div(shape.m, params_.rows) * ceil_div(shape.n, columns(width));
  const std::int64_t compute = blocks * (shape.k + params_.block_pipeline_cycles.count);
  const std::int64_t writeout = ceil_div(shape.m * shape.n * bytes_per_value, params_.writeout_bytes_per_cycle);
  return Cycles(params_.invocation_overhead_cycles.count + compute + writeout);
}

Cycles MacArray::account_compute(MatmulShape shape, OperandWidth width) {
  const std::int64_t blocks = ceil_div(shape.m, params_.rows) * ceil_div(shape.n, columns(width));
  const std::int64_t compute = blocks * shape.k;
  const std::int64_t overhead = params_.invocation_overhead_cycles.count + blocks * params_.block_pipeline_cycles.count;
  stats_.invocations += 1;
  stats_.compute_cycles += compute;
  stats_.overhead_cycles += overhead;
  stats_.useful_macs += shape.m * shape.k * shape.n;
  stats_.mac_slots += (compute + overhead) * macs_per_cycle(width);
  return Cycles(compute + overhead);
}

Cycles MacArray::account_writeout(std::int64_t values, int bytes_per_value) {
  const std::int64_t writeout = ceil_div(values * bytes_per_value, params_.writeout_bytes_per_cycle);
  stats_.writeout_cycles += writeout;
  return Cycles(writeout);
}

Cycles MacArray::account(MatmulShape shape, OperandWidth width, int bytes_per_value) {
  return account_compute(shape, width) + account_writeout(shape.m * shape.n, bytes_per_value);
}

std::int32_t MacArray::wrap(std::int64_t value) {
  const int bits = params_.accumulator_bits;
  const std::int64_t lo = -(std::int64_t{1} << (bits - 1));
  const std::int64_t hi = (std::int64_t{1} << (bits - 1)) - 1;
  if (value >= lo && value <= hi) return static_cast<std::int32_t>(value);
  ++stats_.accumulator_overflows;
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  std::uint64_t low_bits = static_cast<std::uint64_t>(value) & mask;
  if (low_bits & (std::uint64_t{1} << (bits - 1))) low_bits |= ~mask;  // sign-extend
  return static_cast<std::int32_t>(static_cast<std::int64_t>(low_bits));
}

template <class A, class B>
void MacArray::matmul(std::span<const A> a, std::span<const B> b, MatmulShape shape, std::span<std::int32_t> acc) {
  const std::int64_t m = shape.m, k = shape.k, n = shape.n;
  check_size(a.size(), m * k, "input operand");
  check_size(b.size(), k * n, "weight operand");
  check_size(acc.size(), m * n, "accumulators");
  // Sums that cannot leave int32 are accumulated in int32 (vectorisable); others in int64. Both
  // are then wrapped to the accumulator width, which equals wrapping at every step (two's
  // complement addition is exact modulo 2^bits).
  const bool fits_int32 = max_magnitude<A>() * max_magnitude<B>() * k < (std::int64_t{1} << 31);
  std::vector<std::int64_t> wide;
  if (!fits_int32) wide.assign(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < m; ++i) {
    std::int32_t* row = acc.data() + i * n;
    const A* a_row = a.data() + i * k;
    if (fits_int32) {
      std::fill(row, row + n, 0);
      for (std::int64_t kk = 0; kk < k; ++kk) {
        const std::int32_t av = a_row[kk];
        if (av == 0) continue;  // zero gating
        const B* b_row = b.data() + kk * n;
        for (std::int64_t j = 0; j < n; ++j) row[j] += av * static_cast<std::int32_t>(b_row[j]);
      }
      for (std::int64_t j = 0; j < n; ++j) row[j] = wrap(row[j]);
    } else {
      std::fill(wide.begin(), wide.end(), 0);
      for (std::int64_t kk = 0; kk < k; ++kk) {
        const std::int64_t av = a_row[kk];
        if (av == 0) continue;
        const B* b_row = b.data() + kk * n;
        for (std::int64_t j = 0; j < n; ++j) wide[static_cast<std::size_t>(j)] += av * b_row[j];
      }
      for (std::int64_t j = 0; j < n; ++j) row[j] = wrap(wide[static_cast<std::size_t>(j)]);
    }
  }
  account_compute(shape, width_of<A, B>());  // write-out is accounted by write_out()
}

template <class A, class B>
void MacArray::conv2d(std::span<const A> input, std::span<const B> kernel, const Conv2dGeometry& g,
                      std::span<std::int32_t> acc) {
  const MatmulShape shape = g.as_matmul();
  check_size(input.size(), g.in_h * g.in_w * g.in_channels, "input image");
  check_size(kernel.size(), shape.k * shape.n, "kernel");
  check_size(acc.size(), shape.m * shape.n, "accumulators");
  const std::int64_t cout = g.out_channels, cin = g.in_channels;
  const bool fits_int32 = max_magnitude<A>() * max_magnitude<B>() * shape.k < (std::int64_t{1} << 31);
  std::vector<std::int64_t> wide(static_cast<std::size_t>(cout));
  std::vector<std::int32_t> narrow(static_cast<std::size_t>(cout));
  for (std::int64_t oy = 0; oy < g.out_h; ++oy) {
    for (std::int64_t ox = 0; ox < g.out_w; ++ox) {
      std::fill(wide.begin(), wide.end(), 0);
      std::fill(narrow.begin(), narrow.end(), 0);
      for (std::int64_t i = 0; i < g.kernel_h; ++i) {
        const std::int64_t y = oy * g.stride_h - g.pad_top + i * g.dilation_h;
        if (y < 0 || y >= g.in_h) continue;
        for (std::int64_t j = 0; j < g.kernel_w; ++j) {
          const std::int64_t x = ox * g.stride_w - g.pad_left + j * g.dilation_w;
          if (x < 0 || x >= g.in_w) continue;
          const A* pixel = input.data() + (y * g.in_w + x) * cin;
          const B* k_rows = kernel.data() + (i * g.kernel_w + j) * cin * cout;
          for (std::int64_t c = 0; c < cin; ++c) {
            const std::int32_t av = pixel[c];
            if (av == 0) continue;
            const B* k_row = k_rows + c * cout;
            if (fits_int32) {
              for (std::int64_t o = 0; o < cout; ++o) narrow[static_cast<std::size_t>(o)] += av * static_cast<std::int32_t>(k_row[o]);
            } else {
              for (std::int64_t o = 0; o < cout; ++o) wide[static_cast<std::size_t>(o)] += std::int64_t{av} * k_row[o];
            }
          }
        }
      }
      std::int32_t* out = acc.data() + (oy * g.out_w + ox) * cout;
      for (std::int64_t o = 0; o < cout; ++o)
        out[o] = wrap(fits_int32 ? narrow[static_cast<std::size_t>(o)] : wide[static_cast<std::size_t>(o)]);
    }
  }
  account_compute(shape, width_of<A, B>());
}

std::int32_t apply_write_out(std::int32_t acc, std::int32_t bias, const WriteOut& w) {
  std::int64_t v = (std::int64_t{acc} + bias) * w.multiplier;
  if (w.shift > 0) v = (v + (std::int64_t{1} << (w.shift - 1))) >> w.shift;  // round half up
  if (w.relu) v = std::max<std::int64_t>(v, 0);
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, w.clamp_min, w.clamp_max));
}

void MacArray::write_out(std::span<const std::int32_t> acc, MatmulShape shape, const WriteOut& w,
                         std::span<std::int32_t> out) {
  const std::int64_t m = shape.m, n = shape.n;
  check_size(acc.size(), m * n, "accumulators");
  check_size(out.size(), m * n, "write-out buffer");
  if (!w.bias.empty()) check_size(w.bias.size(), n, "write-out bias");
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      const std::int32_t bias = w.bias.empty() ? 0 : w.bias[static_cast<std::size_t>(j)];
      out[static_cast<std::size_t>(i * n + j)] = apply_write_out(acc[static_cast<std::size_t>(i * n + j)], bias, w);
    }
  account_writeout(m * n, w.bytes_per_value);
}

// The operand combinations the hardware supports: unsigned/signed 8-bit inputs with int8 weights,
// and the fused 16-bit mode.
template void MacArray::matmul<std::uint8_t, std::int8_t>(std::span<const std::uint8_t>, std::span<const std::int8_t>, MatmulShape,
                                                   std::span<std::int32_t>);
template void MacArray::conv2d<std::uint8_t, std::int8_t>(std::span<const std::uint8_t>, std::span<const std::int8_t>, const Conv2dGeometry&,
                                                   std::span<std::int32_t>);
template void MacArray::matmul<std::int8_t, std::int8_t>(std::span<const std::int8_t>, std::span<const std::int8_t>, MatmulShape,
                                                   std::span<std::int32_t>);
template void MacArray::conv2d<std::int8_t, std::int8_t>(std::span<const std::int8_t>, std::span<const std::int8_t>, const Conv2dGeometry&,
                                                   std::span<std::int32_t>);
template void MacArray::matmul<std::uint8_t, std::int16_t>(std::span<const std::uint8_t>, std::span<const std::int16_t>, MatmulShape,
                                                   std::span<std::int32_t>);
template void MacArray::conv2d<std::uint8_t, std::int16_t>(std::span<const std::uint8_t>, std::span<const std::int16_t>, const Conv2dGeometry&,
                                                   std::span<std::int32_t>);
template void MacArray::matmul<std::int16_t, std::int16_t>(std::span<const std::int16_t>, std::span<const std::int16_t>, MatmulShape,
                                                   std::span<std::int32_t>);
template void MacArray::conv2d<std::int16_t, std::int16_t>(std::span<const std::int16_t>, std::span<const std::int16_t>, const Conv2dGeometry&,
                                                   std::span<std::int32_t>);

}  // namespace grindstone::hw::s2
