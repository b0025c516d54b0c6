#include "snn_runtime/functional/conv_gather.hpp"

#include <array>
#include <cstring>
#include <type_traits>
#include <utility>

#include "common/error.hpp"

namespace grindstone::snn::functional {
namespace {

constexpr int kVectorBytes = 32;  // one AVX2 register (two SSE2 registers on a baseline build)
constexpr int kMaxVectors = 16;

template <class T>
struct VectorOf;
template <>
struct VectorOf<float> {
  using type = float __attribute__((vector_size(kVectorBytes)));
};
template <>
struct VectorOf<std::int16_t> {
  using type = std::int16_t __attribute__((vector_size(kVectorBytes)));
};
template <>
struct VectorOf<std::int32_t> {
  using type = std::int32_t __attribute__((vector_size(kVectorBytes)));
};
template <>
struct VectorOf<std::int64_t> {
  using type = std::int64_t __attribute__((vector_size(kVectorBytes)));
};

/// out[0..16) += v (16 int16 lanes widened to int32).
inline void add_widened(std::int32_t* out, VectorOf<std::int16_t>::type v) {
  using Half = std::int16_t __attribute__((vector_size(kVectorBytes / 2)));
  using Wide = VectorOf<std::int32_t>::type;
  const Half lo = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
  const Half hi = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  Wide a, b;
  std::memcpy(&a, out, sizeof(Wide));
  std::memcpy(&b, out + 8, sizeof(Wide));
  a += __builtin_convertvector(lo, Wide);
  b += __builtin_convertvector(hi, Wide);
  std::memcpy(out, &a, sizeof(Wide));
  std::memcpy(out + 8, &b, sizeof(Wide));
}

/// R vectors of kernel elements S per output pixel, added into acc of T: S = T (sums start
/// from acc), or S = int16, T = int32 (sums start from 0 in int16 and are widened at the end;
/// exact when the caller proved Σ|w| ≤ 32767 per output channel).
template <class S, class T, int R>
void gather_kernel(const WindowGeometry& g, const S* __restrict kernel, const std::int32_t* __restrict start,
                   const std::int32_t* __restrict offset, T* __restrict acc) {
  using V = typename VectorOf<S>::type;
  constexpr bool kWiden = !std::is_same_v<S, T>;
  constexpr int kLanes = kVectorBytes / static_cast<int>(sizeof(S));
  constexpr std::int64_t cout = std::int64_t{R} * kLanes;
  // Small tiles get a second accumulator set so consecutive rows do not wait on each other's adds.
  constexpr bool kSplit = R <= 4;
  const std::int64_t tap_stride = g.in_channels * cout;
  for (std::int64_t oy = 0; oy < g.y.out; ++oy)
    for (std::int64_t ox = 0; ox < g.x.out; ++ox) {
      T* out = acc + (oy * g.x.out + ox) * cout;
      V a[R], b[R];
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        if constexpr (kWiden) a[r] = V{};
        else std::memcpy(&a[r], out + r * kLanes, sizeof(V));
        b[r] = V{};
      }
      for (int ky = 0; ky < g.y.taps; ++ky) {
        const std::int64_t py = g.y.input_of(oy, ky);
        if (!g.y.inside(py)) continue;
        for (int kx = 0; kx < g.x.taps; ++kx) {
          const std::int64_t px = g.x.input_of(ox, kx);
          if (!g.x.inside(px)) continue;
          const std::int64_t p = py * g.x.in + px;
          const S* __restrict taps = kernel + (ky * g.x.taps + kx) * tap_stride;
          std::int32_t k = start[p];
          const std::int32_t end = start[p + 1];
          if constexpr (kSplit) {
            for (; k + 2 <= end; k += 2) {
              const S* r0 = taps + offset[k];
              const S* r1 = taps + offset[k + 1];
#pragma GCC unroll 16
              for (int r = 0; r < R; ++r) {
                V w0, w1;
                std::memcpy(&w0, r0 + r * kLanes, sizeof(V));
                std::memcpy(&w1, r1 + r * kLanes, sizeof(V));
                a[r] += w0;
                b[r] += w1;
              }
            }
          }
          for (; k < end; ++k) {
            const S* r0 = taps + offset[k];
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r) {
              V w0;
              std::memcpy(&w0, r0 + r * kLanes, sizeof(V));
              a[r] += w0;
            }
          }
        }
      }
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        if constexpr (kSplit) a[r] += b[r];
        if constexpr (kWiden) add_widened(out + r * kLanes, a[r]);
        else std::memcpy(out + r * kLanes, &a[r], sizeof(V));
      }
    }
}

/// The scatter form for sparse input (under one spike per input pixel, as on a threshold-coded
/// image): per spike, its kernel row under every tap added to the output pixel it reaches.
template <class T, int R>
void scatter_kernel(const WindowGeometry& g, const T* __restrict kernel, const std::int32_t* __restrict fired,
                    std::int64_t count, T* __restrict acc) {
  using V = typename VectorOf<T>::type;
  constexpr int kLanes = kVectorBytes / static_cast<int>(sizeof(T));
  constexpr std::int64_t cout = std::int64_t{R} * kLanes;
  const std::int64_t channels = g.in_channels, tap_stride = channels * cout;
  for (std::int64_t k = 0; k < count; ++k) {
    const std::int64_t pixel = fired[k] / channels, ch = fired[k] % channels;
    const T* column = kernel + ch * cout;
    g.for_each_output(pixel / g.x.in, pixel % g.x.in, [&](int tap, std::int64_t oy, std::int64_t ox) {
      T* out = acc + (oy * g.x.out + ox) * cout;
      const T* row = column + tap * tap_stride;
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        V a, w;
        std::memcpy(&a, out + r * kLanes, sizeof(V));
        std::memcpy(&w, row + r * kLanes, sizeof(V));
        a += w;
        std::memcpy(out + r * kLanes, &a, sizeof(V));
      }
    });
  }
}

