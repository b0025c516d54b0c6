#include "snn_runtime/functional/scatter.hpp"

#include <bit>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "common/error.hpp"

namespace grindstone::snn::functional {
namespace {

// The hot loops of both engines. target_clones builds an AVX2 copy beside the baseline one and
// picks at load time, so the binary still runs on any x86-64 (the build sets no -march).
// Not under ThreadSanitizer: the clones' ifunc resolver runs during relocation, before TSan's
// runtime is up, and GCC instruments it, so the binary segfaulted before main().
#if defined(__SANITIZE_THREAD__)
#define GRINDSTONE_CLONES
#else
#define GRINDSTONE_CLONES [[gnu::target_clones("avx2", "default")]]
#endif
GRINDSTONE_CLONES void add_run(float* __restrict acc, const float* __restrict row, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) acc[i] += row[i];
}
GRINDSTONE_CLONES void add_run(std::int32_t* __restrict acc, const std::int32_t* __restrict row,
                                                        std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) acc[i] += row[i];
}
GRINDSTONE_CLONES void add_run(std::int64_t* __restrict acc, const std::int64_t* __restrict row,
                                                        std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) acc[i] += row[i];
}
GRINDSTONE_CLONES void add_scaled_run(float* __restrict acc, const float* __restrict row, float a,
                                                               std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) acc[i] += a * row[i];
}
GRINDSTONE_CLONES void add_scaled_run(std::int32_t* __restrict acc, const std::int32_t* __restrict row,
                                                               std::int32_t a, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) acc[i] += a * row[i];
}
GRINDSTONE_CLONES void add_scaled_run(std::int64_t* __restrict acc, const std::int64_t* __restrict row,
                                                               std::int64_t a, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) acc[i] += a * row[i];
}

// Whole-population delivery for dense projections: four rows per pass over acc, so acc is
// loaded and stored once per four spikes. Element-wise, so it vectorises without fast-math.
template <class T>
[[gnu::always_inline]] inline void add_rows_body(T* __restrict acc, const T* __restrict weights, std::int64_t stride,
                                                 const std::int32_t* __restrict fired, std::int64_t count, std::int64_t n) {
  std::int64_t k = 0;
  for (; k + 4 <= count; k += 4) {
    const T* __restrict r0 = weights + fired[k] * stride;
    const T* __restrict r1 = weights + fired[k + 1] * stride;
    const T* __restrict r2 = weights + fired[k + 2] * stride;
    const T* __restrict r3 = weights + fired[k + 3] * stride;
    for (std::int64_t i = 0; i < n; ++i) acc[i] += (r0[i] + r1[i]) + (r2[i] + r3[i]);
  }
  for (; k < count; ++k) {
    const T* __restrict r0 = weights + fired[k] * stride;
    for (std::int64_t i = 0; i < n; ++i) acc[i] += r0[i];
  }
}
GRINDSTONE_CLONES void add_rows(float* acc, const float* weights, std::int64_t stride,
                                                         const std::int32_t* fired, std::int64_t count, std::int64_t n) {
  add_rows_body(acc, weights, stride, fired, count, n);
}
GRINDSTONE_CLONES void add_rows(std::int32_t* acc, const std::int32_t* weights, std::int64_t stride,
                                                         const std::int32_t* fired, std::int64_t count, std::int64_t n) {
  add_rows_body(acc, weights, stride, fired, count, n);
}
GRINDSTONE_CLONES void add_rows(std::int64_t* acc, const std::int64_t* weights, std::int64_t stride,
                                                         const std::int32_t* fired, std::int64_t count, std::int64_t n) {
  add_rows_body(acc, weights, stride, fired, count, n);
}

