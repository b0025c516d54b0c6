#pragma once
// Mapping layers onto SpiNNaker 2: tiling each MAC layer's weight matrix so that a tile and its
// input/output buffers fit in one PE's SRAM, allotting ARM cores to event-driven layers, placing
// everything on the machine's PEs, and deciding which MAC layers keep their weights on chip and
// which stream them from DRAM for every batch. Works on shapes only (no weights), so a layer
// larger than the machine is refused before anything is allocated.
#include <cstdint>
#include <string>
#include <vector>

#include "hw_model/spinnaker2/chip.hpp"
#include "hw_model/spinnaker2/mac_array.hpp"

namespace grindstone::snn::s2 {

namespace hw = grindstone::hw::s2;

/// What the mapper needs to know about a layer that runs on MAC arrays.
struct MacLayerShape {
  std::string name;
  /// Per sample: m = 1 for a dense layer, m = output positions for a conv layer.
  hw::MatmulShape per_sample;
  hw::OperandWidth width = hw::OperandWidth::Bits8;
  /// Bytes of one input value (1: binary spikes, uint8 pixels or int8 activations).
  int input_bytes_per_value = 1;
  /// Bytes of one output value after write-out (1: binary or int8).
  int output_bytes_per_value = 1;
  /// Conv layers: bytes of one sample's input image (the tile's input buffer holds its share).
  std::int64_t conv_input_bytes = 0;
  bool conv = false;
  int weight_bytes_per_value() const { return width == hw::OperandWidth::Bits8 ? 1 : 2; }
  std::int64_t weight_bytes() const { return per_sample.k * per_sample.n * weight_bytes_per_value(); }
};

/// How one MAC layer is cut: m_splits × k_splits × n_splits tiles, each on its own PE (or, when
/// streamed, time-multiplexed over `pes` PEs).
struct TilePlan {
  std::int64_t m_splits = 1, k_splits = 1, n_splits = 1;
  std::int64_t m_tile = 1, k_tile = 1, n_tile = 1;  ///< largest tile (per batch: m includes the batch)
  std::int64_t tile_sram_bytes = 0;                 ///< weights + input + output buffers of one tile
  bool streamed = false;                            ///< weights read from DRAM every batch
  std::int64_t pes = 0;                             ///< PEs this layer occupies
  std::int64_t first_pe = 0;                        ///< global PE index (chip = pe / pes per chip)
  std::int64_t tiles() const { return m_splits * k_splits * n_splits; }
  /// Passes over the PEs per batch (1 unless streamed with fewer PEs than tiles).
  std::int64_t passes() const { return pes > 0 ? (tiles() + pes - 1) / pes : 0; }
};

/// ARM cores given to an event-driven layer.
struct ArmPlan {
  std::string name;
  std::int64_t neurons = 0;
  std::int64_t cores = 0;
  std::int64_t neurons_per_core = 0;
  std::int64_t first_pe = 0;
};

/// The whole placement.
struct MachinePlan {
  std::vector<TilePlan> mac;  ///< one per MAC layer, in the order given
  std::vector<ArmPlan> arm;   ///< one per ARM layer, in the order given
  std::int64_t pes_used = 0;
  int chips_used = 0;
  std::int64_t streamed_weight_bytes = 0;  ///< DRAM bytes read per batch for streamed layers
  std::int64_t resident_weight_bytes = 0;
};

/// Cuts one layer for `batch` samples per invocation. Throws InputError naming the layer when
/// not even the smallest tile fits a PE's usable SRAM.
TilePlan plan_tiles(const MacLayerShape& layer, std::int64_t batch, const hw::PeParams& pe, int mac_columns);

/// Places MAC layers (tiles) and ARM layers (cores) on the machine. When all tiles do not fit
/// the PEs, the MAC layers with the most weight bytes stream their weights from DRAM (sharing
/// the PEs left over) until the rest fits. Throws InputError with a clear message when a layer
/// cannot be held: its weights exceed the machine's DRAM, or the ARM layers alone need more
/// cores than the machine has.
MachinePlan place(const std::vector<MacLayerShape>& mac_layers, const std::vector<ArmPlan>& arm_layers,
                  std::int64_t batch, const hw::MachineParams& machine);

/// Cores for an event-driven layer of `neurons` neurons (≤ max_neurons_per_core each, balanced).
ArmPlan plan_arm(const std::string& name, std::int64_t neurons, const hw::ArmCore::Params& arm);

}  // namespace grindstone::snn::s2
