#include "converter/sharpen/keras_writer.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/error.hpp"
#include "converter/keras/keras2_h5_writer.hpp"

namespace grindstone::sharpen {

namespace {

using Json = nlohmann::ordered_json;

using Weight = keras::SavedWeight;

std::vector<float> row_major(const ann::Matrix& m) {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = m;
  return {r.data(), r.data() + r.size()};
}

std::vector<float> to_vector(const ann::Vector& v) { return {v.data(), v.data() + v.size()}; }

Json initializer(const std::string& name) { return Json{{"class_name", name}, {"config", Json::object()}}; }

Json shape_json(const Shape& s) {
  Json shape = Json::array({nullptr});
  for (auto d : s.dims) shape.push_back(d);
  return shape;
}

std::string padding_name(ann::Padding p) { return p == ann::Padding::Same ? "same" : "valid"; }

std::string activation_name(ann::ActivationKind kind, const std::string& context) {
  switch (kind) {
    case ann::ActivationKind::Linear: return "linear";
    case ann::ActivationKind::ReLU: return "relu";
    case ann::ActivationKind::Sigmoid: return "sigmoid";
    case ann::ActivationKind::Tanh: return "tanh";
    case ann::ActivationKind::Softmax: return "softmax";
    default: throw InputError(context + ": activation cannot be saved as a Keras Activation layer");
  }
}

/// The layers to save (Identity skipped), in chain order after the input.
std::vector<const ann::Layer*> saved_layers(const ann::Model& model) {
  std::vector<const ann::Layer*> layers;
  for (const auto& layer : model.layers)
    if (!layer.is<ann::InputLayer>() && !layer.is<ann::Identity>()) layers.push_back(&layer);
  return layers;
}

/// Keras class and config of one layer, plus its weights.
Json layer_config(const ann::Layer& layer, std::vector<Weight>* weights) {
  const std::string ctx = "layer '" + layer.name + "'";
  Json config{{"name", layer.name}, {"trainable", true}, {"dtype", "float32"}};
  std::string cls;
  if (const auto* d = std::get_if<ann::Dense>(&layer.params)) {
    cls = "Dense";
    config["units"] = d->kernel.cols();
    config["activation"] = "linear";
    config["use_bias"] = true;
    config["kernel_initializer"] = Json{{"class_name", "GlorotUniform"}, {"config", {{"seed", nullptr}}}};
    config["bias_initializer"] = initializer("Zeros");
    for (const char* k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                          "bias_constraint"})
      config[k] = nullptr;
    if (weights) {
      weights->push_back({"kernel", {static_cast<hsize_t>(d->kernel.rows()), static_cast<hsize_t>(d->kernel.cols())},
                          row_major(d->kernel)});
      weights->push_back({"bias", {static_cast<hsize_t>(d->bias.size())}, to_vector(d->bias)});
    }
  } else if (const auto* c = std::get_if<ann::Conv2D>(&layer.params)) {
    cls = "Conv2D";
    config["filters"] = c->filters;
    config["kernel_size"] = {c->kernel_h, c->kernel_w};
    config["strides"] = {c->stride_h, c->stride_w};
    config["padding"] = padding_name(c->padding);
    config["data_format"] = "channels_last";
    config["dilation_rate"] = {c->dilation_h, c->dilation_w};
    config["groups"] = 1;
    config["activation"] = "linear";
    config["use_bias"] = true;
    config["kernel_initializer"] = Json{{"class_name", "GlorotUniform"}, {"config", {{"seed", nullptr}}}};
    config["bias_initializer"] = initializer("Zeros");
    for (const char* k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                          "bias_constraint"})
      config[k] = nullptr;
    if (weights) {
      // (kh·kw·cin, cout) row-major is Keras's (kh, kw, cin, cout) C-order array.
      weights->push_back({"kernel",
                          {static_cast<hsize_t>(c->kernel_h), static_cast<hsize_t>(c->kernel_w),
                           static_cast<hsize_t>(c->in_channels), static_cast<hsize_t>(c->filters)},
                          row_major(c->kernel)});
      weights->push_back({"bias", {static_cast<hsize_t>(c->bias.size())}, to_vector(c->bias)});
    }
  } else if (const auto* p = std::get_if<ann::Pool2D>(&layer.params)) {
    cls = p->kind == ann::PoolKind::Max ? "MaxPooling2D" : "AveragePooling2D";
    config["pool_size"] = {p->pool_h, p->pool_w};
    config["padding"] = padding_name(p->padding);
    config["strides"] = {p->stride_h, p->stride_w};
    config["data_format"] = "channels_last";
  } else if (const auto* f = std::get_if<ann::Flatten>(&layer.params)) {
    require_input(f->order == ann::Flatten::Order::HWC, ctx, "order: only channels_last Flatten can be saved");
    cls = "Flatten";
    config["data_format"] = "channels_last";
  } else if (const auto* bn = std::get_if<ann::BatchNorm>(&layer.params)) {
    cls = "BatchNormalization";
    config["axis"] = -1;
    config["momentum"] = 0.99;
    config["epsilon"] = bn->epsilon;
    config["center"] = true;
    config["scale"] = true;
    config["beta_initializer"] = initializer("Zeros");
    config["gamma_initializer"] = initializer("Ones");
    config["moving_mean_initializer"] = initializer("Zeros");
    config["moving_variance_initializer"] = initializer("Ones");
    for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
      config[k] = nullptr;
    if (weights) {
      const auto n = static_cast<hsize_t>(bn->gamma.size());
      weights->push_back({"gamma", {n}, to_vector(bn->gamma)});
      weights->push_back({"beta", {n}, to_vector(bn->beta)});
      weights->push_back({"moving_mean", {n}, to_vector(bn->moving_mean)});
      weights->push_back({"moving_variance", {n}, to_vector(bn->moving_variance)});
    }
  } else if (const auto* a = std::get_if<ann::Activation>(&layer.params)) {
    if (a->kind == ann::ActivationKind::SpikingBRelu || a->kind == ann::ActivationKind::SpikingSigmoid) {
      cls = a->kind == ann::ActivationKind::SpikingBRelu ? "Spiking_BRelu" : "Spiking_Sigmoid";
      config["sharpness"] = a->sharpness;
    } else {
      require_input(a->kind != ann::ActivationKind::ReLU ||
                        (!a->relu_max_value && a->relu_negative_slope == 0.0f && a->relu_threshold == 0.0f),
                    ctx, "activation: a parameterised ReLU cannot be saved as an Activation layer");
      cls = "Activation";
      config["activation"] = activation_name(a->kind, ctx);
    }
  } else if (const auto* sd = std::get_if<ann::SoftmaxDecode>(&layer.params)) {
    cls = "Softmax_Decode";
    Json key = Json::array();
    for (Eigen::Index r = 0; r < sd->key.rows(); ++r) {
      Json row = Json::array();
      for (Eigen::Index col = 0; col < sd->key.cols(); ++col) row.push_back(static_cast<double>(sd->key(r, col)));
      key.push_back(std::move(row));
    }
    config["key"] = std::move(key);
  } else {
    throw InputError(ctx + ": class " + layer.keras_class + " cannot be saved");
  }
  return Json{{"class_name", cls}, {"config", std::move(config)}};
}

}  // namespace

