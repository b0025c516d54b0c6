#pragma once
// Synaptic rows prepared for the host. A SpiNNaker 1 core decodes each 32-bit word of a row and
// adds it to its ring buffer one at a time (reference §2); the executor reaches the same
// accumulators and statistics with far fewer host instructions by grouping each row's words once,
// at load time, into *runs* of one delay and one receptor:
//   * dense run: the synapses target distinct neurons spanning a short range, so their weights are
//     laid out over that range (0 in the gaps) and added with one vectorisable loop
//     (RingBuffer::add_dense) — every neuron gets one addition, so saturation is exact per neuron;
//   * sparse run (a neuron repeats, or the range is mostly gaps): (neuron, weight) pairs added in
//     the row's order (RingBuffer::add_sparse) — exactly the per-word additions.
// Runs of different (delay, receptor) touch different accumulators (distinct delays below the slot
// count are distinct slots), and saturating additions to one accumulator keep their row order, so
// the result — values, saturation count, additions, late synapses — is bit-identical to the
// per-word path (apply_row_per_word, kept as the reference the tests compare against).
#include <cstdint>
#include <vector>

#include "hw_model/spinnaker1/ring_buffer.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"

namespace grindstone::snn::spinnaker1 {

/// Synapses of one row with one delay and receptor.
struct RowRun {
  std::uint32_t offset = 0;       ///< first value in PreparedMatrix::weights (and ::neurons)
  std::uint16_t length = 0;       ///< values in the run (dense: the neuron span, gaps included)
  std::uint16_t synapses = 0;     ///< real synapses of the run (ring-buffer additions)
  std::uint8_t delay = 1;         ///< ticks, 1..16 (SynapticMatrix::delay_of)
  std::uint8_t receptor = 0;
  std::uint8_t first_neuron = 0;  ///< dense runs: the neuron of weights[offset]
  bool dense = false;
};

/// A SynapticMatrix regrouped into runs (same source atoms, same synapses).
struct PreparedMatrix {
  std::vector<std::uint32_t> run_begin;  ///< per source atom, size atoms + 1: its runs
  std::vector<RowRun> runs;
  std::vector<std::uint16_t> weights;    ///< stored 16-bit magnitudes (0 in dense gaps)
  std::vector<std::uint8_t> neurons;     ///< post neuron per value (meaningful for sparse runs)
};

/// Regroups `matrix`. A run is dense when its neurons are distinct and span at most
/// 4 × synapses + 32 values (beyond that the gaps cost more than indexed additions).
PreparedMatrix prepare_matrix(const SynapticMatrix& matrix);

/// What processing one row did.
struct RowOutcome {
  std::int64_t added = 0;  ///< synapses added to the ring buffer
  std::int64_t late = 0;   ///< synapses dropped as late
};

/// Processes row `atom` for a packet handled at tick `now` whose processing ends at `finish`: a
/// synapse of delay d is late (lost) iff finish > tick_period · (now + d); the others are added to
/// `ring`. The fast path.
RowOutcome apply_row(const PreparedMatrix& matrix, std::uint32_t atom, hw::s1::RingBuffer& ring, hw::s1::Ticks now,
                     hw::s1::SimTime finish, hw::s1::SimTime tick_period);

/// The same, word by word through RingBuffer::add, as the core does: the reference semantics.
RowOutcome apply_row_per_word(const SynapticMatrix& matrix, std::uint32_t atom, hw::s1::RingBuffer& ring,
                              hw::s1::Ticks now, hw::s1::SimTime finish, hw::s1::SimTime tick_period);

}  // namespace grindstone::snn::spinnaker1
