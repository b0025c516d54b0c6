#include "converter/nir/nir_chain.hpp"

#include <cmath>
#include <map>
#include <set>

#include "common/error.hpp"

namespace grindstone::nir {

bool is_stateful_type(const std::string& t) {
  return t == "IF" || t == "LIF" || t == "CubaLIF" || t == "LI" || t == "I" || t == "CubaLI";
}

std::vector<const NirNode*> chain_of(const NirGraph& g) {
  std::map<std::string, std::vector<std::string>> next, prev;
  for (const auto& [a, b] : g.edges) {
    next[a].push_back(b);
    prev[b].push_back(a);
  }
  const NirNode* input = nullptr;
  for (const auto& n : g.nodes)
    if (n.type == "Input") {
      if (input) throw InputError(g.file + ": node '" + n.name + "' (Input): several model inputs are not supported");
      input = &n;
    }
  if (!input) throw InputError(g.file + ": nodes: no Input node");
  std::vector<const NirNode*> chain{input};
  std::set<std::string> seen{input->name};
  while (chain.back()->type != "Output") {
    const NirNode& n = *chain.back();
    const auto& out = next[n.name];
    if (out.size() != 1)
      throw InputError(g.file + ": node '" + n.name + "' (" + n.type + "): edges: " + std::to_string(out.size()) +
                       " successors; only chains (Input → … → Output) are imported");
    const NirNode* m = g.find(out.front());
    if (prev[m->name].size() != 1)
      throw InputError(g.file + ": node '" + m->name + "' (" + m->type + "): edges: " +
                       std::to_string(prev[m->name].size()) + " inputs; only chains (Input → … → Output) are imported");
    if (!seen.insert(m->name).second) throw InputError(g.file + ": node '" + m->name + "': edges: a cycle");
    chain.push_back(m);
  }
  if (chain.size() != g.nodes.size())
    throw InputError(g.file + ": nodes: " + std::to_string(g.nodes.size() - chain.size()) +
                     " node(s) not on the Input → Output chain");
  return chain;
}

void NodeFields::refuse(const NirNode& node, const std::string& field, const std::string& message) const {
  throw InputError(graph_.file + ": node '" + node.name + "' (" + node.type + "): " + field + ": " + message);
}

std::vector<int> NodeFields::ints(const NirNode& node, const std::string& field, std::size_t n,
                                  std::optional<int> fallback) const {
  if (!node.has(field)) {
    if (fallback) return std::vector<int>(n, *fallback);
    refuse(node, field, "missing");
  }
  const auto& t = node.number(field, graph_.file);
  if (t.size() != 1 && t.size() != static_cast<std::int64_t>(n))
    refuse(node, field, "expected " + std::to_string(n) + " values, found " + t.dims_string());
  std::vector<int> out;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = t.values[t.size() == 1 ? 0 : i];
    if (!(std::fabs(v) < 1e6f) || v != std::floor(v)) refuse(node, field, "'" + std::to_string(v) + "' is not a small integer");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

std::vector<float> NodeFields::vector(const NirNode& node, const std::string& field, std::int64_t count) const {
  const auto& t = node.number(field, graph_.file);
  if (t.size() != 1 && t.size() != count)
    refuse(node, field, t.dims_string() + " but " + std::to_string(count) + " values are needed");
  std::vector<float> out(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) out[static_cast<std::size_t>(i)] = t.values[static_cast<std::size_t>(t.size() == 1 ? 0 : i)];
  return out;
}

std::vector<float> NodeFields::per_neuron(const NirNode& node, const std::string& field, const Shape& shape) const {
  const auto& t = node.number(field, graph_.file);
  const std::int64_t n = shape.size();
  std::vector<float> out(static_cast<std::size_t>(n));
  if (t.size() == 1 || (shape.rank() != 3 && t.size() == n)) {
    for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = t.values[static_cast<std::size_t>(t.size() == 1 ? 0 : i)];
    return out;
  }
  if (shape.rank() == 3 && (t.size() == shape[2] || t.size() == n)) {
    const std::int64_t h = shape[0], w = shape[1], c = shape[2];
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        for (std::int64_t ch = 0; ch < c; ++ch) {
          const std::int64_t nir = t.size() == c ? ch : (ch * h + y) * w + x;  // (C, H, W)
          out[static_cast<std::size_t>((y * w + x) * c + ch)] = t.values[static_cast<std::size_t>(nir)];
        }
    return out;
  }
  refuse(node, field, t.dims_string() + " does not fit " + std::to_string(n) + " neurons of shape " + shape.to_string());
}

Shape NodeFields::input_shape(const NirNode& node) const {
  const auto& t = node.number("shape", graph_.file);
  std::vector<std::int64_t> dims;
  for (float v : t.values) {
    if (!(v >= 1.0f && v <= 1e7f) || v != std::floor(v)) refuse(node, "shape", "bad dimension " + std::to_string(v));
    dims.push_back(static_cast<std::int64_t>(v));
  }
  if (dims.size() == 3) return Shape{dims[1], dims[2], dims[0]};
  if (dims.size() == 1) return Shape{dims[0]};
  refuse(node, "shape", "rank " + std::to_string(dims.size()) + " inputs are not supported (only (C, H, W) and (N))");
}

void NodeFields::check_flatten(const NirNode& node, std::size_t rank) const {
  const int start = ints(node, "start_dim", 1, 0)[0], end = ints(node, "end_dim", 1, -1)[0];
  if ((start != 0 && start != 1) || (end != -1 && end != static_cast<int>(rank) - 1 + start))
    refuse(node, "start_dim", std::to_string(start) + ".." + std::to_string(end) + " does not flatten the whole sample");
}

ConvFields NodeFields::conv(const NirNode& node, const Shape& in) const {
  if (in.rank() != 3) refuse(node, "input", "reads a " + in.to_string() + " tensor, not an image");
  const auto& w = node.number("weight", graph_.file);
  if (w.dims.size() != 4) refuse(node, "weight", w.dims_string() + " is not (Cout, Cin, kH, kW)");
  ConvFields c;
  c.cout = static_cast<int>(w.dims[0]);
  c.cin = static_cast<int>(w.dims[1]);
  c.kh = static_cast<int>(w.dims[2]);
  c.kw = static_cast<int>(w.dims[3]);
  if (c.cin != in[2]) refuse(node, "weight", w.dims_string() + " takes " + std::to_string(c.cin) + " channels but the input has " + std::to_string(in[2]));
  if (ints(node, "groups", 1, 1)[0] != 1) refuse(node, "groups", "grouped convolutions are not supported");
  c.pad = {0, 0};
  if (auto s = node.strings.find("padding"); s != node.strings.end()) {
    if (s->second == "same") {
      if (c.kh % 2 == 0 || c.kw % 2 == 0) refuse(node, "padding", "'same' with an even kernel is not symmetric");
      c.pad = {c.kh / 2, c.kw / 2};
    } else if (s->second != "valid") {
      refuse(node, "padding", "'" + s->second + "' is not valid, same or integers");
    }
  } else {
    c.pad = ints(node, "padding", 2, 0);
  }
  c.stride = ints(node, "stride", 2, 1);
  c.dilation = ints(node, "dilation", 2, 1);
  if (c.pad[0] < 0 || c.pad[1] < 0 || c.stride[0] < 1 || c.stride[1] < 1 || c.dilation[0] < 1 || c.dilation[1] < 1)
    refuse(node, "stride", "padding must be ≥ 0, stride and dilation ≥ 1");
  const auto out_h = (in[0] + 2 * c.pad[0] - c.dilation[0] * (c.kh - 1) - 1) / c.stride[0] + 1;
  const auto out_w = (in[1] + 2 * c.pad[1] - c.dilation[1] * (c.kw - 1) - 1) / c.stride[1] + 1;
  if (out_h < 1 || out_w < 1) refuse(node, "weight", "the kernel does not fit the " + in.to_string() + " input");
  c.out_shape = Shape{out_h, out_w, c.cout};
  c.kernel.resize(static_cast<Eigen::Index>(c.kh) * c.kw * c.cin, c.cout);
  for (int o = 0; o < c.cout; ++o)
    for (int ci = 0; ci < c.cin; ++ci)
      for (int i = 0; i < c.kh; ++i)
        for (int j = 0; j < c.kw; ++j)
          c.kernel((i * c.kw + j) * c.cin + ci, o) =
              w.values[static_cast<std::size_t>(((static_cast<std::int64_t>(o) * c.cin + ci) * c.kh + i) * c.kw + j)];
  if (node.has("bias")) {
    const auto b = vector(node, "bias", c.cout);
    c.bias = Eigen::Map<const Eigen::VectorXf>(b.data(), c.cout);
  }
  return c;
}

}  // namespace grindstone::nir
