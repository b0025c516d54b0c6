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

std::vector<PipelineLayer> pipeline_of(const AnnProgram& program, const hw::ArmCore::Params& arm) {
  const hw::ArmCore core(arm);
  std::vector<PipelineLayer> pipeline;
  for (const auto& s : program.steps) {
    PipelineLayer p;
    p.name = s.name;
    p.output_bytes_per_sample = s.out_shape.size();
    if (s.kind == AnnStep::Kind::Mac) {
      p.mac.name = s.name;
      p.mac.per_sample = s.per_sample();
      p.mac.conv = s.conv;
      p.mac.conv_input_bytes = s.conv ? s.in_shape.size() : 0;
      p.mac.output_bytes_per_value = s.write_out.bytes_per_value;
    } else if (s.kind == AnnStep::Kind::MaxPool) {
      p.on_mac = false;
      p.arm_neurons = s.out_shape.size();
      p.arm_cycles_per_sample = core.max_pool_cycles(s.out_shape.size(), std::int64_t{s.pool_h} * s.pool_w).count;
    } else {
      continue;  // a flatten is an addressing change of the next layer's input
    }
    pipeline.push_back(p);
  }
  return pipeline;
}

AnnRunReport run_ann(const AnnProgram& program, const datasets::Dataset& data, const hw::MachineParams& machine,
                     std::int64_t batch) {
  if (batch == 0) batch = machine.chip.pe.mac.rows;
  require_input(batch >= 1, "spinnaker2 ann", "batch must be ≥ 1");
  AnnRunReport r;
  r.samples = data.size();
  r.batch = batch;
  hw::MacArray mac(machine.chip.pe.mac);
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
  r.estimate = estimate_pipeline(pipeline_of(program, machine.chip.pe.arm), data.pixels_per_image(), machine, batch);
  const double batches = std::ceil(n / static_cast<double>(batch));
  r.dram_bytes = static_cast<std::int64_t>(static_cast<double>(r.estimate.dram_bytes_per_batch) * batches);
  r.energy_joules = r.estimate.energy_per_sample.total() * n;
  return r;
}

}  // namespace grindstone::snn::s2
