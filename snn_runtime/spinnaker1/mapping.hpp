#pragma once
// Mapping a converted network onto a SpiNNaker 1 machine, as sPyNNaker/PACMAN would:
//   1. splitting: every population becomes cores of at most `max_neurons_per_core` neurons
//      (spike sources up to `max_source_atoms_per_core`), further limited by DTCM/SDRAM and the
//      256-synapse row limit; pre populations whose delays exceed the native 16 ticks get
//      delay-extension cores (stages of 16 ticks, at most 144 ticks in all: hw delays.hpp);
//   2. `tiles` copies of that per-tile layout (each tile classifies its own stream of samples);
//   3. placement: a tile's cores consecutive in population order (a population's cores together),
//      tiles spread evenly over the live chips in breadth-first order from the Ethernet chip;
//   4. keys: 32-bit `vertex | core | atom` with one field width each for the whole machine;
//   5. synaptic matrices (one row per pre atom and target core, shared by all tiles) and each
//      core's master population table.
// Routing (routes, tables, compression) is in routing.hpp.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hw_model/spinnaker1/core_budget.hpp"
#include "hw_model/spinnaker1/delays.hpp"
#include "hw_model/spinnaker1/routing_table.hpp"
#include "hw_model/spinnaker1/topology.hpp"
#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker1/synapses.hpp"

namespace grindstone::snn::spinnaker1 {

struct MappingOptions {
  int tiles = 1;
  /// Neurons per neuron core. Source: reference §2 (256 is sPyNNaker's default and maximum for
  /// static synapses; the seed used 255).
  int max_neurons_per_core = 255;
  /// Atoms per spike-source core. Assumption: large enough for a 785-atom SpikeSourceArray on one
  /// core, as the seed's dense experiment used ("Cores per tile: 4 (1 per pop/layer including
  /// spike-source-array)").
  int max_source_atoms_per_core = 1024;
  /// Longest synaptic row. Source: reference §2 POP_TABLE_MAX_ROW_LENGTH = 256.
  int max_row_length = 256;
  /// Per-core DTCM/row limits (hw_model; the chip's DTCM, SDRAM and cores come from
  /// machine.chip); max_neurons_per_core above takes precedence.
  hw::s1::CoreBudget::Params core_budget;
  /// Routing tables the compressor must fit and the executor's routers hold (capacity 1023 on
  /// hardware; smaller only in tests).
  hw::s1::RoutingTable::Params router_table;
  /// Chips and faults. Default: one SpiNN-5 board with sPyNNaker's reservations (ChipParams:
  /// SCAMP monitor + extra monitor on every chip, 16 application cores per chip).
  hw::s1::Machine::Params machine = hw::s1::Machine::Params::for_boards(1);
};

enum class CoreKind : std::uint8_t { Neurons, Source, DelayExtension };

/// One core of the per-tile layout.
struct CoreSlice {
  CoreKind kind = CoreKind::Neurons;
  int population = -1;        ///< neurons / sources: its population; delay cores: the pre population
  std::int64_t first = 0;     ///< first neuron of the population on this core
  std::int32_t count = 0;     ///< neurons (delay cores: pre neurons handled)
  std::int32_t stages = 0;    ///< delay cores: stages 1..stages (atom = (stage−1)·count + neuron)
  int vertex = -1;            ///< application vertex within the tile (population or its delays)
  int index_in_vertex = 0;    ///< core index within the vertex
  /// Delay cores: per handled neuron, bit s−1 set if stage s carries a synapse of that neuron.
  std::vector<std::uint16_t> stage_mask;
  std::int32_t atoms() const { return kind == CoreKind::DelayExtension ? count * stages : count; }
};

/// Synapses from the atoms of one source core to one target core. A word is
/// weight[31:16] | (delay−1)[15:12] | receptor[8] | post index[7:0] (sPyNNaker's fixed word,
/// reference §2, with 4 delay bits and one receptor bit as in ≤6).
struct SynapticMatrix {
  std::vector<std::uint32_t> row_begin;  ///< per source atom, size atoms+1
  std::vector<std::uint32_t> words;
  static constexpr std::uint32_t word(std::uint32_t weight, int delay, int receptor, int post) {
    return (weight << 16) | (static_cast<std::uint32_t>(delay - 1) << 12) | (static_cast<std::uint32_t>(receptor) << 8) |
           static_cast<std::uint32_t>(post);
  }
  static constexpr std::uint32_t weight_of(std::uint32_t w) { return w >> 16; }
  static constexpr int delay_of(std::uint32_t w) { return static_cast<int>((w >> 12) & 0xF) + 1; }
  static constexpr int receptor_of(std::uint32_t w) { return static_cast<int>((w >> 8) & 1); }
  static constexpr int post_of(std::uint32_t w) { return static_cast<int>(w & 0xFF); }
};

/// Master population table entry of a target core (template: keys are per tile, see Mapping).
struct PopulationTableEntry {
  int source_slice = -1;      ///< slice of the source core (same tile)
  int matrix = -1;            ///< synaptic matrix of all of the source's atoms
};

/// One placed core.
struct PlacedCore {
  int tile = 0;
  int slice = 0;              ///< index into Mapping::slices
  int chip = 0;               ///< index into Machine::chips()
  int processor = 0;          ///< application core number on the chip (1-based after the monitor)
  std::uint32_t key = 0;      ///< base routing key (atom field zero)
};

struct Mapping {
  Mapping(MappingOptions o, hw::s1::Machine m) : options(std::move(o)), machine(std::move(m)) {}
  MappingOptions options;
  hw::s1::Machine machine;
  std::vector<PopulationWeightEncoding> encodings;  ///< per population
  std::vector<CoreSlice> slices;                    ///< per-tile layout
  std::vector<std::vector<int>> population_slices;  ///< per population: its neuron/source slices
  std::vector<int> delay_slice_of;                  ///< per slice: its delay core (−1 if none)
  std::vector<SynapticMatrix> matrices;
  /// Per target slice: the source slices that send to it, sorted, with their matrix.
  std::vector<std::vector<PopulationTableEntry>> population_table;
  std::vector<PlacedCore> cores;                    ///< tiles × slices, tile-major
  int vertices_per_tile = 0;
  /// Key fields: atom bits (low), core-in-vertex bits, vertex bits (high).
  int atom_bits = 0, core_bits = 0, vertex_bits = 0;
  std::uint32_t core_mask() const { return ~((std::uint32_t{1} << atom_bits) - 1); }
  int max_delay = 0;                                ///< longest delay of the network (ticks)
  std::int64_t synapses_per_tile = 0;
  std::int64_t neurons_per_tile = 0;                ///< layer neurons (not sources, not bias)
  std::vector<int> chips_used;                      ///< machine chip indices holding a core

  int core_of(int tile, int slice) const { return tile * static_cast<int>(slices.size()) + slice; }
};

/// Maps `network` (validated by the caller). InputError naming `context` when the network does
/// not fit the machine (too many cores, a delay above hw::s1::kMaxDelay, key fields over 32 bits).
Mapping map_network(const Network& network, const MappingOptions& options, const std::string& context);

}  // namespace grindstone::snn::spinnaker1
