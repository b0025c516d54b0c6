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
  /// The next layer reads `layer` instead of the last one added (a branch or a shortcut).
  ChainBuilder& from(const std::string& layer);
  /// A Merge (Add by default) of the last layer added and `other`.
  ChainBuilder& merge(const std::string& name, const std::string& other, ann::MergeKind kind = ann::MergeKind::Add);
  /// The shape the next layer reads.
  const Shape& shape() const { return model_.layers.at(static_cast<std::size_t>(reads())).output_shape; }
  ann::Model build() const { return model_; }

 private:
  float next(float scale);  ///< uniform in [−scale, scale)
  int reads() const { return from_ >= 0 ? from_ : static_cast<int>(model_.layers.size()) - 1; }
  int index_of(const std::string& layer) const;
  ann::Model model_;
  int from_ = -1;  ///< layer the next one reads (−1: the last)
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
};

/// A small residual binary network on 8×8×1 images: conv → step → conv → step → conv + identity
/// shortcut → step → max pool → dense 6 → step. Its outputs vary over random images (seed 12).
ann::Model residual_identity_model(std::uint64_t seed = 12);

}  // namespace grindstone::passes::testing
