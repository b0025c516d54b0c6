#include "snn_runtime/spinnaker2/stages.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "common/error.hpp"
#include "snn_runtime/network/connector_geometry.hpp"
#include "snn_runtime/network/weight_units.hpp"
#include "snn_runtime/spinnaker2/quantise.hpp"

namespace grindstone::snn::s2 {

namespace {

std::string where(const Network& net, const Projection& p) {
  return "spinnaker2: projection '" + p.name + "' into '" + net.populations[static_cast<std::size_t>(p.post)].name + "'";
}

struct Image {
  std::int64_t h = 1, w = 1, c = 1;
};

Image image_of(const Population& pop, const std::string& context) {
  require_input(pop.shape.rank() == 3, context, "population '" + pop.name + "' must be (height, width, channels), is " +
                                                    pop.shape.to_string());
  return {pop.shape[0], pop.shape[1], pop.shape[2]};
}

std::int32_t checked_int32(std::int64_t v, const std::string& context) {
  require_input(v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max(), context,
                "threshold or bias out of the 32-bit write-out range");
  return static_cast<std::int32_t>(v);
}

hw::WriteOut binary_write_out() {
  hw::WriteOut w;
  w.relu = true;
  w.clamp_min = 0;
  w.clamp_max = 1;
  w.bytes_per_value = 1;
  return w;
}

// Fills the MAC operands of a stage: stacked weights (k×n, n = post size for dense, out channels
// for conv), quantised, and the per-neuron fire bias.
void quantise_mac_stage(Stage& s, const Network& net, const std::vector<std::vector<double>>& columns_by_row,
                        std::int64_t k, std::int64_t n) {
  const Population& post = net.populations[static_cast<std::size_t>(s.post)];
  const std::int64_t neurons = post.size();
  const std::string ctx = "spinnaker2: population '" + post.name + "'";
  std::vector<std::int64_t> q(static_cast<std::size_t>(k * n));
  std::vector<std::int64_t> threshold(static_cast<std::size_t>(neurons));
  if (!net.weights.is_float) {
    std::int64_t max_units = 0;
    for (std::int64_t r = 0; r < k; ++r)
      for (std::int64_t c = 0; c < n; ++c) {
        // Already integer weight units (snn::WeightUnits), held exactly in the double.
        const auto u = static_cast<std::int64_t>(columns_by_row[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)]);
        q[static_cast<std::size_t>(r * n + c)] = u;
        max_units = std::max(max_units, std::abs(u));
      }
    require_input(max_units <= 32767, ctx, "weights of " + std::to_string(max_units) +
                                               " units exceed the MAC array's 16-bit operands (use fewer bits, e.g. Q4.8)");
    s.shape.width = max_units <= 127 ? hw::OperandWidth::Bits8 : hw::OperandWidth::Bits16;
    for (std::int64_t i = 0; i < neurons; ++i)
      threshold[static_cast<std::size_t>(i)] = s.threshold_units[static_cast<std::size_t>(i)] - s.constant_units[static_cast<std::size_t>(i)];
  } else {
    // The shared int8 quantiser, one scale per output column; threshold and bias scaled alike,
    // compared as acc ≥ ceil((threshold − bias)·scale).
    std::vector<double> flat;
    flat.reserve(static_cast<std::size_t>(k * n));
    for (const auto& row : columns_by_row) flat.insert(flat.end(), row.begin(), row.end());
    const Int8Weights w8 = quantise_int8(flat, k, n, ScaleGroup::Column);
    q.assign(w8.values.begin(), w8.values.end());
    s.shape.width = hw::OperandWidth::Bits8;
    for (std::int64_t i = 0; i < neurons; ++i) {
      const double sc = w8.scale_of_column(i % n);
      const double t = (static_cast<double>(s.threshold_float[static_cast<std::size_t>(i)]) - s.constant_float[static_cast<std::size_t>(i)]) * sc;
      threshold[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(std::ceil(std::clamp(t, -1e9, 1e9)));
    }
  }
  if (s.shape.width == hw::OperandWidth::Bits8)
    s.weights8.assign(q.begin(), q.end());
  else
    s.weights16.assign(q.begin(), q.end());
  s.fire_bias.resize(static_cast<std::size_t>(neurons));
  for (std::int64_t i = 0; i < neurons; ++i)
    s.fire_bias[static_cast<std::size_t>(i)] = checked_int32(1 - threshold[static_cast<std::size_t>(i)], ctx);
}

template <class T>
void integrate_sample(const Stage& s, const Network& net, const Activity& activity, std::int64_t sample,
                      std::vector<T>& potential, std::int64_t neurons_per_core, std::vector<CoreLoad>* load,
                      std::int64_t& events) {
  std::int64_t serial = 0;
  for (const auto& inc : s.inputs) {
    const Projection& proj = net.projections[static_cast<std::size_t>(inc.projection)];
    const std::int64_t pre_size = net.populations[static_cast<std::size_t>(inc.pre)].size();
    const std::uint8_t* spikes = activity[static_cast<std::size_t>(inc.pre)].data() + sample * pre_size;
    for (std::int64_t j = 0; j < pre_size; ++j) {
      if (!spikes[j]) continue;
      ++serial;
      // Fixed point: the stage's integer weight units (exact); float: w·weight_scale.
      for_each_target(net, proj, j, [&](std::int64_t i, float w) {
        if constexpr (std::is_same_v<T, std::int64_t>)
          potential[static_cast<std::size_t>(i)] += weight_units(w, net.weights.fixed.fraction_bits, inc.multiplier);
        else
          potential[static_cast<std::size_t>(i)] += static_cast<double>(w * proj.weight_scale);
        ++events;
        if (load) {
          CoreLoad& l = (*load)[static_cast<std::size_t>(i / neurons_per_core)];
          ++l.events;
          if (l.last_spike != serial) {
            l.last_spike = serial;
            ++l.received;
          }
        }
      });
    }
  }
}

template <class T>
void fire(const Stage& s, const Network& net, Activity& activity, std::int64_t sample, const std::vector<T>& potential,
          std::int64_t neurons_per_core, std::vector<CoreLoad>* load) {
  const std::int64_t n = net.populations[static_cast<std::size_t>(s.post)].size();
  std::uint8_t* out = activity[static_cast<std::size_t>(s.post)].data() + sample * n;
  for (std::int64_t i = 0; i < n; ++i) {
    bool spike;
    if constexpr (std::is_same_v<T, std::int64_t>)
      spike = potential[static_cast<std::size_t>(i)] >= s.threshold_units[static_cast<std::size_t>(i)];
    else
      spike = potential[static_cast<std::size_t>(i)] >= static_cast<double>(s.threshold_float[static_cast<std::size_t>(i)]);
    out[i] = spike ? 1 : 0;
    if (spike && load) ++(*load)[static_cast<std::size_t>(i / neurons_per_core)].sent;
  }
}

// A stage fed by bit-plane input populations: checks that it reads only the eight planes of one
// kernel (snn::plane_group) and marks the stage and its inputs.
void mark_plane_inputs(Stage& s, const Network& net, const std::string& ctx) {
  for (const auto& inc : s.inputs) {
    const Population& pre = net.populations[static_cast<std::size_t>(inc.pre)];
    require_input(pre.role == PopulationRole::Input && pre.input_bit >= 0 && pre.input_bit < 8, ctx,
                  "mixes bit-plane input with input from '" + pre.name + "' (only the first layer may read the planes)");
  }
  std::string why_not;
  const auto group = plane_group(net, s.post, &why_not);
  require_input(group.has_value(), ctx, why_not);
  for (auto& inc : s.inputs)
    for (int bit = 0; bit < 8; ++bit)
      if (group->projection[static_cast<std::size_t>(bit)] == inc.projection) inc.plane_bit = bit;
  s.pixel_input = true;
}

// The incoming of bit plane 0 (the unscaled kernel of a pixel-input stage).
const Incoming& plane_zero(const Stage& s) {
  for (const auto& inc : s.inputs)
    if (inc.plane_bit == 0) return inc;
  throw InternalError("spinnaker2: stage '" + s.name + "' has no bit plane 0");
}

}  // namespace

Activity bias_activity(const Network& net, std::int64_t& events) {
  Activity act(net.populations.size());
  events = 0;
  const std::optional<WeightUnits> wu =
      net.weights.is_float ? std::nullopt : std::optional<WeightUnits>(integer_weight_units(net, "spinnaker2"));
  for (std::size_t p = 0; p < net.populations.size(); ++p) {
    const Population& pop = net.populations[p];
    if (pop.role != PopulationRole::Bias) continue;
    const auto n = static_cast<std::size_t>(pop.size());
    if (pop.is_source()) {
      act[p].assign(n, 1);
      continue;
    }
    const std::string ctx = "spinnaker2: bias population '" + pop.name + "'";
    require_input(pop.threshold.size() == n, ctx, "threshold size differs from the population size");
    std::vector<double> potential(n, 0.0);
    std::vector<std::int64_t> units(n, 0);
    for (const auto& proj : net.projections) {
      if (proj.post != static_cast<int>(p)) continue;
      require_input(proj.pre >= 0 && proj.pre < static_cast<int>(p) &&
                        net.populations[static_cast<std::size_t>(proj.pre)].role == PopulationRole::Bias,
                    ctx, "is driven by '" + proj.name + "', which does not come from an earlier bias population");
      const auto& pre_act = act[static_cast<std::size_t>(proj.pre)];
      for (std::size_t j = 0; j < pre_act.size(); ++j)
        if (pre_act[j])
          for_each_target(net, proj, static_cast<std::int64_t>(j), [&](std::int64_t i, float w) {
            potential[static_cast<std::size_t>(i)] += w * proj.weight_scale;
            if (wu) units[static_cast<std::size_t>(i)] += wu->weight(static_cast<int>(&proj - net.projections.data()), w);
          });
    }
    act[p].resize(n);
    for (std::size_t i = 0; i < n; ++i)
      act[p][i] = wu ? units[i] >= wu->threshold(static_cast<int>(p), pop.threshold[i]) : potential[i] >= pop.threshold[i];
  }
  for (const auto& proj : net.projections) {
    if (proj.pre < 0 || net.populations[static_cast<std::size_t>(proj.pre)].role != PopulationRole::Bias) continue;
    const auto& pre_act = act[static_cast<std::size_t>(proj.pre)];
    for (std::size_t j = 0; j < pre_act.size(); ++j)
      if (pre_act[j]) for_each_target(net, proj, static_cast<std::int64_t>(j), [&](std::int64_t, float) { ++events; });
  }
  return act;
}

std::vector<Stage> build_stages(const Network& net, bool ann_mode, const Activity& bias) {
  std::vector<Stage> stages;
  const std::optional<WeightUnits> wu =
      net.weights.is_float ? std::nullopt : std::optional<WeightUnits>(integer_weight_units(net, "spinnaker2"));
  for (std::size_t p = 0; p < net.populations.size(); ++p) {
    const Population& post = net.populations[p];
    if (post.role == PopulationRole::Input || post.role == PopulationRole::Bias) continue;  // sources and bias relays
    Stage s;
    s.post = static_cast<int>(p);
    s.name = post.name;
    const std::int64_t n = post.size();
    const std::string ctx = "spinnaker2: population '" + post.name + "'";
    require_input(static_cast<std::int64_t>(post.threshold.size()) == n, ctx, "threshold has " +
                  std::to_string(post.threshold.size()) + " values for " + std::to_string(n) + " neurons");
    s.threshold_float = post.threshold;
    s.constant_float.assign(static_cast<std::size_t>(n), 0.0);
    std::vector<std::int64_t> constant_units(static_cast<std::size_t>(n), 0);  // summed per synapse, as the engines do
    bool all_dense = true;
    int convs = 0;
    for (std::size_t j = 0; j < net.projections.size(); ++j) {
      const Projection& proj = net.projections[j];
      if (proj.post != static_cast<int>(p)) continue;
      require_input(proj.pre >= 0 && proj.pre < static_cast<int>(p), where(net, proj), "pre population is not earlier in the network");
      const Population& pre = net.populations[static_cast<std::size_t>(proj.pre)];
      if (const auto* d = std::get_if<DenseConnector>(&proj.connector))
        require_input(d->weights.rows() == pre.size() && d->weights.cols() == n, where(net, proj), "dense weights shape mismatch");
      if (pre.role == PopulationRole::Bias) {  // same every sample: a constant input
        const auto& fired = bias[static_cast<std::size_t>(proj.pre)];
        for (std::int64_t b = 0; b < pre.size(); ++b)
          if (fired[static_cast<std::size_t>(b)])
            for_each_target(net, proj, b, [&](std::int64_t i, float w) {
              s.constant_float[static_cast<std::size_t>(i)] += w * proj.weight_scale;
              if (wu) constant_units[static_cast<std::size_t>(i)] += wu->weight(static_cast<int>(j), w);
            });
        continue;
      }
      s.inputs.push_back({static_cast<int>(j), proj.pre, 0, -1, wu ? wu->projection_multiplier[j] : 1});
      if (!std::holds_alternative<DenseConnector>(proj.connector)) all_dense = false;
      if (std::holds_alternative<ConvConnector>(proj.connector)) ++convs;
    }
    require_input(!s.inputs.empty(), ctx, "has no incoming spiking projection");
    if (std::any_of(s.inputs.begin(), s.inputs.end(), [&](const Incoming& inc) {
          return net.populations[static_cast<std::size_t>(inc.pre)].input_bit >= 0;
        }))
      mark_plane_inputs(s, net, ctx);
    if (wu) {
      s.threshold_units.resize(static_cast<std::size_t>(n));
      s.constant_units = std::move(constant_units);
      for (std::int64_t i = 0; i < n; ++i)
        s.threshold_units[static_cast<std::size_t>(i)] = wu->threshold(static_cast<int>(p), post.threshold[static_cast<std::size_t>(i)]);
    }
    // Conv on the MAC arrays (ANN mode): one conv input, or the eight planes of one conv kernel.
    const bool conv_on_mac =
        ann_mode && ((convs == 1 && s.inputs.size() == 1) || (s.pixel_input && convs == static_cast<int>(s.inputs.size())));
    s.engine = (all_dense || conv_on_mac) ? StageEngine::Mac : StageEngine::Arm;
    // synapses per input row (events are spikes × these)
    std::int64_t offset = 0;
    for (auto& inc : s.inputs) {
      inc.offset = offset;
      const Projection& proj = net.projections[static_cast<std::size_t>(inc.projection)];
      const std::int64_t pre_size = net.populations[static_cast<std::size_t>(inc.pre)].size();
      for (std::int64_t j = 0; j < pre_size; ++j) {
        std::int64_t count = 0;
        for_each_target(net, proj, j, [&](std::int64_t, float) { ++count; });
        s.row_synapses.push_back(count);
      }
      offset += pre_size;
    }
    if (s.engine == StageEngine::Mac) {
      s.shape.name = post.name;
      std::vector<std::vector<double>> rows;
      std::int64_t k = 0, cols = 0;
      // A MAC operand row: integer weight units in fixed point, w·weight_scale in float. Pixel-input
      // stages take plane 0's kernel, which the pixel (Σ_k bit_k·2^k) multiplies.
      const auto row_value = [&](const Incoming& inc, float w) {
        return wu ? static_cast<double>(weight_units(w, wu->fraction_bits, inc.multiplier))
                  : static_cast<double>(w) * static_cast<double>(net.projections[static_cast<std::size_t>(inc.projection)].weight_scale);
      };
      if (all_dense) {
        // Stacked inputs; a pixel stage stacks only plane 0's kernel (one row per pixel).
        const std::vector<Incoming> stacked = s.pixel_input ? std::vector<Incoming>{plane_zero(s)} : s.inputs;
        k = s.pixel_input ? net.populations[static_cast<std::size_t>(stacked[0].pre)].size() : offset;
        cols = n;
        rows.assign(static_cast<std::size_t>(k), std::vector<double>(static_cast<std::size_t>(n), 0.0));
        for (const auto& inc : stacked) {
          const Projection& proj = net.projections[static_cast<std::size_t>(inc.projection)];
          const auto& w = std::get<DenseConnector>(proj.connector).weights;
          const std::int64_t first = s.pixel_input ? 0 : inc.offset;
          for (Eigen::Index j = 0; j < w.rows(); ++j)
            for (Eigen::Index i = 0; i < w.cols(); ++i)
              rows[static_cast<std::size_t>(first + j)][static_cast<std::size_t>(i)] = row_value(inc, w(j, i));
        }
        s.shape.per_sample = {1, k, n};
      } else {
        const Incoming& conv_in = s.pixel_input ? plane_zero(s) : s.inputs[0];
        const Projection& proj = net.projections[static_cast<std::size_t>(conv_in.projection)];
        const auto& c = std::get<ConvConnector>(proj.connector);
        const Image in = image_of(net.populations[static_cast<std::size_t>(proj.pre)], where(net, proj));
        const Image out = image_of(post, where(net, proj));
        require_input(in.c == c.in_channels && out.c == c.out_channels, where(net, proj), "kernel channels differ from the populations'");
        const WindowGeometry wg = window_geometry(net.populations[static_cast<std::size_t>(proj.pre)], post, c);
        auto& g = s.geometry;
        g = {wg.y.in,     wg.x.in,       wg.in_channels, wg.out_channels, wg.y.taps, wg.x.taps, wg.y.stride,
             wg.x.stride, wg.y.dilation, wg.x.dilation,  wg.y.pad,        wg.x.pad,  wg.y.out,  wg.x.out};
        k = c.kernel.rows();
        cols = c.kernel.cols();
        rows.assign(static_cast<std::size_t>(k), std::vector<double>(static_cast<std::size_t>(cols), 0.0));
        for (Eigen::Index r = 0; r < c.kernel.rows(); ++r)
          for (Eigen::Index o = 0; o < c.kernel.cols(); ++o)
            rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(o)] = row_value(conv_in, c.kernel(r, o));
        s.shape.per_sample = g.as_matmul();
        s.shape.conv = true;
        s.shape.conv_input_bytes = wg.pre_pixels() * wg.in_channels;
      }
      quantise_mac_stage(s, net, rows, k, cols);
    }
    stages.push_back(std::move(s));
  }
  return stages;
}

