#pragma once
// Synaptic delay limits of sPyNNaker ≤6 on SpiNNaker 1 (the fixed-word layout this model stores:
// 4 delay bits). Delays up to kMaxNativeDelay are held by the target core's ring buffer; longer
// ones go through delay-extension cores that re-send a spike after whole stages.
// Sources (reference §1, §5): SYNAPSE_DELAY_BITS 4 and MAX_SUPPORTED_DELAY_TICS = 16 (≤6);
// delay_extension.c MAX_TIMER_TICS_SUPPORTED_PER_BLOCK = 16 and MAX_DELAY_BLOCKS = 8, i.e.
// 16 + 8·16 = 144 ticks (PyNN's old default max_delay of 144·dt, sPyNNaker #1092).
#include "hw_model/spinnaker1/units.hpp"

namespace grindstone::hw::s1 {

/// Longest delay a core's ring buffer holds natively (4-bit delay field of the fixed word).
inline constexpr Ticks kMaxNativeDelay{16};
/// Ticks one delay-extension stage adds.
inline constexpr Ticks kDelayStageTicks{16};
/// Stages a delay extension provides.
inline constexpr int kMaxDelayStages = 8;
/// Longest delay with delay extensions (derived: 144 ticks).
inline constexpr Ticks kMaxDelay = kMaxNativeDelay + kDelayStageTicks * kMaxDelayStages;
static_assert(kMaxDelay.value == 144);

/// Delay-extension stage carrying a synapse of `delay` ticks: 0 (native) for 1..16, then
/// floor((d − 1) / 16) (reference §5).
constexpr int delay_stage(Ticks delay) { return static_cast<int>((delay.value - 1) / kDelayStageTicks.value); }

}  // namespace grindstone::hw::s1