/// add_rows with int16 weights into int32 sums (each term widened; exact).
GRINDSTONE_CLONES void add_rows(std::int32_t* __restrict acc, const std::int16_t* __restrict weights,
                                                         std::int64_t stride, const std::int32_t* __restrict fired,
                                                         std::int64_t count, std::int64_t n) {
  std::int64_t k = 0;
  for (; k + 4 <= count; k += 4) {
    const std::int16_t* __restrict r0 = weights + fired[k] * stride;
    const std::int16_t* __restrict r1 = weights + fired[k + 1] * stride;
    const std::int16_t* __restrict r2 = weights + fired[k + 2] * stride;
    const std::int16_t* __restrict r3 = weights + fired[k + 3] * stride;
    for (std::int64_t i = 0; i < n; ++i)
      acc[i] += (std::int32_t{r0[i]} + std::int32_t{r1[i]}) + (std::int32_t{r2[i]} + std::int32_t{r3[i]});
  }
  for (; k < count; ++k) {
    const std::int16_t* __restrict r0 = weights + fired[k] * stride;
    for (std::int64_t i = 0; i < n; ++i) acc[i] += std::int32_t{r0[i]};
  }
}

/// Pixel-weighted rows (fused bit planes), four non-zero pixels per pass over acc.
template <class T, class W>
[[gnu::always_inline]] inline std::int64_t add_pixel_rows_body(T* __restrict acc, const W* __restrict weights,
                                                               std::int64_t rows, const std::uint8_t* __restrict pixels,
                                                               const std::int32_t* __restrict fanout, std::int64_t n) {
  std::int64_t events = 0;
  std::int64_t js[4];
  int held = 0;
  for (std::int64_t j = 0; j < rows; ++j) {
    if (pixels[j] == 0) continue;
    events += std::int64_t{std::popcount(static_cast<unsigned>(pixels[j]))} * fanout[j];
    js[held++] = j;
    if (held < 4) continue;
    held = 0;
    const T a0 = static_cast<T>(pixels[js[0]]), a1 = static_cast<T>(pixels[js[1]]);
    const T a2 = static_cast<T>(pixels[js[2]]), a3 = static_cast<T>(pixels[js[3]]);
    const W* __restrict r0 = weights + js[0] * n;
    const W* __restrict r1 = weights + js[1] * n;
    const W* __restrict r2 = weights + js[2] * n;
    const W* __restrict r3 = weights + js[3] * n;
    for (std::int64_t i = 0; i < n; ++i)
      acc[i] += (a0 * static_cast<T>(r0[i]) + a1 * static_cast<T>(r1[i])) + (a2 * static_cast<T>(r2[i]) + a3 * static_cast<T>(r3[i]));
  }
  for (int h = 0; h < held; ++h) {
    const T a = static_cast<T>(pixels[js[h]]);
    const W* __restrict r = weights + js[h] * n;
    for (std::int64_t i = 0; i < n; ++i) acc[i] += a * static_cast<T>(r[i]);
  }
  return events;
}
GRINDSTONE_CLONES std::int64_t add_pixel_rows(float* acc, const float* weights, std::int64_t rows,
                                                                       const std::uint8_t* pixels, const std::int32_t* fanout,
                                                                       std::int64_t n) {
  return add_pixel_rows_body(acc, weights, rows, pixels, fanout, n);
}
GRINDSTONE_CLONES std::int64_t add_pixel_rows(std::int32_t* acc, const std::int32_t* weights,
                                                                       std::int64_t rows, const std::uint8_t* pixels,
                                                                       const std::int32_t* fanout, std::int64_t n) {
  return add_pixel_rows_body(acc, weights, rows, pixels, fanout, n);
}
/// int16 weights (half the bytes: the first layer's rows stay in L2), each product widened.
GRINDSTONE_CLONES std::int64_t add_pixel_rows(std::int32_t* acc, const std::int16_t* weights,
                                                                       std::int64_t rows, const std::uint8_t* pixels,
                                                                       const std::int32_t* fanout, std::int64_t n) {
  return add_pixel_rows_body(acc, weights, rows, pixels, fanout, n);
}
GRINDSTONE_CLONES std::int64_t add_pixel_rows(std::int64_t* acc, const std::int64_t* weights,
                                                                       std::int64_t rows, const std::uint8_t* pixels,
                                                                       const std::int32_t* fanout, std::int64_t n) {
  return add_pixel_rows_body(acc, weights, rows, pixels, fanout, n);
}

}  // namespace

