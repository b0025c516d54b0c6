#pragma once
// SpiNNaker 1 machine topology: chips on a triangular lattice with six links each, single boards
// (SpiNN-3, SpiNN-5) and multi-board machines of 3-board triads (12×12 tori), dead chips and dead
// links, hop distances, shortest paths and a Boost.Graph view for routing and placement.
// Sources (reference spinnaker1.md §3): SpiNNMachine machine.py LINK_ADD_TABLE (link ids),
// version_5.py CHIPS_PER_BOARD (the 48-chip hexagon), version_48_chips.py (triads, Ethernet chips
// where x%4==0 && (x+y)%12==0), NoWrapMachine (a single board does not wrap).
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

namespace grindstone::hw::s1 {

/// A chip's position in the machine, in SpiNNaker's (x, y) chip coordinates.
struct ChipCoord {
  int x = 0;
  int y = 0;
  friend constexpr auto operator<=>(const ChipCoord&, const ChipCoord&) = default;
};

/// "(x,y)", as SpiNNaker tools print chips; used in every error message about a chip.
std::string to_string(ChipCoord chip);

/// Inter-chip link ids as SpiNNaker numbers them. Source: SpiNNMachine machine.py LINK_ADD_TABLE:
/// 0=E(+1,0), 1=NE(+1,+1), 2=N(0,+1), 3=W(−1,0), 4=SW(−1,−1), 5=S(0,−1).
enum class Link : std::uint8_t { East = 0, NorthEast = 1, North = 2, West = 3, SouthWest = 4, South = 5 };

inline constexpr int kLinksPerChip = 6;
inline constexpr std::array<Link, kLinksPerChip> kAllLinks = {Link::East,  Link::NorthEast, Link::North,
                                                               Link::West,  Link::SouthWest, Link::South};

constexpr int link_index(Link l) { return static_cast<int>(l); }
/// The link with id `id` (0..5); ids outside 0..5 are reduced modulo 6.
constexpr Link link_from_index(int id) { return static_cast<Link>(((id % 6) + 6) % 6); }
/// The link a packet sent on `l` arrives on at the neighbour (E↔W, NE↔SW, N↔S): id + 3 mod 6.
constexpr Link opposite(Link l) { return link_from_index(link_index(l) + 3); }
/// (dx, dy) of one hop along `l`, from LINK_ADD_TABLE.
constexpr std::pair<int, int> link_delta(Link l) {
  constexpr std::array<std::pair<int, int>, 6> kDelta = {{{1, 0}, {1, 1}, {0, 1}, {-1, 0}, {-1, -1}, {0, -1}}};
  return kDelta[static_cast<std::size_t>(link_index(l))];
}
/// "E", "NE", "N", "W", "SW", "S".
const char* link_name(Link l);

/// Resources of one SpiNNaker 1 chip.
struct ChipParams {
  /// ARM968 cores per chip. Source: spinnaker_tools include/spinnaker.h NUM_CPUS 18.
  int n_cores = 18;
  /// Cores reserved on every chip (not available to applications): the SCAMP monitor (core 0)
  /// and sPyNNaker's default advanced-monitor "extra monitor" (reinjection, fast I/O), leaving
  /// ≤16 application cores. Source: reference §3 (sPyNNaker 7.x application cores ≤16).
  int n_reserved_cores = 2;
  /// Further cores reserved on Ethernet chips (sPyNNaker's packet gatherer, ≤15 application
  /// cores there, reference §3). Assumption: 0, i.e. no packet gatherer — the model loads no
  /// data over the fast data-in path; settled by `n_user_processors` of an Ethernet chip in a
  /// sPyNNaker 7 machine description of a live SpiNN-5 board. (Reserving it leaves the seed's
  /// figures unchanged in count — 767 ≥ 760 cores on a board — but moves placements.)
  int n_extra_reserved_cores_ethernet = 0;
  /// Data tightly-coupled memory per core, bytes. Source: spinnaker.h (64 KB DTCM).
  std::int64_t dtcm_bytes = 64 * 1024;
  /// Instruction tightly-coupled memory per core, bytes. Source: spinnaker.h (32 KB ITCM).
  std::int64_t itcm_bytes = 32 * 1024;
  /// SDRAM per chip, bytes (shared by all cores). Source: reference §3 (128 MB).
  std::int64_t sdram_bytes = 128LL * 1024 * 1024;
  /// SDRAM usable by applications per chip, bytes. Source: SpiNNMachine version_spin1.py
  /// (123,469,792 B).
  std::int64_t sdram_usable_bytes = 123'469'792;
  /// System RAM per chip, bytes. Source: reference §3 (32 KB SysRAM).
  std::int64_t sysram_bytes = 32 * 1024;

