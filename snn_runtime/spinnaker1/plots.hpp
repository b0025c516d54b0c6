#pragma once
// PNG figures of a SpiNNaker 1 run, drawn by gnuplot (written to a temporary file in the target
// folder and renamed into place): packets handled by each chip's router, on the board layout,
// and a spike raster of one sample.
#include <filesystem>
#include <string>

#include "snn_runtime/network/network.hpp"
#include "snn_runtime/spinnaker1/executor.hpp"
#include "snn_runtime/spinnaker1/mapping.hpp"

namespace grindstone::snn::spinnaker1 {

/// Writes `dir`/router_load.png and `dir`/raster.png (creating `dir`). InputError when gnuplot
/// is missing or fails, naming the file.
void write_plots(const std::filesystem::path& dir, const Network& network, const Mapping& mapping,
                 const ExecutorResult& result);

}  // namespace grindstone::snn::spinnaker1