ScatterProjection::ScatterProjection(const Network& network, int projection_index, const WeightUnits* units) {
  const Projection& proj = network.projections.at(static_cast<std::size_t>(projection_index));
  const Population& pre = network.populations.at(static_cast<std::size_t>(proj.pre));
  const Population& post = network.populations.at(static_cast<std::size_t>(proj.post));
  pre_ = proj.pre;
  post_ = proj.post;
  scale_ = static_cast<double>(proj.weight_scale);
  pre_size_ = pre.size();
  post_size_ = post.size();
  fanout_.assign(static_cast<std::size_t>(pre_size_), 0);

  if (const auto* d = std::get_if<DenseConnector>(&proj.connector)) {
    kind_ = Kind::Dense;
    unscaled_.resize(static_cast<std::size_t>(pre_size_ * post_size_));
    for (std::int64_t j = 0; j < pre_size_; ++j)
      for (std::int64_t i = 0; i < post_size_; ++i) {
        const float w = d->weights(j, i);
        unscaled_[static_cast<std::size_t>(j * post_size_ + i)] = w;
        fanout_[static_cast<std::size_t>(j)] += w != 0.0f;
      }
  } else if (const auto* c = std::get_if<ConvConnector>(&proj.connector)) {
    kind_ = Kind::Conv;
    geom_ = window_geometry(pre, post, *c);
    const std::int64_t rows = c->kernel.rows(), cout = c->kernel.cols();
    unscaled_.resize(static_cast<std::size_t>(rows * cout));
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t o = 0; o < cout; ++o) unscaled_[static_cast<std::size_t>(r * cout + o)] = c->kernel(r, o);
    std::vector<std::int32_t> row_nnz(static_cast<std::size_t>(rows), 0);
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t o = 0; o < cout; ++o) row_nnz[static_cast<std::size_t>(r)] += c->kernel(r, o) != 0.0f;
    const std::int64_t channels = geom_.in_channels;
    for (std::int64_t y = 0; y < geom_.y.in; ++y)
      for (std::int64_t x = 0; x < geom_.x.in; ++x) {
        pixel_begin_.push_back(static_cast<std::int32_t>(pixel_targets_.size()));
        std::int32_t* fan = fanout_.data() + (y * geom_.x.in + x) * channels;
        geom_.for_each_output(y, x, [&](int tap, std::int64_t oy, std::int64_t ox) {
          pixel_targets_.push_back(tap);
          pixel_targets_.push_back(static_cast<std::int32_t>(oy * geom_.x.out + ox));
          for (std::int64_t ch = 0; ch < channels; ++ch) fan[ch] += row_nnz[static_cast<std::size_t>(tap * channels + ch)];
        });
      }
    pixel_begin_.push_back(static_cast<std::int32_t>(pixel_targets_.size()));
  } else if (const auto* p = std::get_if<PoolConnector>(&proj.connector)) {
    kind_ = Kind::Pool;
    geom_ = window_geometry(pre, post, *p);
    unscaled_ = {p->weight};
    const std::int64_t channels = geom_.in_channels;
    for (std::int64_t y = 0; y < geom_.y.in; ++y)
      for (std::int64_t x = 0; x < geom_.x.in; ++x) {
        pixel_begin_.push_back(static_cast<std::int32_t>(pixel_targets_.size()));
        std::int32_t targets = 0;
        geom_.for_each_output(y, x, [&](int, std::int64_t oy, std::int64_t ox) {
          pixel_targets_.push_back(static_cast<std::int32_t>(oy * geom_.x.out + ox));
          ++targets;
        });
        std::int32_t* fan = fanout_.data() + (y * geom_.x.in + x) * channels;
        for (std::int64_t ch = 0; ch < channels; ++ch) fan[ch] = p->weight != 0.0f ? targets : 0;
      }
    pixel_begin_.push_back(static_cast<std::int32_t>(pixel_targets_.size()));
  } else {
    kind_ = Kind::OneToOne;
    const float w = std::get<OneToOneConnector>(proj.connector).weight;
    unscaled_ = {w};
    for (auto& f : fanout_) f = w != 0.0f;
  }

  weights_f_.resize(unscaled_.size());
  for (std::size_t k = 0; k < unscaled_.size(); ++k) weights_f_[k] = unscaled_[k] * proj.weight_scale;
  if (units) {
    weights_i_.resize(unscaled_.size());
    weights_l_.resize(unscaled_.size());
    bool fits_int32 = true;
    for (std::size_t k = 0; k < unscaled_.size(); ++k) {
      weights_l_[k] = units->weight(projection_index, unscaled_[k]);
      fits_int32 = fits_int32 && std::llabs(weights_l_[k]) < (std::int64_t{1} << 31);
      weights_i_[k] = static_cast<std::int32_t>(weights_l_[k]);
    }
    if (!fits_int32) weights_i_.clear();
    prepare_int16();
  }
}

