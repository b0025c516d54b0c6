// `grindstone run MODEL.h5 --engine spinnaker2 --s2-mode ann`: a Keras model (e.g. LeNet-5) run
// as an int8 ANN on SpiNNaker 2's MAC arrays. The glue between the ANN IR (converter) and the
// MAC model lives here because snn_runtime must not include converter headers.
//
// Quantisation (per layer): weights int8 with scale 127/max|W|; activations after ReLU uint7
// (0..127) with scale 127/max over calibration images (the first 500 training images); the first
// layer takes the raw 8-bit pixels (scale 255). The MAC array accumulates exactly (int32), the
// write-out adds the int32 bias, requantises (multiplier·2^-shift, rounded) and applies ReLU and
// the clamp; max pooling runs on the ARM cores; the last layer's accumulators are the scores.
#include <chrono>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "apps/run_command.hpp"
#include "common/error.hpp"
#include "converter/ann/inference.hpp"
#include "converter/keras/import.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"
#include "hw_model/spinnaker2/mac_array.hpp"
#include "snn_runtime/spinnaker2/estimate.hpp"

namespace grindstone::cli {

namespace {

namespace hw = grindstone::hw::s2;

struct AnnStage {
  enum class Kind { Mac, MaxPool, FlattenChw } kind = Kind::Mac;
  std::string name;
  Shape in_shape, out_shape;  // channels-last
  // Mac
  bool conv = false;
  hw::Conv2dGeometry geometry;
  std::int64_t k = 0, n = 0;
  std::vector<std::int8_t> weights;  // k×n row-major
  hw::WriteOut write_out;
  bool last = false;
  int activation_layer = -1;  // layer whose output calibrates this stage's output scale
  // MaxPool
  ann::Pool2D pool;
  std::int64_t pad_top = 0, pad_left = 0;
};

std::int64_t dim(const Shape& s, std::size_t i) { return s.rank() > i ? s[i] : 1; }

std::vector<AnnStage> build(const ann::Model& model) {
  std::vector<AnnStage> stages;
  for (std::size_t li = 0; li < model.layers.size(); ++li) {
    const ann::Layer& l = model.layers[li];
    const std::string ctx = "spinnaker2 --s2-mode ann: layer '" + l.name + "'";
    if (l.is<ann::InputLayer>() || l.is<ann::Identity>()) continue;
    require_input(l.inputs.size() == 1, ctx, "only chains of layers are supported");
    const Shape& in = model.layers[static_cast<std::size_t>(l.inputs[0])].output_shape;
    AnnStage s;
    s.name = l.name;
    s.in_shape = in;
    s.out_shape = l.output_shape;
    if (l.is<ann::Dense>()) {
      require_input(in.rank() == 1, ctx, "dense layers must follow a flatten");
      const auto& d = l.as<ann::Dense>();
      s.k = d.kernel.rows();
      s.n = d.kernel.cols();
    } else if (l.is<ann::Conv2D>()) {
      const auto& c = l.as<ann::Conv2D>();
      s.conv = true;
      auto& g = s.geometry;
      g.in_h = in[0]; g.in_w = in[1]; g.in_channels = in[2]; g.out_channels = c.filters;
      g.kernel_h = c.kernel_h; g.kernel_w = c.kernel_w; g.stride_h = c.stride_h; g.stride_w = c.stride_w;
      g.dilation_h = c.dilation_h; g.dilation_w = c.dilation_w; g.out_h = l.output_shape[0]; g.out_w = l.output_shape[1];
      if (c.padding == ann::Padding::Same) {
        g.pad_top = ann::same_padding(g.in_h, g.out_h, c.kernel_h, c.stride_h, c.dilation_h).before;
        g.pad_left = ann::same_padding(g.in_w, g.out_w, c.kernel_w, c.stride_w, c.dilation_w).before;
      }
      s.k = c.kernel.rows();
      s.n = c.kernel.cols();
    } else if (l.is<ann::Pool2D>()) {
      const auto& p = l.as<ann::Pool2D>();
      require_input(p.kind == ann::PoolKind::Max, ctx, "only max pooling runs on the ARM cores");
      s.kind = AnnStage::Kind::MaxPool;
      s.pool = p;
      if (p.padding == ann::Padding::Same) {
        s.pad_top = ann::same_padding(in[0], l.output_shape[0], p.pool_h, p.stride_h, 1).before;
        s.pad_left = ann::same_padding(in[1], l.output_shape[1], p.pool_w, p.stride_w, 1).before;
      }
    } else if (l.is<ann::Flatten>()) {
      if (l.as<ann::Flatten>().order == ann::Flatten::Order::HWC || in.rank() != 3) continue;  // memory order unchanged
      s.kind = AnnStage::Kind::FlattenChw;
    } else if (l.is<ann::Activation>()) {
      const auto& a = l.as<ann::Activation>();
      require_input(!stages.empty() && stages.back().kind == AnnStage::Kind::Mac, ctx, "an activation must follow a dense or conv layer");
      if (a.kind == ann::ActivationKind::ReLU) {
        require_input(!a.relu_max_value && a.relu_negative_slope == 0 && a.relu_threshold == 0, ctx, "only plain ReLU is supported");
        stages.back().write_out.relu = true;
        stages.back().activation_layer = static_cast<int>(li);
      } else {
        require_input(a.kind == ann::ActivationKind::Softmax || a.kind == ann::ActivationKind::Linear, ctx,
                      "activation is not ReLU, linear or a final softmax");
      }
      continue;
    } else {
      throw InputError(ctx + ": class '" + l.keras_class + "' is not supported on the MAC arrays");
    }
    if (s.kind == AnnStage::Kind::Mac) s.activation_layer = static_cast<int>(li);
    stages.push_back(std::move(s));
  }
  for (auto it = stages.rbegin(); it != stages.rend(); ++it)
    if (it->kind == AnnStage::Kind::Mac) {
      it->last = true;
      break;
    }
  return stages;
}

// Quantises weights/biases and picks requantisation multipliers from calibration maxima.
void quantise(std::vector<AnnStage>& stages, const ann::Model& model, const std::vector<float>& layer_max) {
  double in_scale = 255.0;  // first layer: raw pixels = 255 · (pixel / 255)
  std::size_t li = 0;
  for (auto& s : stages) {
    while (li < model.layers.size() && model.layers[li].name != s.name) ++li;
    if (s.kind != AnnStage::Kind::Mac) continue;
    const ann::Layer& l = model.layers[li];
    const ann::Matrix& kernel = l.is<ann::Dense>() ? l.as<ann::Dense>().kernel : l.as<ann::Conv2D>().kernel;
    const ann::Vector& bias = l.is<ann::Dense>() ? l.as<ann::Dense>().bias : l.as<ann::Conv2D>().bias;
    const double w_scale = 127.0 / std::max(1e-12f, kernel.cwiseAbs().maxCoeff());
    s.weights.resize(static_cast<std::size_t>(s.k * s.n));
    for (std::int64_t r = 0; r < s.k; ++r)
      for (std::int64_t c = 0; c < s.n; ++c)
        s.weights[static_cast<std::size_t>(r * s.n + c)] = static_cast<std::int8_t>(std::lround(kernel(r, c) * w_scale));
    const double acc_scale = in_scale * w_scale;
    s.write_out.bias.resize(static_cast<std::size_t>(s.n));
    for (std::int64_t c = 0; c < s.n; ++c) s.write_out.bias[static_cast<std::size_t>(c)] = static_cast<std::int32_t>(std::lround(bias(c) * acc_scale));
    if (s.last) {  // scores: raw accumulators + bias
      s.write_out.multiplier = 1;
      s.write_out.shift = 0;
      s.write_out.clamp_min = std::numeric_limits<std::int32_t>::min();
      s.write_out.clamp_max = std::numeric_limits<std::int32_t>::max();
      s.write_out.bytes_per_value = 4;
      continue;
    }
    require_input(s.write_out.relu, "spinnaker2 --s2-mode ann: layer '" + s.name + "'", "hidden layers need a ReLU activation");
    const double out_scale = 127.0 / std::max(1e-6f, layer_max[static_cast<std::size_t>(s.activation_layer)]);
    const double ratio = out_scale / acc_scale;
    const int shift = std::clamp(14 - static_cast<int>(std::floor(std::log2(ratio))), 0, 31);
    s.write_out.multiplier = static_cast<std::int32_t>(std::lround(ratio * std::ldexp(1.0, shift)));
    s.write_out.shift = shift;
    s.write_out.clamp_min = 0;
    s.write_out.clamp_max = 127;
    s.write_out.bytes_per_value = 1;
    in_scale = out_scale;
  }
}

// One sample through the stages; returns the class. `x` holds the uint8 activations.
int classify(const std::vector<AnnStage>& stages, std::vector<std::uint8_t> x, hw::MacArray& mac) {
  std::vector<std::int32_t> acc, out;
  for (const auto& s : stages) {
    if (s.kind == AnnStage::Kind::Mac) {
      const hw::MatmulShape shape = s.conv ? s.geometry.as_matmul() : hw::MatmulShape{1, s.k, s.n};
      acc.assign(static_cast<std::size_t>(shape.m * shape.n), 0);
      if (s.conv)
        mac.conv2d<std::uint8_t, std::int8_t>(x, s.weights, s.geometry, acc);
      else
        mac.matmul<std::uint8_t, std::int8_t>(x, s.weights, shape, acc);
      out.assign(acc.size(), 0);
      mac.write_out(acc, shape, s.write_out, out);
      if (s.last) return static_cast<int>(std::max_element(out.begin(), out.end()) - out.begin());
      x.assign(out.begin(), out.end());
    } else if (s.kind == AnnStage::Kind::MaxPool) {
      const std::int64_t h = dim(s.in_shape, 0), w = dim(s.in_shape, 1), c = dim(s.in_shape, 2);
      const std::int64_t oh = dim(s.out_shape, 0), ow = dim(s.out_shape, 1);
      std::vector<std::uint8_t> y(static_cast<std::size_t>(oh * ow * c), 0);
      for (std::int64_t oy = 0; oy < oh; ++oy)
        for (std::int64_t ox = 0; ox < ow; ++ox)
          for (std::int64_t ch = 0; ch < c; ++ch) {
            std::uint8_t m = 0;  // activations are ≥ 0 after ReLU
            for (int i = 0; i < s.pool.pool_h; ++i)
              for (int j = 0; j < s.pool.pool_w; ++j) {
                const std::int64_t yy = oy * s.pool.stride_h - s.pad_top + i, xx = ox * s.pool.stride_w - s.pad_left + j;
                if (yy >= 0 && yy < h && xx >= 0 && xx < w) m = std::max(m, x[static_cast<std::size_t>((yy * w + xx) * c + ch)]);
              }
            y[static_cast<std::size_t>((oy * ow + ox) * c + ch)] = m;
          }
      x = std::move(y);
    } else {  // Keras channels_first flatten: (C, H, W) element order
      const std::int64_t h = dim(s.in_shape, 0), w = dim(s.in_shape, 1), c = dim(s.in_shape, 2);
      std::vector<std::uint8_t> y(x.size());
      for (std::int64_t yy = 0; yy < h; ++yy)
        for (std::int64_t xx = 0; xx < w; ++xx)
          for (std::int64_t ch = 0; ch < c; ++ch) y[static_cast<std::size_t>(ch * h * w + yy * w + xx)] = x[static_cast<std::size_t>((yy * w + xx) * c + ch)];
      x = std::move(y);
    }
  }
  throw InternalError("spinnaker2 ann: no output layer");
}

}  // namespace

nlohmann::json run_spinnaker2_ann(const RunOptions& options, std::string& human) {
  const auto start = std::chrono::steady_clock::now();
  const ann::Model model = keras::load_model(options.network);
  std::vector<AnnStage> stages = build(model);
  // Calibration: activation maxima of every layer over the first 500 training images.
  const auto calibration = datasets::load(options.dataset, datasets::Split::Train, options.data_dir, 500);
  const ann::ReferenceInference reference(model);
  const auto outputs = reference.layer_outputs(datasets::encode_all(calibration, datasets::InputEncoding::Real));
  std::vector<float> layer_max;
  for (const auto& o : outputs) layer_max.push_back(o.size() ? o.maxCoeff() : 0.0f);
  quantise(stages, model, layer_max);

  const auto data = datasets::load(options.dataset, datasets::Split::Test, options.data_dir, options.limit);
  require_input(data.pixels_per_image() == model.input_shape().size(), options.network.string(), "the model's input does not take the dataset's images");
  std::vector<int> predictions(static_cast<std::size_t>(data.size()));
  hw::MacArray mac;  // functional model; sequential so its overflow count is exact and deterministic
  for (std::int64_t i = 0; i < data.size(); ++i)
    predictions[static_cast<std::size_t>(i)] =
        classify(stages, std::vector<std::uint8_t>(data.image(i), data.image(i) + data.pixels_per_image()), mac);
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < data.size(); ++i) correct += predictions[static_cast<std::size_t>(i)] == data.labels[static_cast<std::size_t>(i)];

