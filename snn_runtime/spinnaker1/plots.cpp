#include "snn_runtime/spinnaker1/plots.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "common/gnuplot.hpp"
#include "common/error.hpp"

namespace grindstone::snn::spinnaker1 {

void write_plots(const std::filesystem::path& dir, const Network& network, const Mapping& m, const ExecutorResult& r) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  require_input(!ec && std::filesystem::is_directory(dir), dir.string(), "cannot create the plots folder");

  // Router load: every live chip at its (x, y), coloured by packets its router handled.
  std::ostringstream load;
  load << "set title 'Router load per chip (packets received, whole run)'\n"
       << "set xlabel 'chip x'\nset ylabel 'chip y'\nset size ratio -1\nset palette rgb 33,13,10\n"
       << "set cblabel 'packets'\nset xrange [-1:" << m.machine.width() << "]\nset yrange [-1:" << m.machine.height()
       << "]\n$load << EOD\n";
  const auto& chips = m.machine.chips();
  for (std::size_t c = 0; c < chips.size(); ++c)
    load << chips[c].x << ' ' << chips[c].y << ' ' << (c < r.router_packets.size() ? r.router_packets[c] : 0) << '\n';
  load << "EOD\nplot $load using 1:2:3 with points pt 5 ps 5 palette notitle, "
       << "$load using 1:2:(sprintf('%d',$3)) with labels font ',7' notitle\n";
  plot_png(dir / "router_load.png", load.str());

  // Raster of the recorded sample: y = population offset + neuron.
  std::vector<std::int64_t> offset(network.populations.size() + 1, 0);
  for (std::size_t p = 0; p < network.populations.size(); ++p) offset[p + 1] = offset[p] + network.populations[p].size();
  std::ostringstream raster;
  raster << "set title 'Spike raster of one sample (" << r.raster.size() << " spikes)'\n"
         << "set xlabel 'tick (from the sample start)'\nset ylabel 'neuron (populations stacked)'\nset key outside right\n";
  for (std::size_t p = 0; p < network.populations.size(); ++p) {
    raster << "$pop" << p << " << EOD\n";
    bool any = false;
    for (const RasterSpike& s : r.raster)
      if (s.population == static_cast<int>(p)) {
        raster << s.tick << ' ' << offset[p] + s.neuron << '\n';
        any = true;
      }
    if (!any) raster << "NaN NaN\n";
    raster << "EOD\n";
  }
  raster << "plot ";
  for (std::size_t p = 0; p < network.populations.size(); ++p) {
    std::string name = network.populations[p].name;
    for (char& ch : name)
      if (ch == '\'' || ch == '_') ch = ' ';
    raster << (p ? ", " : "") << "$pop" << p << " using 1:2 with points pt 7 ps 0.4 title '" << name << "'";
  }
  raster << "\n";
  plot_png(dir / "raster.png", raster.str());
}

void write_sweep_plot(const std::filesystem::path& path, const std::vector<SweepPoint>& points, double single_pass_accuracy) {
  std::vector<int> groups;
  for (const SweepPoint& p : points)
    if (std::find(groups.begin(), groups.end(), p.temporal_groups) == groups.end()) groups.push_back(p.temporal_groups);
  std::ostringstream g;
  for (std::size_t k = 0; k < groups.size(); ++k) {
    g << "$k" << k << " << EOD\n";
    for (const SweepPoint& p : points) {
      if (p.temporal_groups != groups[k]) continue;
      const double sent = p.packets_sent > 0 ? static_cast<double>(p.packets_sent) : 1.0;
      g << p.time_scale_factor << ' ' << p.accuracy << ' ' << static_cast<double>(p.packets_dropped) / sent << ' '
        << static_cast<double>(p.late_spikes) / sent << '\n';
    }
    g << "EOD\n";
  }
  g << "set multiplot layout 2,1 title 'SpiNNaker 1 settings map'\n"
    << "set logscale x 2\nset xlabel 'time-scale factor'\nset key outside right\nset grid\n"
    << "set ylabel 'accuracy'\nset yrange [0:1.05]\nplot ";
  for (std::size_t k = 0; k < groups.size(); ++k)
    g << (k ? ", " : "") << "$k" << k << " using 1:2 with linespoints lw 2 title 'K = " << groups[k] << "'";
  if (single_pass_accuracy >= 0) g << ", " << single_pass_accuracy << " with lines dt 2 lc 'black' title 'single-pass'";
  g << "\nset ylabel 'fraction of packets sent'\nset yrange [0:*]\nplot ";
  for (std::size_t k = 0; k < groups.size(); ++k)
    g << (k ? ", " : "") << "$k" << k << " using 1:3 with linespoints lw 2 title 'dropped, K = " << groups[k] << "', $k" << k
      << " using 1:4 with linespoints dt 3 title 'late, K = " << groups[k] << "'";
  g << "\nunset multiplot\n";
  plot_png(path, g.str());
}

}  // namespace grindstone::snn::spinnaker1
