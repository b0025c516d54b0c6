#include "converter/ann/inference.hpp"


#include <chrono>
#include <functional>

#include "common/error.hpp"
#include "common/parallel.hpp"

namespace grindstone::ann {

namespace {

/// Calls `body(first, count)` for every fixed-size chunk of [0, n) in parallel; exceptions are
/// rethrown after the region (the lowest chunk's first).
void for_each_chunk(std::int64_t n, int threads, const std::function<void(std::int64_t, std::int64_t)>& body) {
  const std::int64_t chunk = ReferenceInference::kChunkSamples;
  const auto chunks = static_cast<std::size_t>((n + chunk - 1) / chunk);
  ThreadLimit limit(threads);
  parallel_for_collected(std::size_t{0}, chunks, [&](std::size_t c) {
    const auto first = static_cast<std::int64_t>(c) * chunk;
    body(first, std::min(chunk, n - first));
  });
}

}  // namespace

ReferenceInference::ReferenceInference(const Model& model) : model_(model) {
  model_.validate();
  const auto n = model_.layers.size();
  batch_norm_.resize(n);
  signed_keys_.resize(n);
  last_use_.assign(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    const Layer& l = model_.layers[i];
    if (l.is<BatchNorm>()) batch_norm_[i] = batch_norm_affine(l.as<BatchNorm>());
    if (l.is<SoftmaxDecode>()) signed_keys_[i] = (2.0f * l.as<SoftmaxDecode>().key.array() - 1.0f).matrix().transpose();
    for (int src : l.inputs) last_use_[static_cast<std::size_t>(src)] = static_cast<int>(i);
  }
}

void ReferenceInference::check_inputs(const RowMatrix& inputs) const {
  require_input(inputs.cols() == input_size(), "model '" + model_.name + "'",
                "input: " + std::to_string(inputs.cols()) + " values per sample but the input shape " +
                    model_.input_shape().to_string() + " needs " + std::to_string(input_size()));
}

std::vector<RowMatrix> ReferenceInference::forward(const RowMatrix& batch, const std::vector<bool>& keep) const {
  check_inputs(batch);
  const auto n = model_.layers.size();
  const bool keep_all_flagged = !keep.empty();
  std::vector<RowMatrix> values(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Layer& layer = model_.layers[i];
    if (layer.is<InputLayer>()) {
      values[i] = batch;
      continue;
    }
    const auto src = static_cast<std::size_t>(layer.inputs.front());
    const RowMatrix& x = values[src];
    const Shape& in_shape = model_.layers[src].output_shape;
    const Shape& out_shape = layer.output_shape;
    std::vector<const RowMatrix*> xs;
    std::vector<Shape> in_shapes;
    for (int s : layer.inputs) {
      xs.push_back(&values[static_cast<std::size_t>(s)]);
      in_shapes.push_back(model_.layers[static_cast<std::size_t>(s)].output_shape);
    }
    RowMatrix y = std::visit(
        [&](const auto& p) -> RowMatrix {
          using T = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<T, Dense>) return apply_dense(p, x);
          else if constexpr (std::is_same_v<T, DepthwiseConv2D>) return apply_depthwise_conv2d(p, in_shape, out_shape, x);
          else if constexpr (std::is_same_v<T, GlobalMaxPool2D>) return apply_global_max_pool(in_shape, x);
          else if constexpr (std::is_same_v<T, Merge>) return apply_merge(p, xs);
          else if constexpr (std::is_same_v<T, Concatenate>) return apply_concatenate(p, in_shapes, xs);
          else if constexpr (std::is_same_v<T, Rescale>) return apply_rescale(p, out_shape.dims.back(), x);
          else if constexpr (std::is_same_v<T, Conv2D>) return apply_conv2d(p, in_shape, out_shape, x);
          else if constexpr (std::is_same_v<T, Pool2D>) return apply_pool2d(p, in_shape, out_shape, x);
          else if constexpr (std::is_same_v<T, GlobalAveragePool2D>) return apply_global_average_pool(in_shape, x);
          else if constexpr (std::is_same_v<T, ZeroPad2D>) return apply_zero_pad(p, in_shape, out_shape, x);
          else if constexpr (std::is_same_v<T, Flatten>) return apply_flatten(p, in_shape, x);
          else if constexpr (std::is_same_v<T, BatchNorm>) return apply_batch_norm(batch_norm_[i], x);
          else if constexpr (std::is_same_v<T, Activation>) return apply_activation(p, out_shape.dims.back(), x);
          else if constexpr (std::is_same_v<T, SoftmaxDecode>) return apply_softmax_decode(signed_keys_[i], x);
          else {
            // Reshape, Identity (and InputLayer, handled above): element order unchanged.
            static_assert(std::is_same_v<T, Reshape> || std::is_same_v<T, Identity> || std::is_same_v<T, InputLayer>,
                          "every layer kind needs a kernel");
            return x;
          }
        },
        layer.params);
    values[i] = std::move(y);
    // Free inputs nobody needs any more (keeps memory flat for deep models).
    for (int s : layer.inputs) {
      const auto si = static_cast<std::size_t>(s);
      const bool kept = keep_all_flagged && keep[si];
      if (last_use_[si] == static_cast<int>(i) && !kept && s != model_.output) values[si] = RowMatrix();
    }
  }
  if (keep_all_flagged) {
    for (std::size_t i = 0; i < n; ++i)
      if (!keep[i]) values[i] = RowMatrix();
    return values;
  }
  std::vector<RowMatrix> result;
  result.push_back(std::move(values[static_cast<std::size_t>(model_.output)]));
  return result;
}

