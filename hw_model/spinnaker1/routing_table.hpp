#pragma once
// SpiNNaker 1 multicast routing tables: ternary key/mask entries, first match wins, and table
// compression (order-exploiting pair merging) to fit the router's 1023 usable entries.
// Sources (reference §3, §4): MC_TABLE_SIZE 1024 with SYS_MC_ENTRIES=1 reserved by SCAMP
// (version_spin1.n_router_entries = 1023); route word bits 0–5 links, bit 6+p core p
// (routing_entry._calc_spinnaker_route); match (key & mask) == entry.key, lowest index wins;
// default routing (routing_entry.defaultable); PACMAN pair_compressor.py (PairCompressor, the
// model of SFEC's default PairOnChipRouterCompression).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hw_model/spinnaker1/packet.hpp"
#include "hw_model/spinnaker1/topology.hpp"

namespace grindstone::hw::s1 {

/// Multicast entries in the hardware table. Source: spinnaker.h MC_TABLE_SIZE 1024.
inline constexpr int kRouterTableEntries = 1024;
/// Entries SCAMP keeps for itself. Source: sark.h SYS_MC_ENTRIES = 1.
inline constexpr int kRouterSystemEntries = 1;
/// Entries usable by applications (version_spin1.n_router_entries = 1023): derived.
inline constexpr int kRouterUsableEntries = kRouterTableEntries - kRouterSystemEntries;
/// Cores a route word can address (bits 6..23).
inline constexpr int kRouteCores = 18;

/// A route word: bit l (0..5) sends the packet out on link l, bit 6+p delivers it to core p.
/// Source: routing_entry._calc_spinnaker_route.
struct RouteWord {
  std::uint32_t bits = 0;

  static constexpr std::uint32_t kLinkMask = 0x3Fu;
  static constexpr std::uint32_t kCoreMask = ((1u << kRouteCores) - 1u) << 6;

  constexpr bool empty() const { return bits == 0; }
  constexpr bool has_link(Link l) const { return (bits >> link_index(l)) & 1u; }
  constexpr bool has_core(int core) const { return (bits >> (6 + core)) & 1u; }
  constexpr RouteWord& add_link(Link l) { bits |= 1u << link_index(l); return *this; }
  /// Adds core `core` (0..17); InputError if out of range.
  RouteWord& add_core(int core);
  constexpr std::uint32_t link_bits() const { return bits & kLinkMask; }
  constexpr std::uint32_t core_bits() const { return (bits & kCoreMask) >> 6; }
  int n_links() const;
  int n_cores() const;
  /// Number of copies the router emits (links + cores).
  int fanout() const { return n_links() + n_cores(); }
  /// The single link this route uses if it is exactly one link and no core.
  std::optional<Link> single_link() const;
  /// e.g. "links{E,N} cores{1,5}".
  std::string to_string() const;
  friend constexpr bool operator==(RouteWord, RouteWord) = default;
};

/// Where a packet entered a router.
struct Arrival {
  /// True if it came from a core of this chip (its monitor or an application core).
  bool local = true;
  /// The link it arrived on (as numbered on this chip) when !local.
  Link link = Link::East;
  /// Source core when local (informational).
  int core = 0;

  static constexpr Arrival from_link(Link l) { Arrival a; a.local = false; a.link = l; return a; }
  static constexpr Arrival from_core(int c) { Arrival a; a.local = true; a.core = c; return a; }
};

/// One ternary entry: a packet matches if (key & mask) == entry.key. Bits with mask 0 are
/// "don't care". Invariant (checked by RoutingTable::add): (key & ~mask) == 0.
struct RoutingEntry {
  RoutingKey key = 0;
  std::uint32_t mask = 0xFFFFFFFFu;
  RouteWord route;
  /// Bit l (0..5): packets with these keys arrive on link l; bit 6: they come from a local core.
  /// Used only to decide defaultability; 0 means unknown (never defaultable).
  std::uint8_t incoming = 0;

  static constexpr std::uint8_t kIncomingLocal = 0x40;

