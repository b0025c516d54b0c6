#include "hw_model/spinnaker2/noc.hpp"

#include <cstdlib>

#include "common/error.hpp"

namespace grindstone::hw::s2 {

Noc::Stats& Noc::Stats::operator+=(const Stats& o) {
  transfers += o.transfers;
  bytes += o.bytes;
  flits += o.flits;
  byte_hops += o.byte_hops;
  chip_link_bytes += o.chip_link_bytes;
  return *this;
}

Noc::Noc() : Noc(Params{}) {}

Noc::Noc(Params params) : params_(params) {
  if (params_.flit_bits < 8 || params_.flits_per_cycle < 1 || params_.mesh_columns < 1 ||
      params_.chip_link_bytes_per_second <= 0)
    throw InputError("Noc: flit_bits ≥ 8, flits_per_cycle ≥ 1, mesh_columns ≥ 1 and a positive link bandwidth are required");
}

std::int64_t Noc::hops(int from_qpe, int to_qpe) const {
  const int c = params_.mesh_columns;
  return std::abs(from_qpe % c - to_qpe % c) + std::abs(from_qpe / c - to_qpe / c);
}

NocCycles Noc::transfer(int from_qpe, int to_qpe, std::int64_t bytes) {
  if (bytes <= 0) return NocCycles(0);
  const std::int64_t flit_bytes = params_.flit_bits / 8;
  const std::int64_t flits = (bytes + flit_bytes - 1) / flit_bytes;
  const std::int64_t h = hops(from_qpe, to_qpe);
  stats_.transfers += 1;
  stats_.bytes += bytes;
  stats_.flits += flits;
  stats_.byte_hops += bytes * h;
  return params_.cycles_per_hop * h + NocCycles((flits + params_.flits_per_cycle - 1) / params_.flits_per_cycle);
}

Seconds Noc::transfer_between_chips(std::int64_t bytes) {
  if (bytes <= 0) return Seconds(0.0);
  stats_.transfers += 1;
  stats_.chip_link_bytes += bytes;
  return Seconds(params_.chip_link_latency.value + static_cast<double>(bytes) / params_.chip_link_bytes_per_second);
}

}  // namespace grindstone::hw::s2
