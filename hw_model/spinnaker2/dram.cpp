#include "hw_model/spinnaker2/dram.hpp"

#include "common/error.hpp"

namespace grindstone::hw::s2 {

Dram::Stats& Dram::Stats::operator+=(const Stats& o) {
  reads += o.reads;
  bytes_read += o.bytes_read;
  busy += o.busy;
  return *this;
}

Dram::Dram() : Dram(Params{}) {}

Dram::Dram(Params params) : params_(params) {
  if (params_.channels < 1 || params_.bytes_per_second <= 0 || params_.capacity_bytes <= 0)
    throw InputError("Dram: channels, bandwidth and capacity must be positive");
}

Seconds Dram::read_time(std::int64_t bytes) const {
  if (bytes <= 0) return Seconds(0.0);
  return Seconds(params_.latency.value + static_cast<double>(bytes) / params_.bytes_per_second);
}

Seconds Dram::read(std::int64_t bytes) {
  const Seconds t = read_time(bytes);
  if (bytes > 0) {
    stats_.reads += 1;
    stats_.bytes_read += bytes;
    stats_.busy += Seconds(static_cast<double>(bytes) / params_.bytes_per_second);
  }
  return t;
}

}  // namespace grindstone::hw::s2