RowMatrix ReferenceInference::run(const RowMatrix& inputs, int threads) const {
  check_inputs(inputs);
  RowMatrix out(inputs.rows(), output_size());
  for_each_chunk(inputs.rows(), threads, [&](std::int64_t first, std::int64_t count) {
    RowMatrix batch = inputs.middleRows(first, count);
    out.middleRows(first, count) = forward(batch).front();
  });
  return out;
}

std::vector<RowMatrix> ReferenceInference::layer_outputs(const RowMatrix& inputs, const std::vector<int>& which,
                                                         int threads) const {
  check_inputs(inputs);
  const auto n = model_.layers.size();
  std::vector<int> selected = which;
  if (selected.empty())
    for (std::size_t i = 0; i < n; ++i) selected.push_back(static_cast<int>(i));
  std::vector<bool> keep(n, false);
  for (int i : selected) {
    require_input(i >= 0 && static_cast<std::size_t>(i) < n, "model '" + model_.name + "'",
                  "layer_outputs: layer index " + std::to_string(i) + " out of range");
    keep[static_cast<std::size_t>(i)] = true;
  }
  std::vector<RowMatrix> result;
  for (int i : selected) result.emplace_back(inputs.rows(), model_.layers[static_cast<std::size_t>(i)].output_shape.size());
  for_each_chunk(inputs.rows(), threads, [&](std::int64_t first, std::int64_t count) {
    RowMatrix batch = inputs.middleRows(first, count);
    auto values = forward(batch, keep);
    for (std::size_t k = 0; k < selected.size(); ++k)
      result[k].middleRows(first, count) = values[static_cast<std::size_t>(selected[k])];
  });
  return result;
}

std::vector<int> argmax_rows(const RowMatrix& scores) {
  std::vector<int> out(static_cast<std::size_t>(scores.rows()), -1);
  for (Eigen::Index r = 0; r < scores.rows(); ++r) {
    if (scores.cols() == 0) continue;
    Eigen::Index best = 0;
    scores.row(r).maxCoeff(&best);  // Eigen returns the first maximum
    out[static_cast<std::size_t>(r)] = static_cast<int>(best);
  }
  return out;
}

Evaluation evaluate(const ReferenceInference& inference, const datasets::Dataset& data,
                    datasets::InputEncoding encoding, int threads) {
  const Model& model = inference.model();
  const std::string ctx = "model '" + model.name + "'";
  require_input(inference.input_size() == data.pixels_per_image(), ctx,
                "input: shape " + model.input_shape().to_string() + " does not take " + data.name + "'s " +
                    data.sample_shape().to_string() + " images");
  require_input(model.output_shape().rank() == 1 && model.output_shape()[0] >= data.num_classes, ctx,
                "output: shape " + model.output_shape().to_string() + " is not one score per class of " +
                    data.name + " (" + std::to_string(data.num_classes) + ")");
  Evaluation ev;
  ev.samples = data.size();
  ev.predictions.assign(static_cast<std::size_t>(ev.samples), -1);
  const auto start = std::chrono::steady_clock::now();
  for_each_chunk(ev.samples, threads, [&](std::int64_t first, std::int64_t count) {
    RowMatrix batch(count, data.pixels_per_image());
    datasets::encode_samples(data, first, count, encoding, batch.data());
    const auto predicted = argmax_rows(inference.forward(batch).front());
    std::copy(predicted.begin(), predicted.end(), ev.predictions.begin() + first);
  });
  ev.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (std::int64_t i = 0; i < ev.samples; ++i)
    ev.correct += ev.predictions[static_cast<std::size_t>(i)] == data.labels[static_cast<std::size_t>(i)] ? 1 : 0;
  ev.accuracy = ev.samples > 0 ? static_cast<double>(ev.correct) / static_cast<double>(ev.samples) : 0.0;
  ev.samples_per_second = ev.seconds > 0.0 ? static_cast<double>(ev.samples) / ev.seconds : 0.0;
  return ev;
}

Evaluation evaluate(const Model& model, const datasets::Dataset& data, datasets::InputEncoding encoding, int threads) {
  return evaluate(ReferenceInference(model), data, encoding, threads);
}

}  // namespace grindstone::ann