  /// Application cores on a chip (Ethernet chips may reserve more).
  int application_cores(bool ethernet_chip) const {
    return n_cores - n_reserved_cores - (ethernet_chip ? n_extra_reserved_cores_ethernet : 0);
  }
};

/// Vertex property of the Boost.Graph machine view: the chip and its index in Machine::chips().
struct ChipVertex {
  ChipCoord chip;
};
/// Edge property: the link (as numbered on the source chip) that the directed edge uses.
struct LinkEdge {
  Link link = Link::East;
};
/// Directed graph of live chips and live links, one edge per direction; vertex i is
/// Machine::chips()[i]. Out-edges of a vertex are in link order 0..5.
using MachineGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, ChipVertex, LinkEdge>;

/// A SpiNNaker 1 machine: which chips exist (and are alive), their links, and distances.
/// Immutable after construction; cheap to copy.
class Machine {
 public:
  enum class Kind : std::uint8_t {
    /// SpiNN-3: 4 chips in a 2×2 square, no wrap-around. Source: reference §3 / SpiNNMachine
    /// version_3 (assumption: all 4 chips have all in-square links).
    Spinn3,
    /// SpiNN-5: one 48-chip hexagonal board in an 8×8 box, Ethernet chip (0,0), no wrap-around.
    Spinn5,
    /// `triads_x × triads_y` triads of 3 boards: a (12·triads_x) × (12·triads_y) torus.
    Triads,
  };

  struct Params {
    /// Which machine. Default: one SpiNN-5 board.
    Kind kind = Kind::Spinn5;
    /// Triads along x (Kind::Triads only); the machine is 12·triads_x chips wide.
    int triads_x = 1;
    /// Triads along y (Kind::Triads only); the machine is 12·triads_y chips high.
    int triads_y = 1;
    /// Chip resources (same for every chip).
    ChipParams chip;
    /// Chips that are dead (faults): they do not exist for routing or placement. Each must be a
    /// chip of the layout, else the constructor throws InputError.
    std::vector<ChipCoord> dead_chips;
    /// Dead links, as (chip, link on that chip). A dead link is unusable in both directions
    /// (assumption: one fault kills the physical link pair).
    std::vector<std::pair<ChipCoord, Link>> dead_links;

    /// Params for the smallest machine with at least `n_boards` boards: 1 → SpiNN-5, otherwise
    /// triads (3 boards each) arranged as close to square as possible. Throws InputError for
    /// n_boards < 1.
    static Params for_boards(int n_boards);
    static Params spinn3() { Params p; p.kind = Kind::Spinn3; return p; }
    static Params spinn5() { Params p; p.kind = Kind::Spinn5; return p; }
    static Params triads(int x, int y) { Params p; p.kind = Kind::Triads; p.triads_x = x; p.triads_y = y; return p; }
  };

  /// Builds the layout; throws InputError on non-positive triad counts or a dead chip/link that
  /// is not part of the layout.
  Machine() : Machine(Params{}) {}
  explicit Machine(Params params);

  const Params& params() const { return params_; }
  const ChipParams& chip_params() const { return params_.chip; }
  /// Width and height of the coordinate space (bounding box; the torus size when wrapping).
  int width() const { return width_; }
  int height() const { return height_; }
  /// True when links wrap around (a triad torus); single boards do not wrap.
  bool wraps() const { return wraps_; }
  /// Number of boards (1 for SpiNN-3 and SpiNN-5).
  int n_boards() const { return n_boards_; }