  constexpr bool matches(RoutingKey k) const { return (k & mask) == key; }
  /// True if both entries match some common key: ((k1 ^ k2) & m1 & m2) == 0.
  constexpr bool intersects(const RoutingEntry& o) const { return ((key ^ o.key) & mask & o.mask) == 0; }
  /// True if every key matched by `o` is matched by this entry.
  constexpr bool covers(const RoutingEntry& o) const { return (mask & ~o.mask) == 0 && (o.key & mask) == key; }
  /// Number of keys matched: 2^(number of don't-care bits).
  std::uint64_t n_keys() const;
  /// True if default routing gives the same result without this entry: the route is exactly one
  /// link, no core, and every packet arrives on the opposite link (routing_entry.defaultable).
  bool defaultable() const;
  /// "key=0x.. mask=0x.. -> links{..} cores{..}".
  std::string to_string() const;
  friend constexpr bool operator==(const RoutingEntry&, const RoutingEntry&) = default;
};

/// What a router does with a packet, from the table alone (no timing, no congestion).
enum class RouteKind : std::uint8_t {
  /// An entry matched; `route` is its route word.
  Matched,
  /// No entry matched and the packet came from a link: sent out on the opposite link.
  DefaultRouted,
  /// No entry matched and the packet came from a local core: dropped (sent to the monitor,
  /// which drops it). Source: reference §3 (old constants.py, diagnostic filter 12).
  NoRouteDropped,
  /// An emergency-routed packet on its first leg: forwarded on (arrival + 1) without lookup.
  EmergencyForward,
};

struct RouteDecision {
  RouteKind kind = RouteKind::NoRouteDropped;
  /// Outputs (empty for NoRouteDropped).
  RouteWord route;
  /// Index of the matching entry, −1 if none.
  int entry_index = -1;
};

/// An ordered multicast routing table of one chip. Lookup is a linear first-match scan as in
/// hardware (use Router's memoised lookup on hot paths).
class RoutingTable {
 public:
  struct Params {
    /// Entries the router holds for applications: kRouterUsableEntries on hardware (the one
    /// home of the capacity; the mapper, the compressor and the router all take this struct),
    /// smaller only in tests.
    int capacity = kRouterUsableEntries;
  };

  RoutingTable() : RoutingTable(Params{}) {}
  explicit RoutingTable(Params params) : params_(params) {}
  explicit RoutingTable(std::vector<RoutingEntry> entries) : RoutingTable(std::move(entries), Params{}) {}
  RoutingTable(std::vector<RoutingEntry> entries, Params params);

  const Params& params() const { return params_; }
  /// Appends an entry (lowest priority so far). Throws InputError if (key & ~mask) != 0 or the
  /// route is empty. Does not enforce capacity (see fits() / require_fits()).
  void add(const RoutingEntry& e);
  const std::vector<RoutingEntry>& entries() const { return entries_; }
  int size() const { return static_cast<int>(entries_.size()); }
  bool fits() const { return size() <= params_.capacity; }
  /// Throws InputError "chip (x,y): routing table needs N entries after compression, the router
  /// holds 1023" if the table does not fit.
  void require_fits(ChipCoord chip) const;

  /// Index of the first entry matching `key`, or −1.
  int lookup_index(RoutingKey key) const;
  /// The full decision for a packet with `key` arriving at `from` (normal emergency state).
  RouteDecision decide(RoutingKey key, Arrival from) const;

 private:
  Params params_;
  std::vector<RoutingEntry> entries_;
};

/// Table compression.
struct CompressionParams {
  /// The table the compressed entries must fit in.
  RoutingTable::Params table;
  /// Drop defaultable entries whose keys no other entry can catch (routing_entry.defaultable;
  /// OrderedCovering and the on-chip compressors remove them).
  bool remove_defaultable = true;
  /// Skip merging when the table already fits after removing defaultable entries (saves time;
  /// SFEC compresses only tables that do not fit — assumption: "compress_only_when_needed").
  bool only_when_needed = false;
};

struct CompressionStats {
  int original_entries = 0;
  int defaultable_removed = 0;
  int merges = 0;
  int compressed_entries = 0;
  double ratio() const { return original_entries ? static_cast<double>(compressed_entries) / original_entries : 1.0; }
};

/// Compresses an order-independent table (no key matched by two entries with different routes;
/// otherwise InputError naming the chip and both entries) into an ordered one with the same
/// routing for every key the original routes — including keys of removed defaultable entries,
/// which default routing must still handle, so no merged entry may match them. Keys no original
/// entry matches are "don't care" unless they arrive on a link (default routing): pass defaultable
/// entries (with `incoming` set) rather than omitting them.
/// Algorithm: PACMAN PairCompressor (ordered): group by route, groups sorted by frequency
/// (least frequent first, ties by route word), greedily merge pairs within a group into their
/// smallest covering key/mask when the merge does not intersect any entry of a later group (or a
/// removed defaultable entry). Earlier groups are written first and so take priority: a merge
/// may overlap their entries freely, and their own merges were checked against this group's
/// original keys. This is what lets the most frequent route (last) merge the most.
/// Throws InputError "chip (x,y): routing table needs N entries after compression, the router
/// holds C" if the result does not fit `params.capacity`.
std::vector<RoutingEntry> compress_routing_table(const std::vector<RoutingEntry>& entries, ChipCoord chip,
                                                 const CompressionParams& params = {},
                                                 CompressionStats* stats = nullptr);

/// Checks that `compressed` routes every key in `keys` as `original` does, for packets arriving
/// on any link and from a local core (RoutingTable::decide). Returns a description of the first
/// difference, or std::nullopt if they agree.
std::optional<std::string> find_routing_difference(const std::vector<RoutingEntry>& original,
                                                   const std::vector<RoutingEntry>& compressed,
                                                   const std::vector<RoutingKey>& keys);

/// Every key matched by any entry of `entries` (expanding don't-care bits), sorted and unique.
/// Throws InputError if that would exceed `limit` keys.
std::vector<RoutingKey> keys_in_use(const std::vector<RoutingEntry>& entries, std::uint64_t limit = 1u << 22);

}  // namespace grindstone::hw::s1
