#pragma once
// Per-sample tensor shapes (no batch dimension). Grindstone keeps image tensors channels-last,
// (height, width, channels), whatever the Keras data_format; importers translate.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace grindstone {

struct Shape {
  std::vector<std::int64_t> dims;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> d) : dims(d) {}
  explicit Shape(std::vector<std::int64_t> d) : dims(std::move(d)) {}

  std::size_t rank() const { return dims.size(); }
  std::int64_t operator[](std::size_t i) const { return dims.at(i); }
  /// Number of elements; 1 for rank 0.
  std::int64_t size() const;
  /// "(28, 28, 1)" — as Keras prints shapes, without the batch dimension.
  std::string to_string() const;

  friend bool operator==(const Shape&, const Shape&) = default;
};

}  // namespace grindstone