std::string keras_model_config(const ann::Model& model) {
  const auto layers = saved_layers(model);
  // Sequential only: every saved layer reads the previous one.
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const auto& layer = model.layers[i];
    require_input(layer.is<ann::InputLayer>() || (layer.inputs.size() == 1 && layer.inputs[0] == static_cast<int>(i) - 1),
                  "layer '" + layer.name + "'", "inputs: only chains (Sequential models) can be saved");
  }
  Json list = Json::array();
  const Shape& input_shape = model.input_shape();
  list.push_back(Json{{"class_name", "InputLayer"},
                      {"config",
                       {{"batch_input_shape", shape_json(input_shape)},
                        {"dtype", "float32"},
                        {"sparse", false},
                        {"ragged", false},
                        {"name", model.layers.at(static_cast<std::size_t>(model.input_index())).name}}}});
  for (std::size_t i = 0; i < layers.size(); ++i) {
    Json entry = layer_config(*layers[i], nullptr);
    if (i == 0) entry["config"]["batch_input_shape"] = shape_json(input_shape);
    list.push_back(std::move(entry));
  }
  Json root{{"class_name", "Sequential"},
            {"config", {{"name", model.name.empty() ? "sequential" : model.name}, {"layers", std::move(list)}}}};
  return root.dump();
}

void save_keras_h5(const ann::Model& model, const std::filesystem::path& path) {
  const std::string config = keras_model_config(model);
  const auto layers = saved_layers(model);
  std::vector<std::string> names;
  for (const auto* layer : layers) names.push_back(layer->name);
  keras::write_keras2_h5(path, config, names, [&](std::size_t i) {
    std::vector<Weight> weights;
    layer_config(*layers[i], &weights);
    return weights;
  });
}

}  // namespace grindstone::sharpen
