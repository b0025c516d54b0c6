#pragma once
// The report of `run --engine spinnaker1` (ARCHITECTURE.md §3): the JSON object and the human
// summary of a Simulation. Every statistic the hardware components keep (routers, links, ring
// buffers, core timing, table compression, energy) is in both, so nothing measured is hidden.
#include <nlohmann/json.hpp>
#include <string>

#include "hw_model/spinnaker1/link.hpp"
#include "hw_model/spinnaker1/ring_buffer.hpp"
#include "hw_model/spinnaker1/router.hpp"
#include "hw_model/spinnaker1/routing_table.hpp"
#include "hw_model/spinnaker1/timing.hpp"
#include "snn_runtime/spinnaker1/simulation.hpp"

namespace grindstone::snn::spinnaker1 {

/// Each component's stats as a JSON object (counters and the ratios derived from them).
nlohmann::json stats_json(const hw::s1::Router::Stats& s);
/// `elapsed` × `links` is the serialiser time available, for the utilisation.
nlohmann::json stats_json(const hw::s1::InterChipLink::Stats& s, hw::s1::SimTime elapsed, std::int64_t links);
nlohmann::json stats_json(const hw::s1::RingBuffer::Stats& s);
nlohmann::json stats_json(const hw::s1::CoreTiming::Stats& s);
/// Summed over the chips that have a table.
nlohmann::json compression_json(const std::vector<hw::s1::CompressionStats>& per_chip);

/// The `run --engine spinnaker1` JSON object.
nlohmann::json report_json(const Network& network, const Simulation& sim, const std::string& dataset);
/// A few readable lines.
std::string report_human(const Simulation& sim, const std::string& dataset);

}  // namespace grindstone::snn::spinnaker1