void ScatterProjection::prepare_int16() {
  constexpr std::int64_t kMax = 32767;
  if (kind_ == Kind::Dense && DenseGather16::fits(weights_l_, pre_size_, post_size_)) dense16_.emplace(weights_l_, pre_size_, post_size_);
  if (kind_ == Kind::Dense && PixelGather16::fits(weights_l_, pre_size_, post_size_)) pixel16_.emplace(weights_l_, pre_size_, post_size_);
  bool fits = kind_ == Kind::Dense || (kind_ == Kind::Conv && gather_conv_supported(geom_.out_channels, sizeof(std::int16_t)));
  if (kind_ == Kind::Dense)
    for (std::int64_t w : weights_l_) fits = fits && std::llabs(w) <= kMax;
  if (kind_ == Kind::Conv && fits) {
    const std::int64_t cout = geom_.out_channels, rows = static_cast<std::int64_t>(weights_l_.size()) / cout;
    for (std::int64_t o = 0; o < cout && fits; ++o) {
      std::int64_t bound = 0;
      for (std::int64_t r = 0; r < rows; ++r) bound += std::llabs(weights_l_[static_cast<std::size_t>(r * cout + o)]);
      fits = bound <= kMax;
    }
  }
  if (!fits) return;
  weights_h_.resize(weights_l_.size());
  for (std::size_t k = 0; k < weights_l_.size(); ++k) weights_h_[k] = static_cast<std::int16_t>(weights_l_[k]);
}

template <class T>
void ScatterProjection::deliver_impl(std::int64_t j, const std::vector<T>& weights, T* acc) const {
  switch (kind_) {
    case Kind::Dense:
      add_run(acc, weights.data() + j * post_size_, post_size_);
      return;
    case Kind::Conv: {
      // Loop-invariant strides in registers: the run adds are calls (target_clones).
      const std::int64_t channels = geom_.in_channels, cout = geom_.out_channels, pixel = j / channels, ch = j % channels;
      const std::int64_t tap_stride = channels * cout;
      const T* column = weights.data() + ch * cout;
      const std::int32_t* targets = pixel_targets_.data();
      const auto begin = pixel_begin_[static_cast<std::size_t>(pixel)], end = pixel_begin_[static_cast<std::size_t>(pixel) + 1];
      for (auto e = begin; e < end; e += 2)
        add_run(acc + std::int64_t{targets[e + 1]} * cout, column + std::int64_t{targets[e]} * tap_stride, cout);
      return;
    }
    case Kind::Pool: {
      const std::int64_t channels = geom_.in_channels, pixel = j / channels, ch = j % channels;
      const T w = weights[0];
      const auto begin = pixel_begin_[static_cast<std::size_t>(pixel)], end = pixel_begin_[static_cast<std::size_t>(pixel) + 1];
      for (auto e = begin; e < end; ++e) acc[pixel_targets_[static_cast<std::size_t>(e)] * channels + ch] += w;
      return;
    }
    case Kind::OneToOne:
      acc[j] += weights[0];
      return;
  }
}

void ScatterProjection::deliver(std::int64_t j, float* acc) const { deliver_impl(j, weights_f_, acc); }
void ScatterProjection::deliver(std::int64_t j, std::int32_t* acc) const {
  if (weights_i_.empty()) throw InternalError("ScatterProjection: integer weights exceed 32 bits");
  deliver_impl(j, weights_i_, acc);
}
void ScatterProjection::deliver(std::int64_t j, std::int64_t* acc) const {
  if (weights_l_.empty()) throw InternalError("ScatterProjection: no integer weights prepared");
  deliver_impl(j, weights_l_, acc);
}

