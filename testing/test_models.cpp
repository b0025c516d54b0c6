#include "testing/test_models.hpp"

#include <stdexcept>

namespace grindstone::passes::testing {

ChainBuilder::ChainBuilder(Shape input_shape, std::uint64_t seed) : seed_(seed) {
  ann::Layer in;
  in.name = "input";
  in.keras_class = "InputLayer";
  in.params = ann::InputLayer{};
  in.output_shape = std::move(input_shape);
  model_.name = "test";
  model_.layers.push_back(std::move(in));
  model_.output = 0;
}

int ChainBuilder::index_of(const std::string& layer) const {
  for (std::size_t i = 0; i < model_.layers.size(); ++i)
    if (model_.layers[i].name == layer) return static_cast<int>(i);
  throw std::invalid_argument("ChainBuilder: no layer '" + layer + "'");
}

ChainBuilder& ChainBuilder::from(const std::string& layer) {
  from_ = index_of(layer);
  return *this;
}

ChainBuilder& ChainBuilder::merge(const std::string& name, const std::string& other, ann::MergeKind kind) {
  ann::Layer l;
  l.name = name;
  l.keras_class = kind == ann::MergeKind::Add ? "Add" : "Merge";
  l.params = ann::Merge{kind};
  l.inputs = {static_cast<int>(model_.layers.size()) - 1, index_of(other)};
  l.output_shape = ann::infer_output_shape(l, {model_.layers.back().output_shape,
                                               model_.layers.at(static_cast<std::size_t>(l.inputs[1])).output_shape});
  from_ = -1;
  model_.layers.push_back(std::move(l));
  model_.output = static_cast<int>(model_.layers.size()) - 1;
  return *this;
}

float ChainBuilder::next(float scale) {
  return static_cast<float>((random_uniform(seed_, 7, counter_++) * 2.0 - 1.0) * scale);
}

ChainBuilder& ChainBuilder::add(const std::string& name, ann::LayerParams params, const std::string& keras_class) {
  ann::Layer l;
  l.name = name;
  l.keras_class = keras_class;
  l.params = std::move(params);
  l.inputs = {reads()};
  l.output_shape = ann::infer_output_shape(l, {shape()});
  from_ = -1;
  model_.layers.push_back(std::move(l));
  model_.output = static_cast<int>(model_.layers.size()) - 1;
  return *this;
}

ChainBuilder& ChainBuilder::dense(const std::string& name, int units, float scale) {
  ann::Dense d;
  const auto in = shape().dims.back();
  d.kernel.resize(in, units);
  for (Eigen::Index i = 0; i < d.kernel.size(); ++i) d.kernel.data()[i] = next(scale);
  d.bias.resize(units);
  for (int i = 0; i < units; ++i) d.bias[i] = next(scale);
  return add(name, d, "Dense");
}

ChainBuilder& ChainBuilder::conv(const std::string& name, int k, int filters, ann::Padding padding, float scale) {
  ann::Conv2D c;
  c.kernel_h = c.kernel_w = k;
  c.in_channels = static_cast<int>(shape()[2]);
  c.filters = filters;
  c.padding = padding;
  c.kernel.resize(static_cast<Eigen::Index>(k) * k * c.in_channels, filters);
  for (Eigen::Index i = 0; i < c.kernel.size(); ++i) c.kernel.data()[i] = next(scale);
  c.bias.resize(filters);
  for (int i = 0; i < filters; ++i) c.bias[i] = next(scale);
  return add(name, c, "Conv2D");
}

ChainBuilder& ChainBuilder::step(const std::string& name, float sharpness) {
  ann::Activation a;
  a.kind = ann::ActivationKind::SpikingBRelu;
  a.sharpness = sharpness;
  return add(name, a, "Spiking_BRelu");
}

ChainBuilder& ChainBuilder::relu(const std::string& name) {
  ann::Activation a;
  a.kind = ann::ActivationKind::ReLU;
  return add(name, a, "Activation");
}

ChainBuilder& ChainBuilder::max_pool(const std::string& name, int size, ann::Padding padding) {
  ann::Pool2D p;
  p.pool_h = p.pool_w = p.stride_h = p.stride_w = size;
  p.padding = padding;
  return add(name, p, "MaxPooling2D");
}

ChainBuilder& ChainBuilder::flatten(const std::string& name, ann::Flatten::Order order) {
  ann::Flatten f;
  f.order = order;
  return add(name, f, "Flatten");
}

ChainBuilder& ChainBuilder::batch_norm(const std::string& name) {
  ann::BatchNorm b;
  const auto c = shape().dims.back();
  b.gamma.resize(c);
  b.beta.resize(c);
  b.moving_mean.resize(c);
  b.moving_variance.resize(c);
  for (Eigen::Index i = 0; i < c; ++i) {
    b.gamma[i] = 1.0f + next(0.5f);
    b.beta[i] = next(0.5f);
    b.moving_mean[i] = next(0.5f);
    b.moving_variance[i] = 0.5f + next(0.4f);
  }
  b.epsilon = 1e-3f;
  return add(name, b, "BatchNormalization");
}

ChainBuilder& ChainBuilder::softmax_decode(const std::string& name, int classes) {
  ann::SoftmaxDecode s;
  const auto width = shape().dims.back();
  s.key = ann::Matrix::Zero(classes, width);
  for (Eigen::Index j = 0; j < width; ++j) s.key(j % classes, j) = 1.0f;
  return add(name, s, "Softmax_Decode");
}

ann::Model residual_identity_model(std::uint64_t seed) {
  return ChainBuilder(Shape{8, 8, 1}, seed)
      .conv("c1", 3, 4, ann::Padding::Same).step("s1")
      .conv("c2", 3, 4, ann::Padding::Same).step("s2")
      .conv("c3", 3, 4, ann::Padding::Same).merge("add", "s1").step("s3")
      .max_pool("p").flatten("f").dense("d", 6).step("s4")
      .build();
}

}  // namespace grindstone::passes::testing