template <class T>
using ScatterKernel = void (*)(const WindowGeometry&, const T*, const std::int32_t*, std::int64_t, T*);
template <class T, std::size_t... I>
constexpr std::array<ScatterKernel<T>, sizeof...(I)> scatter_table(std::index_sequence<I...>) {
  return {&scatter_kernel<T, static_cast<int>(I) + 1>...};
}

template <class S, class T>
using Kernel = void (*)(const WindowGeometry&, const S*, const std::int32_t*, const std::int32_t*, T*);

template <class S, class T, std::size_t... I>
constexpr std::array<Kernel<S, T>, sizeof...(I)> kernel_table(std::index_sequence<I...>) {
  return {&gather_kernel<S, T, static_cast<int>(I) + 1>...};
}

template <class S, class T>
void gather(const WindowGeometry& g, const S* kernel, const std::int32_t* fired, std::int64_t count,
            ConvGatherScratch& scratch, T* acc) {
  constexpr int kLanes = kVectorBytes / static_cast<int>(sizeof(S));
  if (!gather_conv_supported(g.out_channels, sizeof(S)))
    throw InternalError("gather_conv: " + std::to_string(g.out_channels) + " output channels not supported");
  const std::int64_t pixels = g.pre_pixels(), channels = g.in_channels, cout = g.out_channels;
  scratch.pixel_start.resize(static_cast<std::size_t>(pixels + 1));
  scratch.row_offset.resize(static_cast<std::size_t>(count));
  // Spikes are ascending, so each pixel's channels are one contiguous run of the list.
  std::int64_t k = 0;
  for (std::int64_t p = 0; p < pixels; ++p) {
    scratch.pixel_start[static_cast<std::size_t>(p)] = static_cast<std::int32_t>(k);
    const std::int64_t first = p * channels, limit = first + channels;
    for (; k < count && fired[k] < limit; ++k)
      scratch.row_offset[static_cast<std::size_t>(k)] = static_cast<std::int32_t>((fired[k] - first) * cout);
  }
  scratch.pixel_start[static_cast<std::size_t>(pixels)] = static_cast<std::int32_t>(k);
  static constexpr auto table = kernel_table<S, T>(std::make_index_sequence<kMaxVectors>{});
  table[static_cast<std::size_t>(cout / kLanes - 1)](g, kernel, scratch.pixel_start.data(), scratch.row_offset.data(), acc);
}

}  // namespace

bool gather_conv_supported(std::int64_t out_channels, std::size_t element_bytes) {
  const auto lanes = static_cast<std::int64_t>(kVectorBytes / element_bytes);
  return out_channels > 0 && out_channels % lanes == 0 && out_channels / lanes <= kMaxVectors;
}

bool gather_conv_pays(const WindowGeometry& g, std::int64_t count) { return count >= g.pre_pixels(); }

template <class T>
void scatter(const WindowGeometry& g, const T* kernel, const std::int32_t* fired, std::int64_t count, T* acc) {
  constexpr int kLanes = kVectorBytes / static_cast<int>(sizeof(T));
  if (!gather_conv_supported(g.out_channels, sizeof(T)))
    throw InternalError("scatter_conv: " + std::to_string(g.out_channels) + " output channels not supported");
  static constexpr auto table = scatter_table<T>(std::make_index_sequence<kMaxVectors>{});
  table[static_cast<std::size_t>(g.out_channels / kLanes - 1)](g, kernel, fired, count, acc);
}
void scatter_conv(const WindowGeometry& g, const float* kernel, const std::int32_t* fired, std::int64_t count, float* acc) {
  scatter(g, kernel, fired, count, acc);
}
void scatter_conv(const WindowGeometry& g, const std::int32_t* kernel, const std::int32_t* fired, std::int64_t count,
                  std::int32_t* acc) {
  scatter(g, kernel, fired, count, acc);
}
void scatter_conv(const WindowGeometry& g, const std::int64_t* kernel, const std::int32_t* fired, std::int64_t count,
                  std::int64_t* acc) {
  scatter(g, kernel, fired, count, acc);
}

void gather_conv(const WindowGeometry& g, const float* kernel, const std::int32_t* fired, std::int64_t count,
                 ConvGatherScratch& scratch, float* acc) {
  gather(g, kernel, fired, count, scratch, acc);
}
void gather_conv(const WindowGeometry& g, const std::int32_t* kernel, const std::int32_t* fired, std::int64_t count,
                 ConvGatherScratch& scratch, std::int32_t* acc) {
  gather(g, kernel, fired, count, scratch, acc);
}
void gather_conv(const WindowGeometry& g, const std::int16_t* kernel, const std::int32_t* fired, std::int64_t count,
                 ConvGatherScratch& scratch, std::int32_t* acc) {
  gather(g, kernel, fired, count, scratch, acc);
}
void gather_conv(const WindowGeometry& g, const std::int64_t* kernel, const std::int32_t* fired, std::int64_t count,
                 ConvGatherScratch& scratch, std::int64_t* acc) {
  gather(g, kernel, fired, count, scratch, acc);
}

}  // namespace grindstone::snn::functional