template <class T>
void ScatterProjection::deliver_scaled_impl(std::int64_t j, T amplitude, const std::vector<T>& weights, T* acc) const {
  switch (kind_) {
    case Kind::Dense:
      add_scaled_run(acc, weights.data() + j * post_size_, amplitude, post_size_);
      return;
    case Kind::Conv: {
      // Loop-invariant strides in registers: the run adds are calls (target_clones).
      const std::int64_t channels = geom_.in_channels, cout = geom_.out_channels, pixel = j / channels, ch = j % channels;
      const std::int64_t tap_stride = channels * cout;
      const T* column = weights.data() + ch * cout;
      const std::int32_t* targets = pixel_targets_.data();
      const auto begin = pixel_begin_[static_cast<std::size_t>(pixel)], end = pixel_begin_[static_cast<std::size_t>(pixel) + 1];
      for (auto e = begin; e < end; e += 2)
        add_scaled_run(acc + std::int64_t{targets[e + 1]} * cout, column + std::int64_t{targets[e]} * tap_stride, amplitude, cout);
      return;
    }
    case Kind::Pool: {
      const std::int64_t channels = geom_.in_channels, pixel = j / channels, ch = j % channels;
      const T w = amplitude * weights[0];
      const auto begin = pixel_begin_[static_cast<std::size_t>(pixel)], end = pixel_begin_[static_cast<std::size_t>(pixel) + 1];
      for (auto e = begin; e < end; ++e) acc[pixel_targets_[static_cast<std::size_t>(e)] * channels + ch] += w;
      return;
    }
    case Kind::OneToOne:
      acc[j] += amplitude * weights[0];
      return;
  }
}

void ScatterProjection::deliver_scaled(std::int64_t j, float amplitude, float* acc) const {
  deliver_scaled_impl(j, amplitude, weights_f_, acc);
}
void ScatterProjection::deliver_scaled(std::int64_t j, std::int32_t amplitude, std::int32_t* acc) const {
  if (weights_i_.empty()) throw InternalError("ScatterProjection: integer weights exceed 32 bits");
  deliver_scaled_impl(j, amplitude, weights_i_, acc);
}
void ScatterProjection::deliver_scaled(std::int64_t j, std::int64_t amplitude, std::int64_t* acc) const {
  if (weights_l_.empty()) throw InternalError("ScatterProjection: no integer weights prepared");
  deliver_scaled_impl(j, amplitude, weights_l_, acc);
}

template <class T>
void ScatterProjection::gather_pool(const std::uint8_t* pre_mask, T weight, T* acc, ConvGatherScratch& scratch) const {
  // Per output pixel: the spikes of each channel under the window, counted from the mask, then
  // one add of count·w (exact in integers; in float one rounding, within the engine's bound).
  const std::int64_t channels = geom_.in_channels;
  auto& counts = scratch.row_offset;
  counts.resize(static_cast<std::size_t>(channels));
  std::int32_t* __restrict n = counts.data();
  for (std::int64_t oy = 0; oy < geom_.y.out; ++oy)
    for (std::int64_t ox = 0; ox < geom_.x.out; ++ox) {
      std::fill(n, n + channels, 0);
      geom_.for_each_input(oy, ox, [&](int, std::int64_t y, std::int64_t x) {
        const std::uint8_t* __restrict m = pre_mask + (y * geom_.x.in + x) * channels;
        for (std::int64_t c = 0; c < channels; ++c) n[c] += m[c];
      });
      T* __restrict out = acc + (oy * geom_.x.out + ox) * channels;
      for (std::int64_t c = 0; c < channels; ++c) out[c] += static_cast<T>(n[c]) * weight;
    }
}

