#include <doctest/doctest.h>

#include <vector>

#include "common/error.hpp"
#include "hw_model/spinnaker1/ring_buffer.hpp"

namespace s1 = grindstone::hw::s1;
using s1::Ticks;

TEST_CASE("ring buffer slots: smallest power of two >= max delay + 1") {
  CHECK(s1::RingBuffer::slots_for_delay(1) == 2);
  CHECK(s1::RingBuffer::slots_for_delay(2) == 4);
  CHECK(s1::RingBuffer::slots_for_delay(3) == 4);
  CHECK(s1::RingBuffer::slots_for_delay(15) == 16);
  CHECK(s1::RingBuffer::slots_for_delay(16) == 32);
  CHECK_THROWS_AS(s1::RingBuffer::slots_for_delay(0), grindstone::InputError);
  // 255 neurons → 256 peak, 2 types, 32 slots → 16384 entries = 32 KB (MAX_RING_BUFFER_BITS 14).
  CHECK(s1::RingBuffer::dtcm_bytes(255, 2, 16) == 32 * 1024);
}

TEST_CASE("ring buffer: modulo indexing, drain returns value << shift and clears") {
  s1::RingBuffer rb({.n_neurons = 3, .n_receptors = 2, .max_delay_ticks = 5, .weight_shift = 2});
  REQUIRE(rb.slots() == 8);
  std::vector<std::int64_t> out(6);
  rb.add(Ticks(5), 3, 0, 1, 10);   // lands at tick 8 → slot 0
  rb.add(Ticks(6), 2, 0, 1, 5);    // also tick 8
  rb.add(Ticks(6), 2, 1, 1, 7);    // inhibitory, tick 8: never cancels excitatory
  rb.add(Ticks(30), 5, 0, 2, 1);   // tick 35 → slot 3
  CHECK(rb.raw(0, 0, 1) == 15);
  CHECK(rb.raw(3, 0, 2) == 1);
  rb.drain(Ticks(7), out);
  CHECK(out == std::vector<std::int64_t>(6, 0));
  rb.drain(Ticks(8), out);
  CHECK(out == std::vector<std::int64_t>{0, 15 << 2, 0, 0, 7 << 2, 0});
  CHECK(rb.slot_empty(0));
  rb.drain(Ticks(8), out);
  CHECK(out == std::vector<std::int64_t>(6, 0));
  rb.drain(Ticks(35), out);
  CHECK(out[2] == 4);
  CHECK(rb.stats().additions == 4);
  CHECK(rb.stats().drains == 4);
  std::vector<std::int64_t> wrong(5);
  CHECK_THROWS_AS(rb.drain(Ticks(0), wrong), grindstone::InputError);
}

TEST_CASE("ring buffer: 16-bit saturation is counted exactly") {
  s1::RingBuffer rb({.n_neurons = 2, .n_receptors = 2, .max_delay_ticks = 1});
  CHECK_FALSE(rb.add(Ticks(0), 1, 0, 0, 0xFFF0));
  CHECK_FALSE(rb.add(Ticks(0), 1, 0, 0, 0x000F));  // exactly 0xFFFF: no saturation
  CHECK(rb.stats().saturations == 0);
  CHECK(rb.add(Ticks(0), 1, 0, 0, 1));
  CHECK(rb.add(Ticks(0), 1, 0, 0, 0x8000));
  CHECK_FALSE(rb.add(Ticks(0), 1, 1, 0, 0x8000));  // other receptor is separate
  CHECK(rb.raw(1, 0, 0) == 0xFFFF);
  CHECK(rb.stats().saturations == 2);
  CHECK(rb.stats().saturation_ratio() == doctest::Approx(2.0 / 5.0));
  std::vector<std::int64_t> out(4);
  rb.drain(Ticks(1), out);
  CHECK(out[0] == 0xFFFF);
  CHECK(out[2] == 0x8000);
}

