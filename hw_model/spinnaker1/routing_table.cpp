#include "hw_model/spinnaker1/routing_table.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <map>

#include "common/error.hpp"

namespace grindstone::hw::s1 {

namespace {

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string fit_error(ChipCoord chip, int needed, int capacity) {
  return "chip " + to_string(chip) + ": routing table needs " + std::to_string(needed) +
         " entries after compression, the router holds " + std::to_string(capacity);
}

void validate_entry(const RoutingEntry& e, const std::string& context) {
  require_input((e.key & ~e.mask) == 0, context,
                "routing entry key " + hex32(e.key) + " has bits outside its mask " + hex32(e.mask));
  require_input(!e.route.empty(), context, "routing entry " + e.to_string() + " has an empty route");
  require_input((e.route.bits & ~(RouteWord::kLinkMask | RouteWord::kCoreMask)) == 0, context,
                "routing entry " + e.to_string() + " addresses a core beyond 17");
}

// Smallest ternary entry covering both: bits where either is don't-care, or where the keys
// differ, become don't-care.
RoutingEntry merge(const RoutingEntry& a, const RoutingEntry& b) {
  RoutingEntry m = a;
  m.mask = a.mask & b.mask & ~(a.key ^ b.key);
  m.key = a.key & m.mask;
  m.incoming = static_cast<std::uint8_t>(a.incoming | b.incoming);
  return m;
}

RouteWord first_match_outputs(const std::vector<RoutingEntry>& table, RoutingKey key, Arrival from, int* index) {
  for (std::size_t i = 0; i < table.size(); ++i)
    if (table[i].matches(key)) {
      *index = static_cast<int>(i);
      return table[i].route;
    }
  *index = -1;
  if (from.local) return RouteWord{};
  RouteWord r;
  r.add_link(opposite(from.link));
  return r;
}

}  // namespace

RouteWord& RouteWord::add_core(int core) {
  require_input(core >= 0 && core < kRouteCores, "route", "core " + std::to_string(core) + " is not 0..17");
  bits |= 1u << (6 + core);
  return *this;
}

int RouteWord::n_links() const { return std::popcount(link_bits()); }
int RouteWord::n_cores() const { return std::popcount(core_bits()); }

std::optional<Link> RouteWord::single_link() const {
  if (core_bits() != 0 || std::popcount(link_bits()) != 1) return std::nullopt;
  return link_from_index(std::countr_zero(link_bits()));
}

std::string RouteWord::to_string() const {
  std::string s = "links{";
  bool first = true;
  for (Link l : kAllLinks)
    if (has_link(l)) {
      s += (first ? "" : ",");
      s += link_name(l);
      first = false;
    }
  s += "} cores{";
  first = true;
  for (int c = 0; c < kRouteCores; ++c)
    if (has_core(c)) {
      if (!first) s += ',';
      s += std::to_string(c);
      first = false;
    }
  return s + "}";
}

std::uint64_t RoutingEntry::n_keys() const { return std::uint64_t{1} << std::popcount(~mask); }

bool RoutingEntry::defaultable() const {
  const auto l = route.single_link();
  if (!l) return false;
  return incoming == static_cast<std::uint8_t>(1u << link_index(opposite(*l)));
}

std::string RoutingEntry::to_string() const { return "key=" + hex32(key) + " mask=" + hex32(mask) + " -> " + route.to_string(); }

RoutingTable::RoutingTable(std::vector<RoutingEntry> entries, Params params) : params_(params) {
  entries_.reserve(entries.size());
  for (const auto& e : entries) add(e);
}

void RoutingTable::add(const RoutingEntry& e) {
  validate_entry(e, "routing table");
  entries_.push_back(e);
}

void RoutingTable::require_fits(ChipCoord chip) const {
  if (!fits()) throw InputError(fit_error(chip, size(), params_.capacity));
}

int RoutingTable::lookup_index(RoutingKey key) const {
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].matches(key)) return static_cast<int>(i);
  return -1;
}

RouteDecision RoutingTable::decide(RoutingKey key, Arrival from) const {
  RouteDecision d;
  d.entry_index = lookup_index(key);
  if (d.entry_index >= 0) {
    d.kind = RouteKind::Matched;
    d.route = entries_[static_cast<std::size_t>(d.entry_index)].route;
  } else if (!from.local) {
    d.kind = RouteKind::DefaultRouted;
    d.route.add_link(opposite(from.link));
  } else {
    d.kind = RouteKind::NoRouteDropped;
  }
  return d;
}

