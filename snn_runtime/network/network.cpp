#include "snn_runtime/network/network.hpp"

namespace grindstone::snn {

int Network::find(const std::string& population_name) const {
  for (std::size_t i = 0; i < populations.size(); ++i)
    if (populations[i].name == population_name) return static_cast<int>(i);
  return -1;
}

}  // namespace grindstone::snn
