#pragma once
// The network-on-chip between the QPEs of one SpiNNaker 2 chip, and the chip-to-chip links.
// A QPE (4 PEs) has its own router; QPEs sit on a 2-D mesh and packets take Manhattan routes.
// Sources: Höppner et al., arXiv:2103.08392 [V] (QPE routers, separate data and configuration
// NoCs, 192-bit data flits). NoC bandwidth and latency are not documented (reference A1): every
// figure marked ASSUMPTION is ours.
#include <cstdint>

#include "hw_model/spinnaker2/units.hpp"

namespace grindstone::hw::s2 {

class Noc {
 public:
  struct Params {
    /// Data flit width in bits. Source: Höppner et al. 2021 [V] (192-bit data flits).
    int flit_bits = 192;
    /// Flits a link forwards per NoC cycle. ASSUMPTION (one flit per cycle per link).
    int flits_per_cycle = 1;
    /// Router + link cycles per hop, NoC clock. ASSUMPTION (typical single-cycle-link mesh
    /// routers: 2).
    NocCycles cycles_per_hop{2};
    /// Columns of the QPE mesh; QPE q sits at (q mod columns, q div columns). ASSUMPTION: 38
    /// QPEs on a 7-wide mesh (the die plot is not in our sources).
    int mesh_columns = 7;
    /// Bytes of one spike packet between event-driven layers (a 32-bit routing key, no payload).
    /// ASSUMPTION: as SpiNNaker 1's multicast key; py-spinnaker2's packet format is not in our sources.
    int spike_packet_bytes = 4;
    /// Chip-to-chip link bandwidth in bytes/s. ASSUMPTION: 6 links (datasheet [V]) at
    /// 2 Gbit/s each (not documented; order of magnitude of SpiNNaker 1's links ×8).
    double chip_link_bytes_per_second = 250e6;
    /// Chip-to-chip latency per crossing. ASSUMPTION (SERDES + router ≈ 0.5 µs).
    Seconds chip_link_latency{0.5e-6};
  };

  struct Stats {
    std::int64_t transfers = 0;
    std::int64_t bytes = 0;          ///< payload bytes injected
    std::int64_t flits = 0;
    std::int64_t byte_hops = 0;      ///< bytes × hops (energy is charged on this)
    std::int64_t chip_link_bytes = 0;
    double mean_hops() const { return bytes ? static_cast<double>(byte_hops) / static_cast<double>(bytes) : 0.0; }
    Stats& operator+=(const Stats& o);
  };

  Noc();  // default Params
  explicit Noc(Params params);
  const Params& params() const { return params_; }
  const Stats& stats() const { return stats_; }

  /// Manhattan hop count between two QPEs of one chip.
  std::int64_t hops(int from_qpe, int to_qpe) const;
  /// NoC cycles to move `bytes` from one QPE to another on the same chip (pipelined wormhole:
  /// hops·cycles_per_hop + flits/flits_per_cycle), and records it.
  NocCycles transfer(int from_qpe, int to_qpe, std::int64_t bytes);
  /// Time to move `bytes` between two chips (through one chip-to-chip link), and records it.
  Seconds transfer_between_chips(std::int64_t bytes);

 private:
  Params params_;
  Stats stats_;
};

}  // namespace grindstone::hw::s2
