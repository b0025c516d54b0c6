#pragma once
// Small hand-built ANN models for the pass tests (deterministic pseudo-random weights).
#include <string>

#include "common/random.hpp"
#include "converter/ann/model.hpp"

namespace grindstone::passes::testing {

/// Appends layers to a chain model, inferring each output shape.
class ChainBuilder {
 public:
  explicit ChainBuilder(Shape input_shape, std::uint64_t seed = 1);
  ChainBuilder& add(const std::string& name, ann::LayerParams params, const std::string& keras_class = "");
  ChainBuilder& dense(const std::string& name, int units, float scale = 0.3f);
  ChainBuilder& conv(const std::string& name, int k, int filters, ann::Padding padding, float scale = 0.3f);
  ChainBuilder& step(const std::string& name, float sharpness = 1.0f);  ///< Spiking_BRelu
  ChainBuilder& relu(const std::string& name);
  ChainBuilder& max_pool(const std::string& name, int size = 2, ann::Padding padding = ann::Padding::Valid);
  ChainBuilder& flatten(const std::string& name, ann::Flatten::Order order = ann::Flatten::Order::HWC);
  ChainBuilder& batch_norm(const std::string& name);
  ChainBuilder& softmax_decode(const std::string& name, int classes);
  const Shape& shape() const { return model_.layers.back().output_shape; }
  ann::Model build() const { return model_; }

 private:
  float next(float scale);  ///< uniform in [−scale, scale)
  ann::Model model_;
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
};

}  // namespace grindstone::passes::testing