template <class T>
void ScatterProjection::deliver_all_impl(const std::int32_t* fired, std::int64_t count, const std::uint8_t* pre_mask,
                                         const std::vector<T>& weights, T* acc, ConvGatherScratch& scratch) const {
  if (kind_ == Kind::Dense) {
    if constexpr (std::is_same_v<T, std::int32_t>) {
      if (dense16_) return dense16_->add(fired, count, acc);
      if (!weights_h_.empty()) return add_rows(acc, weights_h_.data(), post_size_, fired, count, post_size_);
    }
    add_rows(acc, weights.data(), post_size_, fired, count, post_size_);
    return;
  }
  if (kind_ == Kind::Conv && gather_conv_supported(geom_.out_channels, sizeof(T)) && !gather_conv_pays(geom_, count))
    return scatter_conv(geom_, weights.data(), fired, count, acc);
  if (kind_ == Kind::Conv) {
    if constexpr (std::is_same_v<T, std::int32_t>)
      if (!weights_h_.empty()) return gather_conv(geom_, weights_h_.data(), fired, count, scratch, acc);
    if (gather_conv_supported(geom_.out_channels, sizeof(T))) return gather_conv(geom_, weights.data(), fired, count, scratch, acc);
  }
  // A pool's spikes are dense where its input is busy: counting them per window beats one
  // scattered add per spike once a few percent of the inputs fire.
  if (kind_ == Kind::Pool && pre_mask && count * 16 > pre_size_) return gather_pool(pre_mask, weights[0], acc, scratch);
  for (std::int64_t k = 0; k < count; ++k) deliver_impl(fired[k], weights, acc);
}
void ScatterProjection::deliver_all(const std::int32_t* fired, std::int64_t count, const std::uint8_t* pre_mask, float* acc,
                                    ConvGatherScratch& scratch) const {
  deliver_all_impl(fired, count, pre_mask, weights_f_, acc, scratch);
}
void ScatterProjection::deliver_all(const std::int32_t* fired, std::int64_t count, const std::uint8_t* pre_mask,
                                    std::int32_t* acc, ConvGatherScratch& scratch) const {
  if (weights_i_.empty()) throw InternalError("ScatterProjection: integer weights exceed 32 bits");
  deliver_all_impl(fired, count, pre_mask, weights_i_, acc, scratch);
}
void ScatterProjection::deliver_all(const std::int32_t* fired, std::int64_t count, const std::uint8_t* pre_mask,
                                    std::int64_t* acc, ConvGatherScratch& scratch) const {
  if (weights_l_.empty()) throw InternalError("ScatterProjection: no integer weights prepared");
  deliver_all_impl(fired, count, pre_mask, weights_l_, acc, scratch);
}

template <class T>
std::int64_t ScatterProjection::deliver_pixels_impl(const std::uint8_t* pixels, const std::vector<T>& weights, T* acc) const {
  if constexpr (std::is_same_v<T, std::int32_t>)
    if (kind_ == Kind::Dense && !weights_h_.empty())
      return add_pixel_rows(acc, weights_h_.data(), pre_size_, pixels, fanout_.data(), post_size_);
  if (kind_ == Kind::Dense) return add_pixel_rows(acc, weights.data(), pre_size_, pixels, fanout_.data(), post_size_);
  std::int64_t events = 0;
  for (std::int64_t j = 0; j < pre_size_; ++j) {
    if (pixels[j] == 0) continue;
    deliver_scaled_impl(j, static_cast<T>(pixels[j]), weights, acc);
    events += std::int64_t{std::popcount(static_cast<unsigned>(pixels[j]))} * fanout_[static_cast<std::size_t>(j)];
  }
  return events;
}
std::int64_t ScatterProjection::deliver_pixels(const std::uint8_t* pixels, float* acc) const {
  return deliver_pixels_impl(pixels, weights_f_, acc);
}
std::int64_t ScatterProjection::deliver_pixels(const std::uint8_t* pixels, std::int32_t* acc) const {
  if (weights_i_.empty()) throw InternalError("ScatterProjection: integer weights exceed 32 bits");
  return deliver_pixels_impl(pixels, weights_i_, acc);
}
std::int64_t ScatterProjection::deliver_pixels(const std::uint8_t* pixels, std::int32_t* acc,
                                              std::vector<std::int32_t>& scratch) const {
  if (!pixel16_) return deliver_pixels(pixels, acc);
  pixel16_->add(pixels, acc, scratch);
  std::int64_t events = 0;
  for (std::int64_t j = 0; j < pre_size_; ++j)
    events += std::int64_t{std::popcount(static_cast<unsigned>(pixels[j]))} * fanout_[static_cast<std::size_t>(j)];
  return events;
}
std::int64_t ScatterProjection::deliver_pixels(const std::uint8_t* pixels, std::int64_t* acc) const {
  if (weights_l_.empty()) throw InternalError("ScatterProjection: no integer weights prepared");
  return deliver_pixels_impl(pixels, weights_l_, acc);
}

