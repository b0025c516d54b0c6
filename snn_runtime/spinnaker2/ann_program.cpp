#include "snn_runtime/spinnaker2/ann_program.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace grindstone::snn::s2 {

namespace {

std::int64_t dim(const Shape& s, std::size_t i) { return s.rank() > i ? s[i] : 1; }

std::int64_t count_nonzero(const std::vector<std::uint8_t>& x) {
  return static_cast<std::int64_t>(std::count_if(x.begin(), x.end(), [](std::uint8_t v) { return v != 0; }));
}

std::vector<std::uint8_t> max_pool(const AnnStep& s, const std::vector<std::uint8_t>& x) {
  const std::int64_t h = dim(s.in_shape, 0), w = dim(s.in_shape, 1), c = dim(s.in_shape, 2);
  const std::int64_t oh = dim(s.out_shape, 0), ow = dim(s.out_shape, 1);
  std::vector<std::uint8_t> y(static_cast<std::size_t>(oh * ow * c), 0);
  for (std::int64_t oy = 0; oy < oh; ++oy)
    for (std::int64_t ox = 0; ox < ow; ++ox)
      for (std::int64_t ch = 0; ch < c; ++ch) {
        std::uint8_t m = 0;  // activations are ≥ 0 after ReLU, so 0 is the neutral element
        for (int i = 0; i < s.pool_h; ++i)
          for (int j = 0; j < s.pool_w; ++j) {
            const std::int64_t yy = oy * s.stride_h - s.pad_top + i, xx = ox * s.stride_w - s.pad_left + j;
            if (yy >= 0 && yy < h && xx >= 0 && xx < w) m = std::max(m, x[static_cast<std::size_t>((yy * w + xx) * c + ch)]);
          }
        y[static_cast<std::size_t>((oy * ow + ox) * c + ch)] = m;
      }
  return y;
}

std::vector<std::uint8_t> flatten_chw(const AnnStep& s, const std::vector<std::uint8_t>& x) {
  const std::int64_t h = dim(s.in_shape, 0), w = dim(s.in_shape, 1), c = dim(s.in_shape, 2);
  std::vector<std::uint8_t> y(x.size());
  for (std::int64_t yy = 0; yy < h; ++yy)
    for (std::int64_t xx = 0; xx < w; ++xx)
      for (std::int64_t ch = 0; ch < c; ++ch)
        y[static_cast<std::size_t>(ch * h * w + yy * w + xx)] = x[static_cast<std::size_t>((yy * w + xx) * c + ch)];
  return y;
}

}  // namespace

int classify(const AnnProgram& program, std::vector<std::uint8_t> x, hw::MacArray& mac, std::int64_t& nonzero_activations) {
  nonzero_activations += count_nonzero(x);
  std::vector<std::int32_t> acc, out;
  for (const auto& s : program.steps) {
    if (s.kind == AnnStep::Kind::Mac) {
      const hw::MatmulShape shape = s.per_sample();
      if (static_cast<std::int64_t>(x.size()) != (s.conv ? s.geometry.in_h * s.geometry.in_w * s.geometry.in_channels : s.k))
        throw InternalError("spinnaker2 ann: step '" + s.name + "' gets " + std::to_string(x.size()) + " inputs");
      acc.assign(static_cast<std::size_t>(shape.m * shape.n), 0);
      if (s.conv)
        mac.conv2d<std::uint8_t, std::int8_t>(x, s.weights, s.geometry, acc);
      else
        mac.matmul<std::uint8_t, std::int8_t>(x, s.weights, shape, acc);
      out.assign(acc.size(), 0);
      mac.write_out(acc, shape, s.write_out, out);
      if (s.last) return static_cast<int>(std::max_element(out.begin(), out.end()) - out.begin());
      x.assign(out.begin(), out.end());  // clamped to [0, 127] by the write-out
    } else if (s.kind == AnnStep::Kind::MaxPool) {
      x = max_pool(s, x);
    } else {
      x = flatten_chw(s, x);
      continue;  // a permutation: same values as the previous step's output
    }
    nonzero_activations += count_nonzero(x);
  }
  throw InternalError("spinnaker2 ann: the program has no output step");
}

MacGraph mac_graph_of(const AnnProgram& program) {
  MacGraph graph;
  graph.name = program.name;
  if (!program.steps.empty()) graph.input_bytes = program.steps.front().in_shape.size() * hw::kOperandBytes;
  for (const auto& s : program.steps) {
    if (s.kind == AnnStep::Kind::Mac) {
      MacOp op;
      op.name = s.name;
      if (s.conv) {
        const hw::Conv2dGeometry& g = s.geometry;
        op.kind = MacOp::Kind::Conv;
        op.in_h = g.in_h;
        op.in_w = g.in_w;
        op.in_channels = g.in_channels;
        op.out_h = op.result_h = g.out_h;
        op.out_w = op.result_w = g.out_w;
        op.out_channels = g.out_channels;
        op.kernel_h = g.kernel_h;
        op.kernel_w = g.kernel_w;
        op.stride_h = g.stride_h;
        op.stride_w = g.stride_w;
      } else {
        op.kind = MacOp::Kind::Dense;
        op.in_channels = s.k;
        op.out_channels = s.n;
      }
      graph.ops.push_back(std::move(op));
    } else if (s.kind == AnnStep::Kind::MaxPool) {
      require_input(!graph.ops.empty(), "spinnaker2 ann: step '" + s.name + "'", "a max pool needs a MAC step before it to fuse into");
      MacOp& op = graph.ops.back();
      op.result_h = dim(s.out_shape, 0);
      op.result_w = dim(s.out_shape, 1);
      op.fused.push_back(s.name);
    }  // a flatten: addressing of the next op's input
  }
  return graph;
}

AnnRunReport run_ann(const AnnProgram& program, const datasets::Dataset& data, const CnnMappingParams& mapping) {
  AnnRunReport r;
  r.samples = data.size();
  hw::MacArray mac(mapping.chip.pe.mac);
  std::int64_t nonzero = 0;
  for (std::int64_t i = 0; i < data.size(); ++i) {
    const int cls = classify(program, std::vector<std::uint8_t>(data.image(i), data.image(i) + data.pixels_per_image()), mac, nonzero);
    r.predictions.push_back(cls);
    r.correct += cls == data.labels[static_cast<std::size_t>(i)];
  }
  r.mac = mac.stats();
  const double n = static_cast<double>(std::max<std::int64_t>(1, r.samples));
  r.accuracy = static_cast<double>(r.correct) / n;
  r.nonzero_activations_per_sample = static_cast<double>(nonzero) / n;
  r.estimate = estimate_cnn(mac_graph_of(program), mapping);
  r.dram_bytes = r.estimate.dram_bytes * r.samples;
  r.energy_joules = r.estimate.energy.total() * static_cast<double>(r.samples);
  return r;
}

}  // namespace grindstone::snn::s2
