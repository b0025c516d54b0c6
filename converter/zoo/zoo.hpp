#pragma once
// The model zoo: standard architectures as keras.applications builds them (same layer names,
// classes and configs), so timing studies and tests need no download.
#include <optional>
#include <string>
#include <vector>

#include "common/shape.hpp"
#include "converter/zoo/graph.hpp"

namespace grindstone::zoo {

struct ZooOptions {
  /// Per-sample input (H, W, C); nullopt: the architecture's default (224×224×3 for ImageNet).
  std::optional<Shape> input_shape;
  /// Classes of the top layer; nullopt: the architecture's default (1000 for ImageNet).
  std::optional<std::int64_t> classes;
};

/// Names `build` accepts.
std::vector<std::string> zoo_names();

/// The architecture `name` with `options`; InputError naming the field for an unknown name or
/// an input too small for the architecture.
Graph build(const std::string& name, const ZooOptions& options = {});

Graph vgg16(const Shape& input, std::int64_t classes);
Graph resnet50(const Shape& input, std::int64_t classes);
Graph mobilenet(const Shape& input, std::int64_t classes);

}  // namespace grindstone::zoo
