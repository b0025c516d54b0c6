#include "hw_model/spinnaker1/topology.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>

#include "common/error.hpp"

namespace grindstone::hw::s1 {

std::string to_string(ChipCoord chip) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "(%d,%d)", chip.x, chip.y);
  return buf;
}

const char* link_name(Link l) {
  static constexpr const char* kNames[] = {"E", "NE", "N", "W", "SW", "S"};
  return kNames[link_index(l)];
}

const std::vector<ChipCoord>& spinn5_board_chips() {
  // version_5.py CHIPS_PER_BOARD: column x holds y in [max(0, x-4), min(7, x+3)].
  static const std::vector<ChipCoord> kChips = [] {
    std::vector<ChipCoord> chips;
    for (int x = 0; x < 8; ++x)
      for (int y = std::max(0, x - 4); y <= std::min(7, x + 3); ++y) chips.push_back({x, y});
    return chips;
  }();
  return kChips;
}

Machine::Params Machine::Params::for_boards(int n_boards) {
  require_input(n_boards >= 1, "--boards", "need at least 1 board, got " + std::to_string(n_boards));
  if (n_boards == 1) return spinn5();
  const int n_triads = (n_boards + 2) / 3;
  const int tx = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n_triads))));
  const int ty = (n_triads + tx - 1) / tx;
  return triads(tx, ty);
}

namespace {

std::string describe(const Machine::Params& p) {
  switch (p.kind) {
    case Machine::Kind::Spinn3: return "SpiNN-3 board";
    case Machine::Kind::Spinn5: return "SpiNN-5 board";
    case Machine::Kind::Triads:
      return std::to_string(p.triads_x) + "x" + std::to_string(p.triads_y) + " triads (" +
             std::to_string(12 * p.triads_x) + "x" + std::to_string(12 * p.triads_y) + " torus)";
  }
  return "machine";
}

int hex_length(int dx, int dy) {
  if ((dx >= 0) == (dy >= 0)) return std::max(std::abs(dx), std::abs(dy));
  return std::abs(dx) + std::abs(dy);
}

}  // namespace

Machine::Machine(Params params) : params_(std::move(params)) {
  const std::string what = describe(params_);
  std::vector<std::pair<ChipCoord, ChipCoord>> layout;  // (chip, its Ethernet chip)
  switch (params_.kind) {
    case Kind::Spinn3:
      width_ = height_ = 2;
      for (int x = 0; x < 2; ++x)
        for (int y = 0; y < 2; ++y) layout.push_back({{x, y}, {0, 0}});
      break;
    case Kind::Spinn5:
      width_ = height_ = 8;
      for (ChipCoord c : spinn5_board_chips()) layout.push_back({c, {0, 0}});
      break;
    case Kind::Triads: {
      require_input(params_.triads_x >= 1 && params_.triads_y >= 1 && params_.triads_x <= 64 && params_.triads_y <= 64,
                    "machine", "triad counts must be 1..64, got " + std::to_string(params_.triads_x) + "x" +
                                   std::to_string(params_.triads_y));
      width_ = 12 * params_.triads_x;
      height_ = 12 * params_.triads_y;
      wraps_ = true;
      n_boards_ = 3 * params_.triads_x * params_.triads_y;
      for (int ex = 0; ex < width_; ex += 4)
        for (int ey = 0; ey < height_; ++ey) {
          if ((ex + ey) % 12 != 0) continue;
          for (ChipCoord d : spinn5_board_chips())
            layout.push_back({{(ex + d.x) % width_, (ey + d.y) % height_}, {ex, ey}});
        }
      break;
    }
  }
  const std::size_t n_cells = static_cast<std::size_t>(width_) * static_cast<std::size_t>(height_);
  cell_index_.assign(n_cells, -1);
  ethernet_of_.assign(n_cells, ChipCoord{-1, -1});
  for (const auto& [c, eth] : layout) {
    const auto cell = static_cast<std::size_t>(this->cell(c));
    if (cell_index_[cell] != -1) throw InternalError("machine layout: chip " + to_string(c) + " placed twice");
    cell_index_[cell] = -2;
    ethernet_of_[cell] = eth;
  }
  for (ChipCoord d : params_.dead_chips) {
    require_input(in_layout(d), "--dead-chip", "dead chip " + to_string(d) + " is not part of the " + what);
    cell_index_[static_cast<std::size_t>(cell(d))] = -3;  // dead
  }
  for (int x = 0; x < width_; ++x)
    for (int y = 0; y < height_; ++y) {
      auto& idx = cell_index_[static_cast<std::size_t>(cell({x, y}))];
      if (idx == -2) {
        idx = static_cast<int>(chips_.size());
        chips_.push_back({x, y});
      } else if (idx == -3) {
        idx = -2;  // dead chip in layout
      }
    }
  dead_link_bits_.assign(chips_.size(), 0);
  for (const auto& [c, l] : params_.dead_links) {
    require_input(in_layout(c), "--dead-link", "chip " + to_string(c) + " is not part of the " + what);
    const int i = chip_index(c);
    if (i < 0) continue;  // a dead chip's links are dead anyway
    const auto other = neighbour(c, l);
    dead_link_bits_[static_cast<std::size_t>(i)] |= static_cast<std::uint8_t>(1u << link_index(l));
    if (other) {
      const int j = chip_index(*other);
      dead_link_bits_[static_cast<std::size_t>(j)] |= static_cast<std::uint8_t>(1u << link_index(opposite(l)));
    }
  }
}

