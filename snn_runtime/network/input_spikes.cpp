#include "snn_runtime/network/input_spikes.hpp"

#include <bit>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/error.hpp"

namespace grindstone::snn {

InputSpikeEncoder::InputSpikeEncoder(const Network& network, std::int64_t pixels_per_image, const std::string& context)
    : network_(&network), pixels_per_image_(pixels_per_image) {
  require_input(pixels_per_image > 0, context, "input: images have no pixels");
  for (int p = 0; p < static_cast<int>(network.populations.size()); ++p) {
    const Population& pop = network.populations[static_cast<std::size_t>(p)];
    if (!pop.is_source()) continue;
    const std::string where = context + ": population '" + pop.name + "'";
    SourceDriver driver;
    driver.population = p;
    if (pop.role == PopulationRole::Bias) {
      driver.kind = SourceDriver::Kind::AlwaysOn;
    } else if (pop.role == PopulationRole::Input) {
      require_input(pop.size() == pixels_per_image, where,
                    "shape: " + pop.shape.to_string() + " has " + std::to_string(pop.size()) + " neurons but images have " +
                        std::to_string(pixels_per_image) + " pixels");
      if (pop.input_bit >= 0) {
        driver.kind = SourceDriver::Kind::Bit;
        driver.bit = pop.input_bit;
      } else {
        // A Real-encoded network has no spiking input: only the rate engine can drive it.
        require_input(network.input != InputEncoding::Real, where,
                      "input: real-valued (rate) input cannot be turned into single spikes; use --engine rate");
        require_input(network.input == InputEncoding::Threshold, where,
                      "input_bit: bitplanes network but this input population has no bit");
        driver.kind = SourceDriver::Kind::Threshold;
      }
    } else {
      throw InputError(where + ": role: a spike source must be an Input or Bias population");
    }
    drivers_.push_back(driver);
  }
}

void InputSpikeEncoder::encode(const std::uint8_t* image, std::vector<PopulationSpikes>& out) const {
  out.resize(drivers_.size());
  for (std::size_t d = 0; d < drivers_.size(); ++d) {
    const SourceDriver& driver = drivers_[d];
    const Population& pop = network_->populations[static_cast<std::size_t>(driver.population)];
    PopulationSpikes& spikes = out[d];
    spikes.population = driver.population;
    spikes.neurons.clear();
    spikes.ticks.clear();
    const std::int64_t n = pop.size();
    for (std::int64_t i = 0; i < n; ++i) {
      bool fires = true;
      if (driver.kind == SourceDriver::Kind::Threshold) fires = threshold_fires(image[i]);
      else if (driver.kind == SourceDriver::Kind::Bit) fires = bitplane_fires(image[i], driver.bit);
      if (!fires) continue;
      spikes.neurons.push_back(i);
      spikes.ticks.push_back(pop.fire_tick(i));
    }
  }
}

std::vector<PopulationSpikes> InputSpikeEncoder::encode(const std::uint8_t* image) const {
  std::vector<PopulationSpikes> out;
  encode(image, out);
  return out;
}

std::int64_t InputSpikeEncoder::count_spikes(const std::uint8_t* image) const {
  std::int64_t total = 0;
  for (const SourceDriver& driver : drivers_) {
    const std::int64_t n = network_->populations[static_cast<std::size_t>(driver.population)].size();
    if (driver.kind == SourceDriver::Kind::AlwaysOn) {
      total += n;
      continue;
    }
    for (std::int64_t i = 0; i < n; ++i)
      total += driver.kind == SourceDriver::Kind::Threshold ? threshold_fires(image[i]) : bitplane_fires(image[i], driver.bit);
  }
  return total;
}

std::size_t pixels_with_bit(const std::uint8_t* image, std::int32_t n, int bit, std::int32_t* out) {
  std::size_t count = 0;
  std::int32_t i = 0;
#if defined(__SSE2__)
  // 16 pixels per step: shifting each 16-bit lane left by 7 − bit moves bit `bit` of both bytes
  // to their sign bits, which movemask collects.
  const __m128i shift = _mm_cvtsi32_si128(7 - bit);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(image + i));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_sll_epi16(v, shift)));
    for (; mask != 0; mask &= mask - 1) out[count++] = i + std::countr_zero(mask);
  }
#endif
  for (; i < n; ++i)
    if (bitplane_fires(image[i], bit)) out[count++] = i;
  return count;
}

}  // namespace grindstone::snn
