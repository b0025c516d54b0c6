#pragma once
// Projections prepared for event-driven delivery: for every pre neuron, its outgoing synapses as
// contiguous runs of post neurons, so that delivering a spike is a few vector adds into the post
// population's input buffer. Connectors are never expanded: a conv projection keeps its kernel
// plus, per pre *pixel*, the list of (kernel position, post pixel) pairs it reaches; a pool
// projection keeps, per pre pixel, the post pixels whose windows hold it.
//
// Used by both functional engines (single-pass: binary spikes; rate: spikes and, for the real-
// valued input, scaled deliveries). Weights include the projection's weight_scale.
#include <cstdint>
#include <optional>
#include <vector>

#include "snn_runtime/functional/conv_gather.hpp"
#include "snn_runtime/functional/dense_gather.hpp"
#include "snn_runtime/network/connector_geometry.hpp"
#include "snn_runtime/network/weight_units.hpp"

namespace grindstone::snn::functional {

class ScatterProjection {
 public:
  enum class Kind { Dense, Conv, Pool, OneToOne };

  /// `units` (fixed-point networks, from integer_weight_units, which checked every weight): also
  /// prepares the integer weights in those units. nullptr: float weights only.
  ScatterProjection(const Network& network, int projection_index, const WeightUnits* units);

  int pre() const { return pre_; }
  int post() const { return post_; }
  Kind kind() const { return kind_; }
  /// Synapses leaving pre neuron j (non-zero weights whose target exists).
  std::int32_t fanout(std::int64_t j) const { return fanout_[static_cast<std::size_t>(j)]; }

  /// acc[post] += weight(j → post) for every synapse of pre neuron j.
  void deliver(std::int64_t j, float* acc) const;
  void deliver(std::int64_t j, std::int32_t* acc) const;
  void deliver(std::int64_t j, std::int64_t* acc) const;
  /// acc[post] += amplitude · weight(j → post) (rate engine: real-valued input current).
  void deliver_scaled(std::int64_t j, float amplitude, float* acc) const;
  /// acc[post] += amplitude · integer weight(j → post) (fused bit planes of fixed-point networks).
  void deliver_scaled(std::int64_t j, std::int32_t amplitude, std::int32_t* acc) const;
  void deliver_scaled(std::int64_t j, std::int64_t amplitude, std::int64_t* acc) const;

  /// acc[post] += weight(j → post) for every pre neuron j in fired[0..count) — one call per
  /// population per sample. Dense projections add several rows per pass of one vectorised loop
  /// (fewer loads/stores of acc); conv projections gather per output pixel (conv_gather.hpp)
  /// when their channel count allows; other connectors deliver spike by spike. Integer sums are
  /// exact in any order; float sums stay within the rounding bound of add_fan_in (any order).
  /// `pre_mask`: 0/1 per pre neuron, the same spikes as `fired` (pool projections count the
  /// spikes in each window from it).
  void deliver_all(const std::int32_t* fired, std::int64_t count, const std::uint8_t* pre_mask, float* acc,
                   ConvGatherScratch& scratch) const;
  void deliver_all(const std::int32_t* fired, std::int64_t count, const std::uint8_t* pre_mask, std::int32_t* acc,
                   ConvGatherScratch& scratch) const;
  void deliver_all(const std::int32_t* fired, std::int64_t count, const std::uint8_t* pre_mask, std::int64_t* acc,
                   ConvGatherScratch& scratch) const;
  /// acc[post] += pixels[j] · weight(j → post) for every pre neuron j with pixels[j] ≠ 0 (fused
  /// bit planes); returns Σ popcount(pixels[j]) · fanout(j), the synaptic events of the 8 planes.
  std::int64_t deliver_pixels(const std::uint8_t* pixels, float* acc) const;
  std::int64_t deliver_pixels(const std::uint8_t* pixels, std::int32_t* acc) const;
  /// Same, with scratch for the int16 multiply-add form (PixelGather16) when it applies.
  std::int64_t deliver_pixels(const std::uint8_t* pixels, std::int32_t* acc, std::vector<std::int32_t>& scratch) const;
  std::int64_t deliver_pixels(const std::uint8_t* pixels, std::int64_t* acc) const;
  /// Σ fanout(j) over fired[0..count).
  std::int64_t fanout_sum(const std::int32_t* fired, std::int64_t count) const {
    std::int64_t n = 0;
    for (std::int64_t k = 0; k < count; ++k) n += fanout_[static_cast<std::size_t>(fired[k])];
    return n;
  }