ChipCoord Machine::wrap(int x, int y) const {
  return {((x % width_) + width_) % width_, ((y % height_) + height_) % height_};
}

bool Machine::in_layout(ChipCoord c) const {
  if (c.x < 0 || c.y < 0 || c.x >= width_ || c.y >= height_) return false;
  return cell_index_[static_cast<std::size_t>(cell(c))] != -1;
}

int Machine::chip_index(ChipCoord c) const {
  if (c.x < 0 || c.y < 0 || c.x >= width_ || c.y >= height_) return -1;
  const int idx = cell_index_[static_cast<std::size_t>(cell(c))];
  return idx >= 0 ? idx : -1;
}

bool Machine::is_ethernet(ChipCoord c) const { return in_layout(c) && ethernet_chip_of(c) == c; }

ChipCoord Machine::ethernet_chip_of(ChipCoord c) const {
  require_input(in_layout(c), "machine", "chip " + to_string(c) + " is not part of the " + describe(params_));
  return ethernet_of_[static_cast<std::size_t>(cell(c))];
}

int Machine::total_application_cores() const {
  int total = 0;
  for (ChipCoord c : chips_) total += application_cores(c);
  return total;
}

std::optional<ChipCoord> Machine::neighbour(ChipCoord c, Link l) const {
  const int i = chip_index(c);
  if (i < 0) return std::nullopt;
  if ((dead_link_bits_[static_cast<std::size_t>(i)] >> link_index(l)) & 1u) return std::nullopt;
  const auto [dx, dy] = link_delta(l);
  ChipCoord n{c.x + dx, c.y + dy};
  if (wraps_) n = wrap(n.x, n.y);
  if (chip_index(n) < 0) return std::nullopt;
  return n;
}

std::pair<int, int> Machine::minimal_vector(ChipCoord a, ChipCoord b) const {
  int dx = b.x - a.x;
  int dy = b.y - a.y;
  if (!wraps_) return {dx, dy};
  dx = ((dx % width_) + width_) % width_;
  dy = ((dy % height_) + height_) % height_;
  std::pair<int, int> best{dx, dy};
  int best_len = hex_length(dx, dy);
  for (int cx : {dx, dx - width_})
    for (int cy : {dy, dy - height_}) {
      const int len = hex_length(cx, cy);
      if (len < best_len) {
        best_len = len;
        best = {cx, cy};
      }
    }
  return best;
}

int Machine::geometric_hops(ChipCoord a, ChipCoord b) const {
  const auto [dx, dy] = minimal_vector(a, b);
  return hex_length(dx, dy);
}

std::vector<int> Machine::hops_from(ChipCoord a) const {
  std::vector<int> dist(chips_.size(), -1);
  const int start = chip_index(a);
  if (start < 0) return dist;
  std::deque<int> queue{start};
  dist[static_cast<std::size_t>(start)] = 0;
  while (!queue.empty()) {
    const int i = queue.front();
    queue.pop_front();
    for (Link l : kAllLinks) {
      const auto n = neighbour(chips_[static_cast<std::size_t>(i)], l);
      if (!n) continue;
      const int j = chip_index(*n);
      if (dist[static_cast<std::size_t>(j)] >= 0) continue;
      dist[static_cast<std::size_t>(j)] = dist[static_cast<std::size_t>(i)] + 1;
      queue.push_back(j);
    }
  }
  return dist;
}

int Machine::hops(ChipCoord a, ChipCoord b) const {
  const int j = chip_index(b);
  if (j < 0) return -1;
  return hops_from(a)[static_cast<std::size_t>(j)];
}

std::optional<std::vector<Link>> Machine::shortest_path(ChipCoord a, ChipCoord b) const {
  const int start = chip_index(a);
  const int goal = chip_index(b);
  if (start < 0 || goal < 0) return std::nullopt;
  std::vector<int> parent(chips_.size(), -1);
  std::vector<std::int8_t> via(chips_.size(), -1);
  parent[static_cast<std::size_t>(start)] = start;
  std::deque<int> queue{start};
  while (!queue.empty() && parent[static_cast<std::size_t>(goal)] < 0) {
    const int i = queue.front();
    queue.pop_front();
    for (Link l : kAllLinks) {
      const auto n = neighbour(chips_[static_cast<std::size_t>(i)], l);
      if (!n) continue;
      const int j = chip_index(*n);
      if (parent[static_cast<std::size_t>(j)] >= 0) continue;
      parent[static_cast<std::size_t>(j)] = i;
      via[static_cast<std::size_t>(j)] = static_cast<std::int8_t>(link_index(l));
      queue.push_back(j);
    }
  }
  if (parent[static_cast<std::size_t>(goal)] < 0) return std::nullopt;
  std::vector<Link> path;
  for (int v = goal; v != start; v = parent[static_cast<std::size_t>(v)])
    path.push_back(link_from_index(via[static_cast<std::size_t>(v)]));
  std::reverse(path.begin(), path.end());
  return path;
}

MachineGraph Machine::graph() const {
  MachineGraph g(chips_.size());
  for (std::size_t i = 0; i < chips_.size(); ++i) g[static_cast<MachineGraph::vertex_descriptor>(i)].chip = chips_[i];
  for (std::size_t i = 0; i < chips_.size(); ++i)
    for (Link l : kAllLinks) {
      const auto n = neighbour(chips_[i], l);
      if (!n) continue;
      boost::add_edge(i, static_cast<std::size_t>(chip_index(*n)), LinkEdge{l}, g);
    }
  return g;
}

}  // namespace grindstone::hw::s1