  // Hardware estimate of the same pipeline.
  hw::MachineParams machine;
  machine.chips = options.chips;
  machine.chip.clock.hz = options.clock_mhz * 1e6;
  const hw::ArmCore::Params& arm = machine.chip.pe.arm;
  std::vector<snn::s2::PipelineLayer> pipeline;
  for (const auto& s : stages) {
    snn::s2::PipelineLayer p;
    p.name = s.name;
    p.output_bytes_per_sample = s.out_shape.size();
    if (s.kind == AnnStage::Kind::Mac) {
      p.mac.name = s.name;
      p.mac.per_sample = s.conv ? s.geometry.as_matmul() : hw::MatmulShape{1, s.k, s.n};
      p.mac.conv = s.conv;
      p.mac.conv_input_bytes = s.conv ? s.in_shape.size() : 0;
      p.mac.output_bytes_per_value = s.write_out.bytes_per_value;
    } else if (s.kind == AnnStage::Kind::MaxPool) {  // one compare per window element per output
      p.on_mac = false;
      p.arm_neurons = s.out_shape.size();
      p.arm_cycles_per_sample = s.out_shape.size() * (s.pool.pool_h * s.pool.pool_w * arm.cycles_per_partial_sum_add + arm.cycles_per_neuron_update);
    } else {
      continue;  // a flatten is an addressing change of the next layer's input
    }
    pipeline.push_back(p);
  }
  const auto est = snn::s2::estimate_pipeline(pipeline, data.pixels_per_image(), machine, 4);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double n = static_cast<double>(std::max<std::int64_t>(1, data.size()));
  const double batches = std::ceil(n / 4.0);
  const double energy_per_inference = est.energy_per_sample.total();
  nlohmann::json report = {
      {"engine", "spinnaker2"},
      {"s2_mode", "ann"},
      {"dataset", options.dataset},
      {"samples", data.size()},
      {"accuracy", static_cast<double>(correct) / n},
      {"wall_seconds", wall},
      {"samples_per_second", wall > 0 ? n / wall : 0.0},
      {"spikes_per_sample", 0.0},
      {"synaptic_events_per_sample", 0.0},
      {"pes", est.plan.pes_used},
      {"chips", est.plan.chips_used},
      {"chips_available", options.chips},
      {"clock_mhz", options.clock_mhz},
      {"mac_utilisation", est.mac_utilisation},
      {"useful_macs_per_sample", est.useful_macs_per_sample},
      {"hw_throughput_samples_per_second", est.hw_throughput_samples_per_second},
      {"hw_latency_seconds", est.hw_latency_seconds},
      {"dram_bytes", static_cast<std::int64_t>(static_cast<double>(est.dram_bytes_per_batch) * batches)},
      {"energy_joules", energy_per_inference * n},
      {"energy_per_inference_joules", energy_per_inference},
      {"accumulator_overflows", mac.stats().accumulator_overflows},
      {"quantisation", "int8 weights per layer, uint7 activations calibrated on 500 training images"}};
  std::ostringstream h;
  h << "spinnaker2 (ann, int8 on MAC arrays, " << options.clock_mhz << " MHz, " << est.plan.chips_used << " chip(s), "
    << est.plan.pes_used << " PEs) on " << options.dataset << " test, " << data.size() << " samples: accuracy " << std::fixed
    << std::setprecision(4) << static_cast<double>(correct) / n << "\n  modelled: latency " << std::setprecision(2)
    << est.hw_latency_seconds * 1e6 << " us per batch of 4, throughput " << std::setprecision(0) << est.hw_throughput_samples_per_second
    << " samples/s, energy " << std::setprecision(3) << energy_per_inference * 1e6 << " uJ per inference, MAC utilisation "
    << est.mac_utilisation;
  human = h.str();
  return report;
}

}  // namespace grindstone::cli
