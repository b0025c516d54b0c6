#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "snn_runtime/spinnaker1/row_plan.hpp"

namespace s1 = grindstone::snn::spinnaker1;
namespace hw = grindstone::hw::s1;

namespace {

/// A random matrix: rows of up to `max_row` words over `neurons` post neurons, delays 1..max_delay,
/// both receptors; `repeat` makes rows target a few neurons many times; `heavy` weights make sums
/// pass 0xFFFF; some weights are 0 (rounded-away synapses that still count as additions).
s1::SynapticMatrix random_matrix(std::uint32_t seed, int atoms, int neurons, int max_row, int max_delay, bool repeat,
                                 bool heavy) {
  std::uint32_t state = seed;
  auto next = [&state] { state = state * 1664525u + 1013904223u; return state >> 8; };
  s1::SynapticMatrix m;
  m.row_begin.push_back(0);
  for (int a = 0; a < atoms; ++a) {
    const int len = static_cast<int>(next() % static_cast<std::uint32_t>(max_row + 1));
    const int base = static_cast<int>(next() % static_cast<std::uint32_t>(neurons));
    for (int k = 0; k < len; ++k) {
      const int post = repeat ? (base + static_cast<int>(next() % 4)) % neurons
                              : (base + k * (1 + static_cast<int>(next() % 2))) % neurons;
      const std::uint32_t w = next() % 10 == 0 ? 0 : (heavy ? 20000 + next() % 40000 : next() % 300);
      m.words.push_back(s1::SynapticMatrix::word(w, 1 + static_cast<int>(next() % static_cast<std::uint32_t>(max_delay)),
                                                 static_cast<int>(next() % 2), post));
    }
    m.row_begin.push_back(static_cast<std::uint32_t>(m.words.size()));
  }
  return m;
}

std::vector<std::uint16_t> contents(const hw::RingBuffer& rb) {
  std::vector<std::uint16_t> v;
  for (int s = 0; s < rb.slots(); ++s)
    for (int r = 0; r < rb.n_receptors(); ++r)
      for (int n = 0; n < rb.n_neurons(); ++n) v.push_back(rb.raw(s, r, n));
  return v;
}

/// Feeds the same packets through the prepared rows and word by word; every accumulator, every
/// counter and every outcome must agree. Returns the prepared matrix for further checks.
s1::PreparedMatrix check_same(const s1::SynapticMatrix& m, int neurons, int max_delay, std::int64_t* saturations) {
  const s1::PreparedMatrix p = s1::prepare_matrix(m);
  const hw::RingBuffer::Params rp{.n_neurons = neurons, .n_receptors = 2, .max_delay_ticks = max_delay};
  hw::RingBuffer fast(rp), slow(rp);
  const hw::SimTime period = hw::SimTime::from_us(1000.0);
  const auto atoms = static_cast<std::uint32_t>(m.row_begin.size() - 1);
  std::vector<std::int64_t> out_fast(static_cast<std::size_t>(2 * neurons)), out_slow(out_fast.size());
  std::uint32_t state = 9;
  auto next = [&state] { state = state * 1664525u + 1013904223u; return state >> 8; };
  std::int64_t late = 0;
  for (std::int64_t t = 0; t < 40; ++t) {
    fast.drain(hw::Ticks(t), out_fast);
    slow.drain(hw::Ticks(t), out_slow);
    REQUIRE(out_fast == out_slow);
    for (int k = 0; k < 12; ++k) {
      const std::uint32_t atom = next() % atoms;
      // Processing ends somewhere in the next few ticks: synapses of short delays come late.
      const hw::SimTime finish = period * t + hw::SimTime::from_us(static_cast<double>(next() % 4000));
      const auto a = s1::apply_row(p, atom, fast, hw::Ticks(t), finish, period);
      const auto b = s1::apply_row_per_word(m, atom, slow, hw::Ticks(t), finish, period);
      CHECK(a.added == b.added);
      CHECK(a.late == b.late);
      late += a.late;
    }
    REQUIRE(contents(fast) == contents(slow));
  }
  CHECK(late > 0);
  CHECK(fast.stats().additions == slow.stats().additions);
  CHECK(fast.stats().saturations == slow.stats().saturations);
  *saturations = slow.stats().saturations;
  return p;
}

}  // namespace

TEST_CASE("prepared rows: dense rows give the per-word result, saturating or not") {
  for (const bool heavy : {false, true}) {
    const auto m = random_matrix(heavy ? 11u : 12u, 50, 255, 120, 15, false, heavy);
    std::int64_t saturations = 0;
    const auto p = check_same(m, 255, 15, &saturations);
    CHECK((saturations > 0) == heavy);
    // Same synapses, regrouped: every word is in exactly one run.
    std::int64_t synapses = 0, dense = 0;
    for (const auto& run : p.runs) {
      synapses += run.synapses;
      dense += run.dense ? 1 : 0;
    }
    CHECK(synapses == static_cast<std::int64_t>(m.words.size()));
    CHECK(dense > 0);
  }
}

TEST_CASE("prepared rows: repeated neurons take the ordered sparse path, exactly") {
  const auto m = random_matrix(21u, 40, 64, 60, 3, true, true);
  std::int64_t saturations = 0;
  const auto p = check_same(m, 64, 3, &saturations);
  CHECK(saturations > 0);
  bool sparse = false;
  for (const auto& run : p.runs) sparse = sparse || !run.dense;
  CHECK(sparse);
}

TEST_CASE("prepared rows: a row's runs are grouped by delay and receptor, neurons kept") {
  s1::SynapticMatrix m;
  m.row_begin = {0, 4, 4};  // atom 1 has an empty row
  m.words = {s1::SynapticMatrix::word(5, 2, 0, 10), s1::SynapticMatrix::word(6, 1, 1, 3),
             s1::SynapticMatrix::word(7, 2, 0, 12), s1::SynapticMatrix::word(8, 2, 1, 12)};
  const auto p = s1::prepare_matrix(m);
  REQUIRE(p.run_begin == std::vector<std::uint32_t>{0, 3, 3});
  // Sorted by (delay, receptor): (1, inh), (2, exc), (2, inh).
  CHECK(p.runs[0].delay == 1);
  CHECK(p.runs[0].receptor == 1);
  CHECK(p.runs[1].delay == 2);
  CHECK(p.runs[1].receptor == 0);
  REQUIRE(p.runs[1].dense);
  CHECK(p.runs[1].first_neuron == 10);
  CHECK(p.runs[1].length == 3);    // neurons 10..12 with a gap at 11
  CHECK(p.runs[1].synapses == 2);
  CHECK(p.weights[p.runs[1].offset + 0] == 5);
  CHECK(p.weights[p.runs[1].offset + 1] == 0);
  CHECK(p.weights[p.runs[1].offset + 2] == 7);
  CHECK(p.runs[2].receptor == 1);
  hw::RingBuffer rb({.n_neurons = 16, .n_receptors = 2, .max_delay_ticks = 3});
  const auto out = s1::apply_row(p, 0, rb, hw::Ticks(0), hw::SimTime(0), hw::SimTime::from_us(1000.0));
  CHECK(out.added == 4);
  CHECK(rb.raw(2, 0, 10) == 5);
  CHECK(rb.raw(2, 0, 11) == 0);
  CHECK(rb.raw(2, 0, 12) == 7);
  CHECK(rb.raw(2, 1, 12) == 8);
  CHECK(rb.raw(1, 1, 3) == 6);
  CHECK(s1::apply_row(p, 1, rb, hw::Ticks(0), hw::SimTime(0), hw::SimTime::from_us(1000.0)).added == 0);
}
