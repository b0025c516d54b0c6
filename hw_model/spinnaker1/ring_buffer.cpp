#include "hw_model/spinnaker1/ring_buffer.hpp"

#include <algorithm>
#include <bit>

#include "common/error.hpp"

namespace grindstone::hw::s1 {

RingBuffer::Stats& RingBuffer::Stats::operator+=(const Stats& o) {
  additions += o.additions;
  saturations += o.saturations;
  drains += o.drains;
  return *this;
}

int RingBuffer::slots_for_delay(int max_delay_ticks) {
  require_input(max_delay_ticks >= 1 && max_delay_ticks <= (1 << 20), "ring buffer",
                "max_delay_ticks must be 1..1048576, got " + std::to_string(max_delay_ticks));
  return static_cast<int>(std::bit_ceil(static_cast<unsigned>(max_delay_ticks) + 1u));
}

std::int64_t RingBuffer::dtcm_bytes(int n_neurons, int n_receptors, int max_delay_ticks) {
  require_input(n_neurons >= 1 && n_receptors >= 1, "ring buffer", "n_neurons and n_receptors must be at least 1");
  const std::int64_t neurons_peak = static_cast<std::int64_t>(std::bit_ceil(static_cast<unsigned>(n_neurons)));
  const std::int64_t receptors_peak = static_cast<std::int64_t>(std::bit_ceil(static_cast<unsigned>(n_receptors)));
  return static_cast<std::int64_t>(slots_for_delay(max_delay_ticks)) * receptors_peak * neurons_peak * 2;
}

RingBuffer::RingBuffer(Params params) : params_(params) {
  require_input(params_.n_neurons >= 1, "ring buffer", "n_neurons must be at least 1, got " + std::to_string(params_.n_neurons));
  require_input(params_.n_receptors >= 1, "ring buffer", "n_receptors must be at least 1");
  require_input(params_.weight_shift >= 0 && params_.weight_shift <= 31, "ring buffer",
                "weight_shift must be 0..31, got " + std::to_string(params_.weight_shift));
  slots_ = slots_for_delay(params_.max_delay_ticks);
  slot_mask_ = slots_ - 1;
  data_.assign(static_cast<std::size_t>(slots_) * static_cast<std::size_t>(params_.n_receptors) *
                   static_cast<std::size_t>(params_.n_neurons),
               0);
}

void RingBuffer::drain(Ticks t, std::span<std::int64_t> out) { drain_slot(slot_of(t), out); }

void RingBuffer::drain_slot(int slot, std::span<std::int64_t> out) {
  const std::size_t per_slot = static_cast<std::size_t>(params_.n_receptors) * static_cast<std::size_t>(params_.n_neurons);
  require_input(out.size() == per_slot, "ring buffer",
                "drain output has " + std::to_string(out.size()) + " values, expected " + std::to_string(per_slot));
  require_input(slot >= 0 && slot < slots_, "ring buffer", "slot " + std::to_string(slot) + " out of range");
  std::uint16_t* base = data_.data() + static_cast<std::size_t>(slot) * per_slot;
  const int shift = params_.weight_shift;
  for (std::size_t i = 0; i < per_slot; ++i) out[i] = static_cast<std::int64_t>(base[i]) << shift;
  std::fill(base, base + per_slot, std::uint16_t{0});
  ++stats_.drains;
}

bool RingBuffer::slot_empty(int slot) const {
  const std::size_t per_slot = static_cast<std::size_t>(params_.n_receptors) * static_cast<std::size_t>(params_.n_neurons);
  const auto begin = data_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(slot) * per_slot);
  return std::all_of(begin, begin + static_cast<std::ptrdiff_t>(per_slot), [](std::uint16_t v) { return v == 0; });
}

void RingBuffer::clear() { std::fill(data_.begin(), data_.end(), std::uint16_t{0}); }

}  // namespace grindstone::hw::s1
