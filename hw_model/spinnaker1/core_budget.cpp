#include "hw_model/spinnaker1/core_budget.hpp"

#include <algorithm>
#include <bit>

#include "common/error.hpp"
#include "hw_model/spinnaker1/ring_buffer.hpp"

namespace grindstone::hw::s1 {

const char* to_string(CoreResource r) {
  switch (r) {
    case CoreResource::None: return "none";
    case CoreResource::Neurons: return "neurons per core";
    case CoreResource::Dtcm: return "DTCM";
    case CoreResource::RingBufferSize: return "ring buffer size";
    case CoreResource::RowLength: return "synaptic row length";
    case CoreResource::Delay: return "native delay";
    case CoreResource::PopTableEntries: return "master population table";
    case CoreResource::Sdram: return "SDRAM";
  }
  return "?";
}

namespace {
int ceil_log2(int n) { return n <= 1 ? 0 : static_cast<int>(std::bit_width(static_cast<unsigned>(n - 1))); }
}  // namespace

int CoreBudget::max_native_delay(int n_neurons, int n_receptors) const {
  require_input(n_neurons >= 1 && n_receptors >= 1, "core budget", "n_neurons and n_receptors must be at least 1");
  const int bits = params_.max_ring_buffer_bits - ceil_log2(n_neurons) - ceil_log2(n_receptors);
  if (bits < 1) return 0;
  return (1 << std::min(bits, 30)) - 1;
}

int CoreBudget::max_neurons_for_delay(int max_delay_ticks, int n_receptors) const {
  const int slots = RingBuffer::slots_for_delay(max_delay_ticks);
  const int atom_bits = params_.max_ring_buffer_bits - ceil_log2(slots) - ceil_log2(n_receptors);
  if (atom_bits < 0) return 0;
  return std::min(params_.max_neurons_per_core, 1 << std::min(atom_bits, 30));
}

CoreBudgetVerdict CoreBudget::check(const CoreLoad& load) const {
  require_input(load.n_neurons >= 1 && load.n_receptors >= 1 && load.max_delay_ticks >= 1 && load.max_row_length >= 0 &&
                    load.n_pop_table_entries >= 0 && load.n_address_list_entries >= 0 && load.synaptic_matrix_bytes >= 0,
                "core budget", "core load needs ≥1 neuron, ≥1 receptor, delay ≥1 and no negative counts");
  CoreBudgetVerdict v;
  auto fail = [&v](CoreResource r, std::int64_t used, std::int64_t limit, const std::string& unit, const std::string& extra) {
    v.fits = false;
    v.exceeded = r;
    v.used = used;
    v.limit = limit;
    v.reason = std::string(to_string(r)) + ": needs " + std::to_string(used) + " " + unit + ", a core has " +
               std::to_string(limit) + extra;
  };
  // DTCM breakdown first so it is reported whatever fails.
  v.dtcm_neuron_state = static_cast<std::int64_t>(load.n_neurons) * params_.neuron_state_bytes;
  v.dtcm_ring_buffers = RingBuffer::dtcm_bytes(load.n_neurons, load.n_receptors, load.max_delay_ticks);
  v.dtcm_pop_table = static_cast<std::int64_t>(load.n_pop_table_entries) * params_.pop_table_entry_bytes +
                     static_cast<std::int64_t>(load.n_address_list_entries) * params_.address_list_entry_bytes;
  v.dtcm_fixed = params_.dtcm_runtime_bytes + params_.dma_buffers * row_bytes(std::max(1, load.max_row_length)) +
                 static_cast<std::int64_t>(params_.incoming_spike_buffer_entries) * 4;

  if (load.n_neurons > params_.max_neurons_per_core) {
    fail(CoreResource::Neurons, load.n_neurons, params_.max_neurons_per_core, "neurons", "");
  } else if (load.max_row_length > params_.max_row_length) {
    fail(CoreResource::RowLength, load.max_row_length, params_.max_row_length, "synapses per row",
         " (use fewer neurons per core)");
  } else if (const int max_delay = max_native_delay(load.n_neurons, load.n_receptors); load.max_delay_ticks > max_delay) {
    fail(CoreResource::Delay, load.max_delay_ticks, max_delay, "ticks of delay",
         " in its ring buffer (2^" + std::to_string(params_.max_ring_buffer_bits) + " entries; use delay extensions or fewer neurons)");
  } else if (load.n_address_list_entries > params_.max_address_list_entries) {
    fail(CoreResource::PopTableEntries, load.n_address_list_entries, params_.max_address_list_entries, "address-list entries", "");
  } else if (v.dtcm_total() > chip_.dtcm_bytes) {
    fail(CoreResource::Dtcm, v.dtcm_total(), chip_.dtcm_bytes, "bytes",
         " (neuron state " + std::to_string(v.dtcm_neuron_state) + ", ring buffers " + std::to_string(v.dtcm_ring_buffers) +
             ", population table " + std::to_string(v.dtcm_pop_table) + ", fixed " + std::to_string(v.dtcm_fixed) + ")");
  } else if (load.synaptic_matrix_bytes > sdram_per_core()) {
    fail(CoreResource::Sdram, load.synaptic_matrix_bytes, sdram_per_core(), "bytes of synaptic matrix",
         " (its share of the chip's SDRAM)");
  }
  return v;
}

}  // namespace grindstone::hw::s1
