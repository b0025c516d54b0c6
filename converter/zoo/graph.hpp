#pragma once
// A Keras functional-model description built layer by layer: each call adds one Keras layer
// with the class, name and config keras.applications gives it, tracks its output shape, weight
// shapes and multiply-accumulates, and returns its name for the next call. The graph writes a
// Keras 2 full-model HDF5 (seeded He-normal kernels, generated one layer at a time) that the
// importer and every other command read like a file Keras saved.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/shape.hpp"

namespace grindstone::zoo {

using Json = nlohmann::ordered_json;

enum class Init { HeNormal, Zeros, Ones };

struct WeightShape {
  std::string name;                ///< "kernel", "bias", "gamma", …
  std::vector<std::int64_t> dims;  ///< Keras's shape
  Init init = Init::Zeros;
  std::int64_t fan_in = 1;         ///< He-normal only: inputs per output
  std::int64_t size() const;
};

struct ZooLayer {
  std::string keras_class, name;
  Json config;
  std::vector<std::string> inbound;
  std::vector<WeightShape> weights;
  Shape output_shape;  ///< per sample, channels-last
  std::int64_t macs = 0;
  std::int64_t params() const;
};

class Graph {
 public:
  explicit Graph(std::string model_name) : name_(std::move(model_name)) {}

  std::string input(const std::string& name, const Shape& shape);
  /// Conv2D with square kernel/stride; `activation` fused ("linear", "relu").
  std::string conv2d(const std::string& name, const std::string& from, std::int64_t filters, int kernel, int stride,
                     const std::string& padding, bool use_bias, const std::string& activation = "linear");
  std::string depthwise_conv2d(const std::string& name, const std::string& from, int kernel, int stride,
                               const std::string& padding, bool use_bias);
  std::string batch_norm(const std::string& name, const std::string& from, double epsilon, int axis);
  std::string activation(const std::string& name, const std::string& from, const std::string& kind);
  std::string relu(const std::string& name, const std::string& from, double max_value);
  std::string zero_pad(const std::string& name, const std::string& from, int top, int bottom, int left, int right);
  std::string max_pool(const std::string& name, const std::string& from, int pool, int stride, const std::string& padding);
  std::string global_average_pool(const std::string& name, const std::string& from);
  std::string flatten(const std::string& name, const std::string& from);
  std::string reshape(const std::string& name, const std::string& from, const Shape& target);
  std::string dropout(const std::string& name, const std::string& from, double rate);
  std::string dense(const std::string& name, const std::string& from, std::int64_t units, const std::string& activation);
  std::string add(const std::string& name, const std::vector<std::string>& from);

  void set_output(const std::string& name) { output_ = name; }
  const std::vector<ZooLayer>& layers() const { return layers_; }
  const ZooLayer& layer(const std::string& name) const;
  const std::string& name() const { return name_; }
  std::int64_t params() const;
  std::int64_t macs() const;

  /// The Keras 2 model_config JSON (class "Functional").
  Json model_config() const;
  /// Writes the Keras 2 full-model HDF5; weights are seeded by (`seed`, layer index).
  void save(const std::filesystem::path& path, std::uint64_t seed) const;

 private:
  ZooLayer& push(std::string cls, const std::string& name, Json config, std::vector<std::string> inbound);
  const Shape& shape_of(const std::string& name) const;

  std::string name_;
  std::string input_, output_;
  std::vector<ZooLayer> layers_;
};

/// He-normal values (truncated at two standard deviations and rescaled, as Keras's
/// VarianceScaling(2, fan_in, truncated_normal)), or constants; deterministic for (`seed`, `stream`).
std::vector<float> initial_values(const WeightShape& w, std::uint64_t seed, std::uint64_t stream);

}  // namespace grindstone::zoo