void run_mac_stage(const Stage& s, const Network& net, Activity& activity, std::int64_t count, hw::MacArray& mac,
                   std::int64_t& events) {
  const std::int64_t n_post = net.populations[static_cast<std::size_t>(s.post)].size();
  const std::int64_t k = s.shape.per_sample.k, n = s.shape.per_sample.n;
  std::vector<std::int32_t> acc;
  std::vector<std::uint8_t> input;
  const bool wide = s.shape.width == hw::OperandWidth::Bits16;
  for (const auto& inc : s.inputs) {
    const std::int64_t pre_size = net.populations[static_cast<std::size_t>(inc.pre)].size();
    const auto& a = activity[static_cast<std::size_t>(inc.pre)];
    for (std::int64_t b = 0; b < count; ++b)
      for (std::int64_t j = 0; j < pre_size; ++j)
        if (a[static_cast<std::size_t>(b * pre_size + j)]) events += s.row_synapses[static_cast<std::size_t>(inc.offset + j)];
  }
  // Pixel-input stages: the eight plane activities make one uint8 pixel operand.
  std::vector<std::uint8_t> pixels;
  if (s.pixel_input) {
    const std::int64_t size = net.populations[static_cast<std::size_t>(s.inputs[0].pre)].size();
    pixels.assign(static_cast<std::size_t>(count * size), 0);
    for (const auto& inc : s.inputs) {
      const auto& a = activity[static_cast<std::size_t>(inc.pre)];
      for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] |= static_cast<std::uint8_t>(a[i] << inc.plane_bit);
    }
  }
  if (!s.shape.conv) {
    if (s.pixel_input) {
      input = std::move(pixels);
    } else {
      input.assign(static_cast<std::size_t>(count * k), 0);
      for (const auto& inc : s.inputs) {
        const std::int64_t pre_size = net.populations[static_cast<std::size_t>(inc.pre)].size();
        const auto& a = activity[static_cast<std::size_t>(inc.pre)];
        for (std::int64_t b = 0; b < count; ++b)
          std::copy_n(a.begin() + b * pre_size, pre_size, input.begin() + b * k + inc.offset);
      }
    }
    acc.assign(static_cast<std::size_t>(count * n), 0);
    const hw::MatmulShape shape{count, k, n};
    if (wide)
      mac.matmul<std::uint8_t, std::int16_t>(input, s.weights16, shape, acc);
    else
      mac.matmul<std::uint8_t, std::int8_t>(input, s.weights8, shape, acc);
  } else {
    const std::int64_t positions = s.geometry.out_h * s.geometry.out_w;
    const std::int64_t in_size = s.shape.conv_input_bytes;
    acc.assign(static_cast<std::size_t>(count * positions * n), 0);
    const auto& a = s.pixel_input ? pixels : activity[static_cast<std::size_t>(s.inputs[0].pre)];
    for (std::int64_t b = 0; b < count; ++b) {
      const auto img = std::span<const std::uint8_t>(a).subspan(static_cast<std::size_t>(b * in_size), static_cast<std::size_t>(in_size));
      const auto out = std::span<std::int32_t>(acc).subspan(static_cast<std::size_t>(b * positions * n), static_cast<std::size_t>(positions * n));
      if (wide)
        mac.conv2d<std::uint8_t, std::int16_t>(img, s.weights16, s.geometry, out);
      else
        mac.conv2d<std::uint8_t, std::int8_t>(img, s.weights8, s.geometry, out);
    }
  }
  // Write-out: the threshold compare is the requantisation clamp(relu(acc + 1 − T), 0, 1).
  const hw::WriteOut w = binary_write_out();
  auto& out = activity[static_cast<std::size_t>(s.post)];
  out.assign(static_cast<std::size_t>(count * n_post), 0);
  for (std::int64_t b = 0; b < count; ++b)
    for (std::int64_t i = 0; i < n_post; ++i)
      out[static_cast<std::size_t>(b * n_post + i)] = static_cast<std::uint8_t>(
          hw::apply_write_out(acc[static_cast<std::size_t>(b * n_post + i)], s.fire_bias[static_cast<std::size_t>(i)], w));
  mac.account_writeout(count * n_post, w.bytes_per_value);
}

