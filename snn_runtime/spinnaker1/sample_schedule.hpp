#pragma once
// Which sample a tile works on at a given tick. Global sample s runs on tile s % tiles as that
// tile's k = s / tiles -th sample, which starts at tick k · period; a neuron whose fire tick is f
// fires for sample k at tick k · period + f.
#include <algorithm>
#include <cstdint>
#include <utility>

namespace grindstone::snn::spinnaker1 {

struct SampleSchedule {
  std::int64_t samples = 0;  ///< samples in the run
  int tiles = 1;
  std::int64_t period = 1;   ///< ticks between the starts of a tile's successive samples

  /// Samples tile `tile` runs.
  std::int64_t on_tile(int tile) const { return tile < samples ? (samples - tile + tiles - 1) / tiles : 0; }
  /// Global index of tile `tile`'s k-th sample.
  std::int64_t global(int tile, std::int64_t k) const { return tile + k * tiles; }
  /// Which of the tile's samples has `fire_tick` at absolute tick `tick` (−1 if none).
  std::int64_t at(int tile, std::int64_t tick, int fire_tick) const {
    const std::int64_t d = tick - fire_tick;
    if (d < 0 || d % period != 0) return -1;
    const std::int64_t k = d / period;
    return k < on_tile(tile) ? k : -1;
  }
  /// Ticks of the run when the last population fires at tick `depth` of a sample.
  std::int64_t ticks(int depth) const {
    const std::int64_t most = on_tile(0);
    return most == 0 ? 0 : (most - 1) * period + depth + 1;
  }
  /// The first and last k whose fire window [first_tick, last_tick] (relative) holds `tick`;
  /// empty (first > last) if none.
  std::pair<std::int64_t, std::int64_t> firing(int tile, std::int64_t tick, int first_tick, int last_tick) const {
    if (tick < first_tick) return {0, -1};
    const std::int64_t lo = std::max<std::int64_t>(0, (tick - last_tick + period - 1) / period);
    const std::int64_t hi = std::min<std::int64_t>(on_tile(tile) - 1, (tick - first_tick) / period);
    return {lo, hi};
  }
};

}  // namespace grindstone::snn::spinnaker1
