#include "common/shape.hpp"

namespace grindstone {

std::int64_t Shape::size() const {
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

std::string Shape::to_string() const {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  if (dims.size() == 1) s += ",";
  return s + ")";
}

}  // namespace grindstone