TEST_CASE("ring buffer: a long random stream matches a reference model") {
  const int n = 17;
  const int max_delay = 9;
  s1::RingBuffer rb({.n_neurons = n, .n_receptors = 2, .max_delay_ticks = max_delay, .weight_shift = 3});
  // Reference: exact sums per absolute tick, clipped per addition like the hardware.
  std::vector<std::vector<std::int64_t>> expected(300, std::vector<std::int64_t>(2 * n, 0));
  std::int64_t saturations = 0;
  std::uint32_t state = 1;
  auto next = [&state] { state = state * 1664525u + 1013904223u; return state >> 8; };
  std::vector<std::int64_t> out(2 * n);
  for (int t = 0; t < 280; ++t) {
    rb.drain(Ticks(t), out);
    for (int i = 0; i < 2 * n; ++i) REQUIRE(out[static_cast<std::size_t>(i)] == expected[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] << 3);
    for (int k = 0; k < 40; ++k) {
      const int d = 1 + static_cast<int>(next() % max_delay);
      const int r = static_cast<int>(next() % 2);
      const int neuron = static_cast<int>(next() % n);
      const auto w = static_cast<std::uint16_t>(next() % 40000);
      rb.add(Ticks(t), d, r, neuron, w);
      auto& acc = expected[static_cast<std::size_t>(t + d)][static_cast<std::size_t>(r * n + neuron)];
      acc += w;
      if (acc > 0xFFFF) {
        acc = 0xFFFF;
        ++saturations;
      }
    }
  }
  CHECK(saturations > 0);
  CHECK(rb.stats().saturations == saturations);
}

namespace {
/// Every accumulator of every slot, for comparing two buffers.
std::vector<std::uint16_t> contents(const s1::RingBuffer& rb) {
  std::vector<std::uint16_t> v;
  for (int s = 0; s < rb.slots(); ++s)
    for (int r = 0; r < rb.n_receptors(); ++r)
      for (int n = 0; n < rb.n_neurons(); ++n) v.push_back(rb.raw(s, r, n));
  return v;
}
}  // namespace

TEST_CASE("ring buffer: add_dense and add_sparse equal add() per synapse, saturation included") {
  const int n = 200;
  s1::RingBuffer fast({.n_neurons = n, .n_receptors = 2, .max_delay_ticks = 7});
  s1::RingBuffer slow({.n_neurons = n, .n_receptors = 2, .max_delay_ticks = 7});
  std::uint32_t state = 5;
  auto next = [&state] { state = state * 1664525u + 1013904223u; return state >> 8; };
  std::vector<std::int64_t> out_fast(2 * n), out_slow(2 * n);
  std::int64_t dense_saturations = 0, sparse_saturations = 0;
  for (int t = 0; t < 60; ++t) {
    fast.drain(Ticks(t), out_fast);
    slow.drain(Ticks(t), out_slow);
    REQUIRE(out_fast == out_slow);
    for (int k = 0; k < 6; ++k) {
      const int d = 1 + static_cast<int>(next() % 7), r = static_cast<int>(next() % 2);
      // Dense: a span with gaps (0) and large weights, so that sums past 0xFFFF occur.
      const int first = static_cast<int>(next() % 100), len = 1 + static_cast<int>(next() % 100);
      std::vector<std::uint16_t> w(static_cast<std::size_t>(len));
      std::int64_t synapses = 0;
      for (int i = 0; i < len; ++i) {
        if (next() % 4 == 0) continue;  // gap
        w[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(next() % 30000);
        ++synapses;
      }
      std::int64_t slow_sat = 0;
      for (int i = 0; i < len; ++i)
        if (w[static_cast<std::size_t>(i)] != 0) slow_sat += slow.add(Ticks(t), d, r, first + i, w[static_cast<std::size_t>(i)]);
      // A zero-weight synapse is still an addition: count one gap as a real synapse.
      if (synapses < len) {
        for (int i = 0; i < len; ++i)
          if (w[static_cast<std::size_t>(i)] == 0) { slow.add(Ticks(t), d, r, first + i, 0); ++synapses; break; }
      }
      const std::int64_t fast_sat = fast.add_dense(Ticks(t), d, r, first, w, synapses);
      CHECK(fast_sat == slow_sat);
      dense_saturations += fast_sat;
      // Sparse: repeated neurons, in order.
      std::vector<std::uint8_t> neurons;
      std::vector<std::uint16_t> weights;
      for (int i = 0; i < 30; ++i) {
        neurons.push_back(static_cast<std::uint8_t>(next() % 8));  // few neurons: many repeats
        weights.push_back(static_cast<std::uint16_t>(next() % 20000));
      }
      std::int64_t sparse_slow = 0;
      for (std::size_t i = 0; i < neurons.size(); ++i) sparse_slow += slow.add(Ticks(t), d, r, neurons[i], weights[i]);
      const std::int64_t sparse_fast = fast.add_sparse(Ticks(t), d, r, neurons, weights);
      CHECK(sparse_fast == sparse_slow);
      sparse_saturations += sparse_fast;
      REQUIRE(contents(fast) == contents(slow));
    }
  }
  CHECK(dense_saturations > 0);
  CHECK(sparse_saturations > 0);
  CHECK(fast.stats().additions == slow.stats().additions);
  CHECK(fast.stats().saturations == slow.stats().saturations);
  CHECK(fast.stats().drains == slow.stats().drains);
}