  double weight_scale() const { return scale_; }
  std::int64_t pre_size() const { return pre_size_; }
  std::int64_t post_size() const { return post_size_; }
  /// Integer weights (fixed-point networks; empty otherwise). Dense: pre × post, row-major.
  const std::vector<std::int64_t>& integer_weights() const { return weights_l_; }

  /// Exact input of post neuron i in double: Σ over pre neurons j with pre_fired[j] of
  /// double(w)·double(weight_scale) (the reference the float fast path is checked against).
  double exact_input(std::int64_t i, const std::uint8_t* pre_fired) const;

  /// exact_input(i, pre_fired) computed from the ascending list of fired pre neurons (dense:
  /// visits only those, in the same order, so the double sum is bit-identical).
  double exact_input(std::int64_t i, const std::uint8_t* pre_fired, const std::int32_t* fired, std::int64_t count) const;

  /// Per post neuron: number of synapses reaching it (fan-in) and Σ |effective weight| over
  /// them (double), for the float rounding bound.
  void add_fan_in(std::vector<std::int64_t>& fan_in, std::vector<double>& abs_sum) const;

 private:
  template <class T>
  void deliver_scaled_impl(std::int64_t j, T amplitude, const std::vector<T>& weights, T* acc) const;
  template <class T>
  void deliver_all_impl(const std::int32_t* fired, std::int64_t count, const std::uint8_t* pre_mask,
                        const std::vector<T>& weights, T* acc, ConvGatherScratch& scratch) const;
  template <class T>
  void gather_pool(const std::uint8_t* pre_mask, T weight, T* acc, ConvGatherScratch& scratch) const;
  template <class T>
  std::int64_t deliver_pixels_impl(const std::uint8_t* pixels, const std::vector<T>& weights, T* acc) const;
  void prepare_int16();
  template <class T>
  void deliver_impl(std::int64_t j, const std::vector<T>& weights, T* acc) const;

  Kind kind_;
  int pre_, post_;
  double scale_;
  std::int64_t pre_size_, post_size_;
  std::vector<std::int32_t> fanout_;
  // Dense: (pre × post) row-major. Conv: kernel (kh·kw·cin × cout) row-major. Pool/OneToOne: 1.
  std::vector<float> weights_f_;
  std::vector<std::int32_t> weights_i_;
  std::vector<std::int64_t> weights_l_;
  /// Integer weights as int16 for int32 sums (half the bytes per row), or empty: dense when
  /// every |w| ≤ 32767; conv when Σ_rows |w(row, o)| ≤ 32767 for every o (gather_conv's bound).
  std::vector<std::int16_t> weights_h_;
  std::optional<DenseGather16> dense16_;
  std::optional<PixelGather16> pixel16_;  ///< dense fused bit-plane rows as int16 multiply-adds  ///< dense int32 sums via int16 register tiles, when exact
  std::vector<float> unscaled_;  ///< the stored weights, for exact_input
  WindowGeometry geom_;  ///< conv / pool (connector_geometry.hpp)
  std::vector<std::int32_t> pixel_begin_;  ///< per pre pixel: first entry in pixel_targets_
  std::vector<std::int32_t> pixel_targets_;  ///< conv: pairs (kernel position, post pixel); pool: post pixel
};

}  // namespace grindstone::snn::functional