void run_arm_sample(const Stage& s, const Network& net, Activity& activity, std::int64_t sample,
                    std::int64_t neurons_per_core, std::vector<CoreLoad>& load, std::int64_t& events) {
  if (!net.weights.is_float) {
    std::vector<std::int64_t> potential = s.constant_units;
    integrate_sample(s, net, activity, sample, potential, neurons_per_core, &load, events);
    fire(s, net, activity, sample, potential, neurons_per_core, &load);
  } else {
    std::vector<double> potential = s.constant_float;
    integrate_sample(s, net, activity, sample, potential, neurons_per_core, &load, events);
    fire(s, net, activity, sample, potential, neurons_per_core, &load);
  }
}

void run_float_reference(const Stage& s, const Network& net, Activity& activity, std::int64_t count) {
  const std::int64_t n = net.populations[static_cast<std::size_t>(s.post)].size();
  activity[static_cast<std::size_t>(s.post)].assign(static_cast<std::size_t>(count * n), 0);
  std::int64_t events = 0;
  for (std::int64_t b = 0; b < count; ++b) {
    std::vector<double> potential = s.constant_float;
    integrate_sample(s, net, activity, b, potential, 1, nullptr, events);
    fire(s, net, activity, b, potential, 1, nullptr);
  }
}

}  // namespace grindstone::snn::s2
