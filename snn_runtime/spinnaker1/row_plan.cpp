#include "snn_runtime/spinnaker1/row_plan.hpp"

#include <algorithm>
#include <array>
#include <span>

#include "common/error.hpp"

namespace grindstone::snn::spinnaker1 {

PreparedMatrix prepare_matrix(const SynapticMatrix& matrix) {
  require_input(!matrix.row_begin.empty() && matrix.row_begin.back() == matrix.words.size(), "synaptic matrix",
                "row_begin does not cover the words");
  PreparedMatrix out;
  const std::size_t atoms = matrix.row_begin.size() - 1;
  out.run_begin.assign(atoms + 1, 0);
  out.weights.reserve(matrix.words.size());
  out.neurons.reserve(matrix.words.size());
  std::vector<std::uint32_t> order;  // word indices of one row, grouped by (delay, receptor)
  for (std::size_t a = 0; a < atoms; ++a) {
    const std::uint32_t r0 = matrix.row_begin[a], r1 = matrix.row_begin[a + 1];
    order.resize(r1 - r0);
    for (std::uint32_t k = r0; k < r1; ++k) order[k - r0] = k;
    // Stable: within a group the row's order (the order of additions to a repeated neuron) stays.
    auto group_of = [&](std::uint32_t k) { return (SynapticMatrix::delay_of(matrix.words[k]) << 1) | SynapticMatrix::receptor_of(matrix.words[k]); };
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) { return group_of(x) < group_of(y); });
    for (std::size_t g0 = 0; g0 < order.size();) {
      std::size_t g1 = g0 + 1;
      while (g1 < order.size() && group_of(order[g1]) == group_of(order[g0])) ++g1;
      const std::uint32_t first_word = matrix.words[order[g0]];
      RowRun run;
      run.offset = static_cast<std::uint32_t>(out.weights.size());
      run.synapses = static_cast<std::uint16_t>(g1 - g0);
      run.delay = static_cast<std::uint8_t>(SynapticMatrix::delay_of(first_word));
      run.receptor = static_cast<std::uint8_t>(SynapticMatrix::receptor_of(first_word));
      std::array<bool, 256> seen{};
      bool distinct = true;
      int lo = 255, hi = 0;
      for (std::size_t i = g0; i < g1; ++i) {
        const int post = SynapticMatrix::post_of(matrix.words[order[i]]);
        distinct = distinct && !seen[static_cast<std::size_t>(post)];
        seen[static_cast<std::size_t>(post)] = true;
        lo = std::min(lo, post);
        hi = std::max(hi, post);
      }
      const auto span = static_cast<std::size_t>(hi - lo + 1);
      run.dense = distinct && span <= 4 * (g1 - g0) + 32;
      if (run.dense) {
        run.first_neuron = static_cast<std::uint8_t>(lo);
        run.length = static_cast<std::uint16_t>(span);
        out.weights.resize(out.weights.size() + span, 0);
        out.neurons.resize(out.neurons.size() + span, 0);
        for (std::size_t i = g0; i < g1; ++i) {
          const std::uint32_t w = matrix.words[order[i]];
          const auto at = run.offset + static_cast<std::size_t>(SynapticMatrix::post_of(w) - lo);
          out.weights[at] = static_cast<std::uint16_t>(SynapticMatrix::weight_of(w));
          out.neurons[at] = static_cast<std::uint8_t>(SynapticMatrix::post_of(w));
        }
      } else {
        run.length = run.synapses;
        for (std::size_t i = g0; i < g1; ++i) {
          const std::uint32_t w = matrix.words[order[i]];
          out.weights.push_back(static_cast<std::uint16_t>(SynapticMatrix::weight_of(w)));
          out.neurons.push_back(static_cast<std::uint8_t>(SynapticMatrix::post_of(w)));
        }
      }
      out.runs.push_back(run);
      g0 = g1;
    }
    out.run_begin[a + 1] = static_cast<std::uint32_t>(out.runs.size());
  }
  return out;
}

RowOutcome apply_row(const PreparedMatrix& matrix, std::uint32_t atom, hw::s1::RingBuffer& ring, hw::s1::Ticks now,
                     hw::s1::SimTime finish, hw::s1::SimTime tick_period) {
  RowOutcome out;
  const std::uint32_t k0 = matrix.run_begin[atom], k1 = matrix.run_begin[atom + 1];
  for (std::uint32_t k = k0; k < k1; ++k) {
    const RowRun& run = matrix.runs[k];
    if (finish > tick_period * (now.value + run.delay)) {
      out.late += run.synapses;
      continue;
    }
    const std::span<const std::uint16_t> weights(matrix.weights.data() + run.offset, run.length);
    if (run.dense) {
      ring.add_dense(now, run.delay, run.receptor, run.first_neuron, weights, run.synapses);
    } else {
      ring.add_sparse(now, run.delay, run.receptor, std::span<const std::uint8_t>(matrix.neurons.data() + run.offset, run.length),
                      weights);
    }
    out.added += run.synapses;
  }
  return out;
}

RowOutcome apply_row_per_word(const SynapticMatrix& matrix, std::uint32_t atom, hw::s1::RingBuffer& ring,
                              hw::s1::Ticks now, hw::s1::SimTime finish, hw::s1::SimTime tick_period) {
  RowOutcome out;
  for (std::uint32_t k = matrix.row_begin[atom]; k < matrix.row_begin[atom + 1]; ++k) {
    const std::uint32_t word = matrix.words[k];
    const int delay = SynapticMatrix::delay_of(word);
    if (finish > tick_period * (now.value + delay)) {
      ++out.late;
      continue;
    }
    ring.add(now, delay, SynapticMatrix::receptor_of(word), SynapticMatrix::post_of(word),
             static_cast<std::uint16_t>(SynapticMatrix::weight_of(word)));
    ++out.added;
  }
  return out;
}

}  // namespace grindstone::snn::spinnaker1