std::vector<RoutingEntry> compress_routing_table(const std::vector<RoutingEntry>& entries, ChipCoord chip,
                                                 const CompressionParams& params, CompressionStats* stats) {
  const std::string context = "chip " + to_string(chip);
  for (const auto& e : entries) validate_entry(e, context);
  // The input must not depend on order: two entries with different routes may not share a key.
  for (std::size_t i = 0; i < entries.size(); ++i)
    for (std::size_t j = i + 1; j < entries.size(); ++j)
      if (entries[i].route != entries[j].route && entries[i].intersects(entries[j]))
        throw InputError(context + ": routing entries " + std::to_string(i) + " (" + entries[i].to_string() + ") and " +
                         std::to_string(j) + " (" + entries[j].to_string() + ") overlap with different routes");

  CompressionStats local;
  local.original_entries = static_cast<int>(entries.size());
  std::vector<RoutingEntry> kept;
  std::vector<RoutingEntry> removed;  // defaultable: no merged entry may catch their keys
  for (const auto& e : entries) (params.remove_defaultable && e.defaultable() ? removed : kept).push_back(e);
  local.defaultable_removed = static_cast<int>(removed.size());

  std::vector<RoutingEntry> out;
  if (params.only_when_needed && static_cast<int>(kept.size()) <= params.table.capacity) {
    out = kept;
  } else {
    // Group by route; least frequent routes first (ties by route word), as PairCompressor.
    std::map<std::uint32_t, std::vector<RoutingEntry>> by_route;
    for (const auto& e : kept) by_route[e.route.bits].push_back(e);
    std::vector<std::vector<RoutingEntry>*> groups;
    for (auto& [route, group] : by_route) groups.push_back(&group);
    std::stable_sort(groups.begin(), groups.end(), [](const auto* a, const auto* b) { return a->size() < b->size(); });

    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      // A merge of this group must not catch keys of later (lower-priority) groups' original
      // entries, nor keys of removed defaultable entries (default routing must still see them).
      std::vector<RoutingEntry> later = removed;
      for (std::size_t gj = gi + 1; gj < groups.size(); ++gj) later.insert(later.end(), groups[gj]->begin(), groups[gj]->end());
      std::vector<RoutingEntry>& bucket = *groups[gi];
      std::size_t left = 0;
      while (left < bucket.size()) {
        bool merged = false;
        for (std::size_t idx = left + 1; idx < bucket.size(); ++idx) {
          const RoutingEntry m = merge(bucket[left], bucket[idx]);
          const bool clash = std::any_of(later.begin(), later.end(), [&](const RoutingEntry& b) { return m.intersects(b); });
          if (clash) continue;
          bucket[left] = m;
          bucket[idx] = bucket.back();
          bucket.pop_back();
          ++local.merges;
          merged = true;
          break;
        }
        if (!merged) {
          out.push_back(bucket[left]);
          ++left;
        }
      }
    }
  }
  local.compressed_entries = static_cast<int>(out.size());
  if (stats) *stats = local;
  if (local.compressed_entries > params.table.capacity)
    throw InputError(fit_error(chip, local.compressed_entries, params.table.capacity));
  return out;
}

std::optional<std::string> find_routing_difference(const std::vector<RoutingEntry>& original,
                                                   const std::vector<RoutingEntry>& compressed,
                                                   const std::vector<RoutingKey>& keys) {
  for (RoutingKey key : keys) {
    for (int a = -1; a < kLinksPerChip; ++a) {
      const Arrival from = a < 0 ? Arrival::from_core(0) : Arrival::from_link(link_from_index(a));
      int oi = -1;
      int ci = -1;
      const RouteWord want = first_match_outputs(original, key, from, &oi);
      // Only arrivals the original entry declares can happen (any if it declares none).
      if (oi >= 0) {
        const std::uint8_t incoming = original[static_cast<std::size_t>(oi)].incoming;
        const std::uint8_t bit = a < 0 ? RoutingEntry::kIncomingLocal : static_cast<std::uint8_t>(1u << a);
        if (incoming != 0 && (incoming & bit) == 0) continue;
      }
      const RouteWord got = first_match_outputs(compressed, key, from, &ci);
      if (want != got)
        return "key " + hex32(key) + " arriving " + (a < 0 ? std::string("from a local core") : std::string("on link ") + link_name(from.link)) +
               ": original routes " + want.to_string() + " (entry " + std::to_string(oi) + "), compressed routes " +
               got.to_string() + " (entry " + std::to_string(ci) + ")";
    }
  }
  return std::nullopt;
}

std::vector<RoutingKey> keys_in_use(const std::vector<RoutingEntry>& entries, std::uint64_t limit) {
  std::uint64_t total = 0;
  for (const auto& e : entries) {
    total += e.n_keys();
    require_input(total <= limit, "routing table", "more than " + std::to_string(limit) + " keys in use");
  }
  std::vector<RoutingKey> keys;
  keys.reserve(static_cast<std::size_t>(total));
  for (const auto& e : entries) {
    const std::uint32_t free_bits = ~e.mask;
    std::uint32_t sub = 0;
    do {
      keys.push_back(e.key | sub);
      sub = (sub - free_bits) & free_bits;
    } while (sub != 0);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace grindstone::hw::s1
