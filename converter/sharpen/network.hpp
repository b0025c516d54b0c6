#pragma once
// A chain of trainable layers ending in Softmax_Decode (which outputs class scores), with the
// activations of the last forward pass kept for the backward pass.
#include <memory>
#include <string>
#include <vector>

#include "converter/ann/model.hpp"
#include "converter/sharpen/layers.hpp"

namespace grindstone::sharpen {

class Network {
 public:
  explicit Network(Shape input_shape) : input_shape_(std::move(input_shape)) {}

  /// Appends a layer; its input shape must equal the current output shape.
  void add(std::unique_ptr<TrainableLayer> layer);
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return layers_.empty() ? input_shape_ : layers_.back()->output_shape(); }
  const std::vector<std::unique_ptr<TrainableLayer>>& layers() const { return layers_; }

  /// Runs all layers; returns the last layer's output (class scores). `input` must outlive backward().
  const Batch& forward(const Batch& input, const StepContext& ctx);
  /// Back-propagates d(loss)/d(output of the last forward) and leaves every parameter gradient set.
  void backward(const Batch& grad_output);

  /// All tensors in layer order (trainable and moving statistics).
  std::vector<Parameter> parameters();
  /// The Spiking_BRelu layers in model order (Whetstone's "bottom-up" order).
  std::vector<SpikingBReluLayer*> spiking_layers();
  /// Sets every spiking layer's sharpness (values.size() must equal spiking_layers().size()).
  void set_sharpness(const std::vector<double>& values);
  std::vector<double> sharpness() const;

  /// Predicted classes (arg-max of the scores) of `inputs`, evaluated in blocks of `block` samples.
  std::vector<int> predict(const Batch& inputs, Eigen::Index block = 500);

  /// The inference model in ANN IR. With `fold_batch_norm`, each BatchNormalization is merged
  /// exactly into a neighbouring Dense/Conv2D: into the preceding one when it directly follows it
  /// (Keras: W' = W·γ/sqrt(var+ε), b' = γ(b−μ)/sqrt(var+ε) + β), else — when it follows an
  /// activation — into the next Dense through Dropout/Flatten (its input scale and shift become
  /// row scaling of the kernel and a bias change); a BatchNormalization that fits neither is kept.
  ann::Model to_ann_model(const std::string& name, bool fold_batch_norm) const;

 private:
  Shape input_shape_;
  std::vector<std::unique_ptr<TrainableLayer>> layers_;
  const Batch* input_ = nullptr;
  std::vector<Batch> outputs_;
  Batch grad_a_, grad_b_;
};

/// Keras-style unique layer names: "dense", "dense_1", … per base name.
class LayerNamer {
 public:
  std::string next(const std::string& base);
  /// Marks an existing name as used (so new names never collide with imported ones).
  void reserve(const std::string& name);

 private:
  std::vector<std::string> used_;
};

}  // namespace grindstone::sharpen
