#pragma once
// The two LPDDR4 channels of one SpiNNaker 2 chip, seen as one shared sustained bandwidth.
// Sources: SpiNNaker2 datasheet v0.03 [V] (2 LPDDR4 PHYs, up to 6.4 GB/s sustained); TU Dresden
// FAQ [V] (2 GB LPDDR4; the seed slides say 1 GB, 2×3.2 GB/s).
#include <cstdint>

#include "hw_model/spinnaker2/units.hpp"

namespace grindstone::hw::s2 {

class Dram {
 public:
  struct Params {
    /// LPDDR4 channels. Source: datasheet [V] (2 PHYs).
    int channels = 2;
    /// Sustained bandwidth of all channels together, bytes/s. Source: datasheet [V] 6.4 GB/s.
    double bytes_per_second = 6.4e9;
    /// Capacity per chip in bytes. Source: TU Dresden FAQ [V] 2 GB (seed slides: 1 GB).
    std::int64_t capacity_bytes = std::int64_t{2} << 30;
    /// Latency of one burst read request. ASSUMPTION (typical LPDDR4 ≈ 100 ns).
    Seconds latency{100e-9};
  };

  struct Stats {
    std::int64_t reads = 0;
    std::int64_t bytes_read = 0;
    Seconds busy;  ///< time the channels spent transferring
    Stats& operator+=(const Stats& o);
  };

  Dram();  // default Params
  explicit Dram(Params params);
  const Params& params() const { return params_; }
  const Stats& stats() const { return stats_; }

  /// Time to read `bytes` (one DMA stream: latency + bytes / bandwidth); records it.
  Seconds read(std::int64_t bytes);
  /// The same time without recording (for planning).
  Seconds read_time(std::int64_t bytes) const;

 private:
  Params params_;
  Stats stats_;
};

}  // namespace grindstone::hw::s2
