#pragma once
// PNG figures of a SpiNNaker 1 run, drawn by gnuplot (written to a temporary file in the target
// folder and renamed into place): packets handled by each chip's router, on the board layout,
// and a spike raster of one sample.
#include <filesystem>
#include <string>

#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker1/executor.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"
#include "snn_runtime/spinnaker1/sweep.hpp"

namespace grindstone::snn::spinnaker1 {

/// Writes `dir`/router_load.png and `dir`/raster.png (creating `dir`). InputError when gnuplot
/// is missing or fails, naming the file.
void write_plots(const std::filesystem::path& dir, const Network& network, const Mapping& mapping,
                 const ExecutorResult& result);

/// Writes the settings map of `grindstone sweep` to `path`: accuracy (with the single-pass
/// engine's as a reference line; negative = none) and the fraction of packets lost or late
/// against the time-scale factor, one line per temporal-group count. InputError as above.
void write_sweep_plot(const std::filesystem::path& path, const std::vector<SweepPoint>& points, double single_pass_accuracy);

}  // namespace grindstone::snn::spinnaker1