double ScatterProjection::exact_input(std::int64_t i, const std::uint8_t* pre_fired, const std::int32_t* fired,
                                      std::int64_t count) const {
  if (kind_ != Kind::Dense) return exact_input(i, pre_fired);
  double sum = 0.0;
  for (std::int64_t k = 0; k < count; ++k)
    sum += static_cast<double>(unscaled_[static_cast<std::size_t>(fired[k] * post_size_ + i)]) * scale_;
  return sum;
}

double ScatterProjection::exact_input(std::int64_t i, const std::uint8_t* pre_fired) const {
  double sum = 0.0;
  switch (kind_) {
    case Kind::Dense:
      for (std::int64_t j = 0; j < pre_size_; ++j)
        if (pre_fired[j]) sum += static_cast<double>(unscaled_[static_cast<std::size_t>(j * post_size_ + i)]) * scale_;
      return sum;
    case Kind::Conv: {
      const std::int64_t cin = geom_.in_channels, cout = geom_.out_channels;
      const std::int64_t o = i % cout, pixel = i / cout;
      geom_.for_each_input(pixel / geom_.x.out, pixel % geom_.x.out, [&](int tap, std::int64_t y, std::int64_t x) {
        for (std::int64_t ch = 0; ch < cin; ++ch)
          if (pre_fired[(y * geom_.x.in + x) * cin + ch])
            sum += static_cast<double>(unscaled_[static_cast<std::size_t>((tap * cin + ch) * cout + o)]) * scale_;
      });
      return sum;
    }
    case Kind::Pool: {
      const std::int64_t channels = geom_.in_channels, ch = i % channels, pixel = i / channels;
      geom_.for_each_input(pixel / geom_.x.out, pixel % geom_.x.out, [&](int, std::int64_t y, std::int64_t x) {
        if (pre_fired[(y * geom_.x.in + x) * channels + ch]) sum += static_cast<double>(unscaled_[0]) * scale_;
      });
      return sum;
    }
    case Kind::OneToOne:
      return pre_fired[i] ? static_cast<double>(unscaled_[0]) * scale_ : 0.0;
  }
  return sum;
}

void ScatterProjection::add_fan_in(std::vector<std::int64_t>& fan_in, std::vector<double>& abs_sum) const {
  // Upper bounds are enough (they only widen the band of sums re-checked in double), so conv and
  // pool count every kernel/window entry, ignoring image borders.
  const double s = std::abs(scale_);
  for (std::int64_t i = 0; i < post_size_; ++i) {
    std::int64_t n = 0;
    double a = 0.0;
    switch (kind_) {
      case Kind::Dense:
        for (std::int64_t j = 0; j < pre_size_; ++j) {
          const float w = unscaled_[static_cast<std::size_t>(j * post_size_ + i)];
          n += w != 0.0f;
          a += std::abs(static_cast<double>(w)) * s;
        }
        break;
      case Kind::Conv: {
        const std::int64_t cout = geom_.out_channels, o = i % cout;
        const std::int64_t rows = static_cast<std::int64_t>(unscaled_.size()) / cout;
        for (std::int64_t r = 0; r < rows; ++r) {
          const float w = unscaled_[static_cast<std::size_t>(r * cout + o)];
          n += w != 0.0f;
          a += std::abs(static_cast<double>(w)) * s;
        }
        break;
      }
      case Kind::Pool:
        n = geom_.taps();
        a = static_cast<double>(n) * std::abs(static_cast<double>(unscaled_[0])) * s;
        break;
      case Kind::OneToOne:
        n = 1;
        a = std::abs(static_cast<double>(unscaled_[0])) * s;
        break;
    }
    fan_in[static_cast<std::size_t>(i)] += n;
    abs_sum[static_cast<std::size_t>(i)] += a;
  }
}

}  // namespace grindstone::snn::functional
