#pragma once
// JSON and text reports of the functional engines, shared by `run` and `compare`
// (keys per ARCHITECTURE.md §3).
#include <nlohmann/json.hpp>
#include <string>

#include "snn_runtime/functional/rate.hpp"
#include "snn_runtime/functional/single_pass.hpp"

namespace grindstone::cli {

/// The `run --engine single-pass` object: engine, samples, accuracy, wall_seconds,
/// samples_per_second, spikes_per_sample, synaptic_events_per_sample (+ dataset, accumulator,
/// exact_rechecks).
nlohmann::json single_pass_json(const snn::SinglePassRun& run, const std::string& dataset, const std::string& accumulator);
std::string single_pass_human(const snn::SinglePassRun& run, const std::string& dataset);

/// The `run --engine rate` object: the keys above plus timesteps and accuracy_by_timestep.
nlohmann::json rate_json(const snn::RateRun& run, const std::string& dataset, const std::string& input);
std::string rate_human(const snn::RateRun& run, const std::string& dataset);

}  // namespace grindstone::cli