  /// Live chips, sorted by (x, y). Index i here is vertex i of graph() and chip_index().
  const std::vector<ChipCoord>& chips() const { return chips_; }
  int n_chips() const { return static_cast<int>(chips_.size()); }
  /// True if `c` is a live chip of this machine (coordinates are not wrapped).
  bool has_chip(ChipCoord c) const { return chip_index(c) >= 0; }
  /// Index of a live chip in chips(), or −1.
  int chip_index(ChipCoord c) const;
  /// True if the chip is part of the layout (alive or dead).
  bool in_layout(ChipCoord c) const;
  /// True for Ethernet-connected chips (board origins): (0,0) on a board; on triads where
  /// x%4==0 && (x+y)%12==0 (version_48_chips.py).
  bool is_ethernet(ChipCoord c) const;
  /// Ethernet chip of the board holding `c` (c must be in the layout).
  ChipCoord ethernet_chip_of(ChipCoord c) const;
  /// Application cores available on a chip (ChipParams::application_cores).
  int application_cores(ChipCoord c) const { return params_.chip.application_cores(is_ethernet(c)); }
  /// Total application cores over live chips.
  int total_application_cores() const;

  /// The chip one hop along `l` from `c` (with wrap-around on a torus), if that chip is alive and
  /// the link is alive; std::nullopt otherwise (edge of a board, dead chip, dead link).
  std::optional<ChipCoord> neighbour(ChipCoord c, Link l) const;
  /// True if the link (c, l) is usable: both ends alive and the link not dead.
  bool link_alive(ChipCoord c, Link l) const { return neighbour(c, l).has_value(); }

  /// Minimal lattice vector (dx, dy) from a to b, choosing the shortest wrap on a torus.
  std::pair<int, int> minimal_vector(ChipCoord a, ChipCoord b) const;
  /// Hop distance on the fault-free triangular lattice (with wrap-around on a torus):
  /// max(|dx|,|dy|) if dx and dy have the same sign, else |dx|+|dy|. Ignores dead chips/links.
  int geometric_hops(ChipCoord a, ChipCoord b) const;
  /// Shortest-path hop count over live chips and links (breadth-first), or −1 if unreachable.
  int hops(ChipCoord a, ChipCoord b) const;
  /// One shortest path over live chips and links, as the links taken from `a`; deterministic
  /// (ties broken by exploring links in id order 0..5). Empty if a == b; std::nullopt if b is
  /// unreachable or either chip is not live.
  std::optional<std::vector<Link>> shortest_path(ChipCoord a, ChipCoord b) const;
  /// Hop counts from `a` to every live chip (indexed as chips()), −1 where unreachable.
  std::vector<int> hops_from(ChipCoord a) const;

  /// Boost.Graph view of live chips and links (see MachineGraph).
  MachineGraph graph() const;

 private:
  std::int64_t cell(ChipCoord c) const { return static_cast<std::int64_t>(c.y) * width_ + c.x; }
  ChipCoord wrap(int x, int y) const;

  Params params_;
  int width_ = 0;
  int height_ = 0;
  bool wraps_ = false;
  int n_boards_ = 1;
  std::vector<ChipCoord> chips_;
  /// Per cell of the width×height box: index into chips_ (live), −2 dead chip in layout, −1 none.
  std::vector<int> cell_index_;
  /// Per live chip: bit l set if link l is dead.
  std::vector<std::uint8_t> dead_link_bits_;
  /// Per cell: Ethernet chip of the board holding it.
  std::vector<ChipCoord> ethernet_of_;
};

/// The 48 chips of one SpiNN-5 board relative to its Ethernet chip, sorted by (x, y).
/// Source: SpiNNMachine version_5.py CHIPS_PER_BOARD.
const std::vector<ChipCoord>& spinn5_board_chips();

}  // namespace grindstone::hw::s1
