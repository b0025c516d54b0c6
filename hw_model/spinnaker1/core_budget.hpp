#pragma once
// Per-core resource limits used by mapping: neurons per core, DTCM (neuron state, ring buffers,
// master population table, DMA buffers, input spike buffer, fixed runtime overhead), synaptic row
// length and delay-slot limits, and per-chip SDRAM for synaptic matrices. check() says whether a
// proposed core load fits and, if not, which resource is exceeded and by how much.
// Sources (reference §1, §2; seed 001): POP_TABLE_MAX_ROW_LENGTH = 256; 255 neurons per core
// ("Max-Neurons/Core: 255", Vineyard et al. seed 001; 255 in older sPyNNaker, 256 in 7.x);
// rows are (row_length + 3) 32-bit words (N_SYNAPSE_ROW_HEADER_WORDS 3); MPT entries; 2 DMA
// buffers; incoming spike buffer of 256; ring buffer ≤ 2^14 entries (MAX_RING_BUFFER_BITS = 14,
// "32Kb DTCM"). DTCM size, usable SDRAM and application cores per chip: ChipParams.
#include <cstdint>
#include <string>

#include "hw_model/spinnaker1/topology.hpp"

namespace grindstone::hw::s1 {

/// Which limit a core load exceeds.
enum class CoreResource : std::uint8_t { None, Neurons, Dtcm, RingBufferSize, RowLength, Delay, PopTableEntries, Sdram };
const char* to_string(CoreResource r);

/// What a mapper proposes to put on one application core.
struct CoreLoad {
  /// Neurons on the core.
  int n_neurons = 0;
  /// Synapse types (receptors) of the population.
  int n_receptors = 2;
  /// Largest native (ring-buffer) delay of incoming synapses, ticks (≥ 1).
  int max_delay_ticks = 1;
  /// Longest synaptic row (synapses of one presynaptic neuron targeting this core).
  int max_row_length = 0;
  /// Master population table entries (incoming key/mask blocks).
  int n_pop_table_entries = 0;
  /// Address-list words behind those entries (one per entry per delay stage), 4 B each.
  int n_address_list_entries = 0;
  /// SDRAM for this core's synaptic matrices, bytes (Σ rows × (row_len+3)·4).
  std::int64_t synaptic_matrix_bytes = 0;
};

struct CoreBudgetVerdict {
  bool fits = true;
  CoreResource exceeded = CoreResource::None;
  /// Amount used and its limit for the exceeded resource (units: neurons, bytes, synapses,
  /// ticks or entries).
  std::int64_t used = 0;
  std::int64_t limit = 0;
  /// One line, e.g. "DTCM: needs 70312 bytes, a core has 65536 (ring buffers 32768, ...)".
  std::string reason;
  /// DTCM breakdown, bytes.
  std::int64_t dtcm_neuron_state = 0;
  std::int64_t dtcm_ring_buffers = 0;
  std::int64_t dtcm_pop_table = 0;
  std::int64_t dtcm_fixed = 0;
  std::int64_t dtcm_total() const { return dtcm_neuron_state + dtcm_ring_buffers + dtcm_pop_table + dtcm_fixed; }
};

class CoreBudget {
 public:
  struct Params {
    /// Neurons per core. Source: seed 001 (Vineyard et al.: "Max-Neurons/Core: 255"); sPyNNaker
    /// ≤6 default 255, 7.x 256 (reference §2).
    int max_neurons_per_core = 255;
    /// Longest synaptic row. Source: POP_TABLE_MAX_ROW_LENGTH = 256 (utilities/constants.py).
    int max_row_length = 256;
    /// DTCM taken by the runtime whatever the load (stack, SARK heap headers, recording,
    /// globals), bytes. Assumption: 8 KB.
    std::int64_t dtcm_runtime_bytes = 8 * 1024;
    /// Neuron state + parameters per neuron, bytes. Assumption: 48 B (LIF: V, V_rest, R,
    /// exp_TC, I_offset, V_reset, T_refract, refract timer, threshold; 2 synaptic inputs;
    /// s16.15 words, neuron_model_lif_impl.h).
    std::int64_t neuron_state_bytes = 48;
    /// Bytes per master population table entry. Source: population_table.h entry
    /// {key, mask, start|colour|count, core_mask|mask_shift, n_neurons|n_words} = 5 words = 20 B.
    std::int64_t pop_table_entry_bytes = 20;
    /// Bytes per address-list entry {row_length−1:8, address:24}. Source: reference §2.
    std::int64_t address_list_entry_bytes = 4;
    /// Address-list entries addressable. Source: `start` field of 13 bits (2^13, reference §2).
    int max_address_list_entries = 1 << 13;
    /// DMA buffers for synaptic rows in DTCM. Source: N_DMA_BUFFERS = 2 (spike_processing.c).
    int dma_buffers = 2;
    /// Incoming spike buffer entries (4 B each). Source: incoming_spike_buffer_size default 256.
    int incoming_spike_buffer_entries = 256;
    /// log2 of the largest ring buffer in 16-bit entries. Source: MAX_RING_BUFFER_BITS = 14
    /// ("14-bits = 16,384 16-bit ring buffer entries = 32Kb DTCM").
    int max_ring_buffer_bits = 14;
  };

  /// The budget of an application core of `chip`: DTCM per core, usable SDRAM per chip and the
  /// application cores sharing it all come from ChipParams (their one home).
  CoreBudget() : CoreBudget(Params{}, ChipParams{}) {}
  CoreBudget(Params params, ChipParams chip) : params_(params), chip_(chip) {}
  const Params& params() const { return params_; }
  const ChipParams& chip() const { return chip_; }

  /// Checks neurons, row length, delay (must fit the ring-buffer size limit), population table,
  /// DTCM total and the core's SDRAM share, in that order; the first exceeded resource is
  /// reported. InputError for negative or zero-neuron loads.
  CoreBudgetVerdict check(const CoreLoad& load) const;

  /// Bytes of one synaptic row in SDRAM (and of its DMA transfer): (row_length + 3) × 4.
  static std::int64_t row_bytes(int row_length) { return (static_cast<std::int64_t>(row_length) + 3) * 4; }
  /// Largest native delay (ticks) a core with this many neurons and receptors supports:
  /// slots = 2^(max_ring_buffer_bits − ceil_log2(n_neurons) − ceil_log2(n_receptors)), delay = slots − 1
  /// (slots must be ≥ max_delay + 1, RingBuffer). 0 if not even 2 slots fit.
  int max_native_delay(int n_neurons, int n_receptors = 2) const;
  /// Largest n_neurons (≤ max_neurons_per_core) whose ring buffers hold `max_delay_ticks`.
  int max_neurons_for_delay(int max_delay_ticks, int n_receptors = 2) const;
  /// SDRAM share of one application core: the chip's usable SDRAM over its application cores
  /// (those of a non-Ethernet chip, the common case).
  std::int64_t sdram_per_core() const { return chip_.sdram_usable_bytes / chip_.application_cores(false); }

 private:
  Params params_;
  ChipParams chip_;
};

}  // namespace grindstone::hw::s1
