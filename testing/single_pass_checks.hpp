#pragma once
// Shared doctest checks on the single-pass engine (header-only; include from test files).
#include <doctest/doctest.h>

#include <cstdint>

#include "common/parallel.hpp"
#include "snn_runtime/functional/single_pass.hpp"

namespace grindstone::engines_testing {

/// Runs `engine` on `n` images with 1 and with 2 threads and checks identical classes, spikes,
/// synaptic events and (with labels) correct counts: determinism at any thread count.
inline void check_thread_independent(const snn::SinglePassEngine& engine, const std::uint8_t* images,
                                     const std::uint8_t* labels, std::int64_t n) {
  snn::SinglePassRun one, two;
  {
    ThreadLimit limit(1);
    one = engine.run(images, labels, n);
  }
  {
    ThreadLimit limit(2);
    two = engine.run(images, labels, n);
  }
  CHECK(one.predictions == two.predictions);
  CHECK(one.spikes == two.spikes);
  CHECK(one.synaptic_events == two.synaptic_events);
  CHECK(one.correct == two.correct);
}

}  // namespace grindstone::engines_testing
