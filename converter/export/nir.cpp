#include "converter/export/nir.hpp"

#include <hdf5.h>

#include <array>
#include <cmath>
#include <map>
#include <utility>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/hdf5_handle.hpp"

namespace grindstone::exporters {

namespace {

/// A handle whose creation must succeed: writing a NIR file has no expected HDF5 failures.
struct Handle : Hdf5Handle {
  Handle(hid_t id, Closer close) : Hdf5Handle(id, close) {
    if (!valid()) throw InternalError("HDF5: could not create an object for the NIR file");
  }
};

void check(herr_t s, const std::string& what) {
  if (s < 0) throw InternalError("HDF5: " + what + " failed while writing NIR");
}

Handle vlen_string() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  check(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

Handle group(hid_t loc, const std::string& name) {
  return Handle(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
}

void write_string(hid_t loc, const std::string& name, const std::string& value) {
  Handle type = vlen_string();
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle set(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  const char* p = value.c_str();
  check(H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p), "write " + name);
}

template <class T>
void write_array(hid_t loc, const std::string& name, const std::vector<T>& data, std::vector<hsize_t> dims) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, std::int64_t>);
  const hid_t file_type = std::is_same_v<T, float> ? H5T_IEEE_F32LE : H5T_STD_I64LE;
  const hid_t mem_type = std::is_same_v<T, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT64;
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
               H5Sclose);
  Handle set(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  check(H5Dwrite(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write " + name);
}

void write_ints(hid_t loc, const std::string& name, const std::vector<std::int64_t>& v) {
  write_array(loc, name, v, {v.size()});
}
void write_int(hid_t loc, const std::string& name, std::int64_t v) { write_array<std::int64_t>(loc, name, {v}, {}); }

/// Channels-first shape of a population (C, H, W) for images, unchanged otherwise.
std::vector<std::int64_t> nir_shape(const Shape& s) {
  if (s.rank() == 3) return {s[2], s[0], s[1]};
  return s.dims;
}

/// Per-neuron values in our HWC order → NIR's CHW order.
std::vector<float> to_chw(const std::vector<float>& hwc, const Shape& s) {
  if (s.rank() != 3) return hwc;
  const auto h = s[0], w = s[1], c = s[2];
  std::vector<float> out(hwc.size());
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x)
      for (std::int64_t ch = 0; ch < c; ++ch)
        out[static_cast<std::size_t>((ch * h + y) * w + x)] = hwc[static_cast<std::size_t>((y * w + x) * c + ch)];
  return out;
}

std::vector<hsize_t> hdims(const std::vector<std::int64_t>& d) {
  std::vector<hsize_t> out;
  for (auto v : d) out.push_back(static_cast<hsize_t>(v));
  return out;
}

std::string node_name(const std::string& population) {
  std::string s = population;
  for (char& c : s)
    if (c == '/' || c == '.' || c == ' ') c = '_';
  return s;
}

void write_float(hid_t loc, const std::string& name, double v) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle set(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  check(H5Dwrite(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v), "write " + name);
}

/// The graph being written: its `nodes` group and the edges collected so far.
struct GraphWriter {
  const snn::Network& net;
  hid_t nodes;
  std::vector<std::pair<std::string, std::string>> edges;
};

/// The bias of `post` from its bias-neuron projection (zero without one).
std::vector<float> dense_bias(const snn::Projection* bias, Eigen::Index out_n) {
  std::vector<float> b(static_cast<std::size_t>(out_n), 0.0f);
  if (bias)
    for (Eigen::Index o = 0; o < out_n; ++o)
      b[static_cast<std::size_t>(o)] = std::get<snn::DenseConnector>(bias->connector).weights(0, o) * bias->weight_scale;
  return b;
}

/// Affine (weight (out, in), bias), behind a Flatten when it reads an image population.
/// Returns the node the Affine reads from (the Flatten, or `source`).
std::string write_affine(GraphWriter& g, const std::string& name, const std::string& source, const snn::Population& pre,
                         const snn::DenseConnector& d, const snn::Projection* bias, hid_t synapse) {
  std::string from = source;
  if (pre.shape.rank() == 3) {
    // The reference serializer writes Flatten's input type as a plain dataset holding the input
    // shape (nir/ir/flatten.py to_dict), which its reader turns back into {"input": shape}.
    const std::string flat = name + "_flatten";
    Handle f = group(g.nodes, flat);
    write_string(f.get(), "type", "Flatten");
    write_int(f.get(), "start_dim", 0);
    write_int(f.get(), "end_dim", -1);
    write_ints(f.get(), "input_type", nir_shape(pre.shape));
    g.edges.emplace_back(source, flat);
    from = flat;
  }
  write_string(synapse, "type", "Affine");
  const auto out_n = d.weights.cols(), in_n = d.weights.rows();
  std::vector<float> w(static_cast<std::size_t>(out_n * in_n));
  for (Eigen::Index o = 0; o < out_n; ++o) {
    std::vector<float> column(static_cast<std::size_t>(in_n));
    for (Eigen::Index k = 0; k < in_n; ++k) column[static_cast<std::size_t>(k)] = d.weights(k, o);
    const auto chw = to_chw(column, pre.shape);
    std::copy(chw.begin(), chw.end(), w.begin() + o * in_n);
  }
  write_array(synapse, "weight", w, {static_cast<hsize_t>(out_n), static_cast<hsize_t>(in_n)});
  const auto b = dense_bias(bias, out_n);
  write_array(synapse, "bias", b, {b.size()});
  return from;
}

void write_conv2d(const std::string& ctx, const snn::Population& pre, const snn::ConvConnector& c,
                  const snn::Projection* bias, hid_t synapse) {
  write_string(synapse, "type", "Conv2d");
  write_ints(synapse, "input_shape", {pre.shape[0], pre.shape[1]});
  std::vector<float> w(static_cast<std::size_t>(c.kernel.size()));
  for (int o = 0; o < c.out_channels; ++o)
    for (int ci = 0; ci < c.in_channels; ++ci)
      for (int y = 0; y < c.kernel_h; ++y)
        for (int x = 0; x < c.kernel_w; ++x)
          w[static_cast<std::size_t>(((o * c.in_channels + ci) * c.kernel_h + y) * c.kernel_w + x)] =
              c.kernel((y * c.kernel_w + x) * c.in_channels + ci, o);
  write_array(synapse, "weight", w,
              {static_cast<hsize_t>(c.out_channels), static_cast<hsize_t>(c.in_channels),
               static_cast<hsize_t>(c.kernel_h), static_cast<hsize_t>(c.kernel_w)});
  write_ints(synapse, "stride", {c.stride_h, c.stride_w});
  write_ints(synapse, "padding", {c.pad_top, c.pad_left});
  write_ints(synapse, "dilation", {c.dilation_h, c.dilation_w});
  write_int(synapse, "groups", 1);
  std::vector<float> b(static_cast<std::size_t>(c.out_channels), 0.0f);
  if (bias) {
    const auto& bw = std::get<snn::DenseConnector>(bias->connector).weights;
    for (Eigen::Index k = 0; k < bw.cols(); ++k) {
      const auto ch = static_cast<std::size_t>(k % c.out_channels);
      if (k < c.out_channels) b[ch] = bw(0, k) * bias->weight_scale;
      else
        require_input(bw(0, k) * bias->weight_scale == b[ch], ctx,
                      "bias: differs between positions of one channel; NIR Conv2d needs a per-channel bias");
    }
  }
  write_array(synapse, "bias", b, {b.size()});
}

void write_sum_pool(const std::string& ctx, const snn::PoolConnector& p, hid_t synapse) {
  write_string(synapse, "type", "SumPool2d");
  write_ints(synapse, "kernel_size", {p.pool_h, p.pool_w});
  write_ints(synapse, "stride", {p.stride_h, p.stride_w});
  write_ints(synapse, "padding", {p.pad_top, p.pad_left});
  // SumPool2d adds its inputs with unit weight, so only weight-1 pools map exactly.
  require_input(p.weight == 1.0f, ctx, "weight: pooling weights other than 1 are not exported");
}

/// One layer population: its synapse node (Affine/Conv2d/SumPool2d) and its Threshold node.
/// Returns the Threshold node's name.
std::string write_layer(GraphWriter& g, std::size_t index, const std::map<int, std::string>& node_of) {
  const auto& net = g.net;
  const auto& post = net.populations[index];
  const std::string ctx = "population '" + post.name + "'";
  require_input(post.model == snn::NeuronModel::InstantDecay, ctx,
                "model: integrate-and-fire (rate) networks cannot be exported to NIR single-pass graphs");
  const snn::Projection* main = nullptr;
  const snn::Projection* bias = nullptr;
  for (const auto& pr : net.projections) {
    if (pr.post != static_cast<int>(index)) continue;
    const auto& pre = net.populations[static_cast<std::size_t>(pr.pre)];
    if (pre.role == snn::PopulationRole::Bias) {
      bias = &pr;
    } else if (pre.input_bit > 0) {
      continue;  // bit planes 1..7 share bit 0's kernel: exported as one real input
    } else {
      require_input(main == nullptr, ctx, "projections: more than one non-bias input cannot be exported");
      main = &pr;
    }
  }
  require_input(main != nullptr, ctx, "projections: no input");
  const auto& pre = net.populations[static_cast<std::size_t>(main->pre)];
  std::string source = node_of.at(main->pre);
  const std::string name = node_name(post.name);
  const std::string synapse = name + "_synapse";
  Handle s = group(g.nodes, synapse);
  if (const auto* d = std::get_if<snn::DenseConnector>(&main->connector)) {
    source = write_affine(g, name, source, pre, *d, bias, s.get());
  } else if (const auto* c = std::get_if<snn::ConvConnector>(&main->connector)) {
    write_conv2d(ctx, pre, *c, bias, s.get());
  } else if (const auto* p = std::get_if<snn::PoolConnector>(&main->connector)) {
    write_sum_pool(ctx, *p, s.get());
  } else {
    throw InputError(ctx + ": one-to-one projections between layers cannot be exported");
  }
  g.edges.emplace_back(source, synapse);
  Handle t = group(g.nodes, name);
  write_string(t.get(), "type", "Threshold");
  // Sums are multiples of 2^-n only when the inputs are spikes: a layer reading the real-valued
  // bit-plane input (pixel/255) gets the float rule.
  const bool real_input = pre.role == snn::PopulationRole::Input && net.input == snn::InputEncoding::Bitplanes;
  const snn::WeightFormat sums = real_input ? snn::WeightFormat{} : net.weights;
  std::vector<float> theta;
  for (float v : post.threshold) theta.push_back(strict_threshold(v, sums));
  write_array(t.get(), "threshold", to_chw(theta, post.shape), hdims(nir_shape(post.shape)));
  g.edges.emplace_back(synapse, name);
  return name;
}

void write_edges(hid_t root, const std::vector<std::pair<std::string, std::string>>& edges) {
  Handle type = vlen_string();
  std::vector<const char*> flat;
  for (const auto& [a, b] : edges) {
    flat.push_back(a.c_str());
    flat.push_back(b.c_str());
  }
  const std::array<hsize_t, 2> dims{edges.size(), 2};
  Handle space(H5Screate_simple(2, dims.data(), nullptr), H5Sclose);
  Handle set(H5Dcreate2(root, "edges", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  check(H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, flat.data()), "write edges");
}

/// Graph metadata: how to read classes (not a NIR concept) and the time semantics NIR users
/// asked exporters to state (neuromorphs/NIR issues 70 and 145): the graph is evaluated once
/// per sample (dt = 1 step, 1 step per sample) and every membrane starts each step at zero —
/// Threshold nodes are stateless, so "reset" is "zero" whether or not a neuron fired.
void write_metadata(hid_t root, const snn::Network& net) {
  Handle meta = group(root, "metadata");
  write_string(meta.get(), "decode", net.decode.kind == snn::Decode::Kind::NHotKey ? "n_hot_key" : "spike_count");
  write_int(meta.get(), "classes", net.decode.classes);
  if (net.decode.kind == snn::Decode::Kind::NHotKey) {
    std::vector<float> key;
    for (Eigen::Index r = 0; r < net.decode.key.rows(); ++r)
      for (Eigen::Index c = 0; c < net.decode.key.cols(); ++c) key.push_back(net.decode.key(r, c));
    write_array(meta.get(), "key", key,
                {static_cast<hsize_t>(net.decode.key.rows()), static_cast<hsize_t>(net.decode.key.cols())});
  }
  write_string(meta.get(), "input_encoding",
               net.input == snn::InputEncoding::Threshold ? "binary: pixel/255 >= 0.5" : "real: pixel/255");
  write_float(meta.get(), "dt", 1.0);
  write_string(meta.get(), "time_unit", "step");
  write_int(meta.get(), "steps_per_sample", 1);
  write_string(meta.get(), "reset", "zero");
  write_string(meta.get(), "threshold_rule", "x > threshold");
  write_string(meta.get(), "source_file", net.provenance.source_file);
  write_string(meta.get(), "source_sha256", net.provenance.source_sha256);
}

void write_graph(const snn::Network& net, hid_t file) {
  write_string(file, "version", "1.0.0");
  Handle root = group(file, "node");
  write_string(root.get(), "type", "NIRGraph");
  Handle nodes = group(root.get(), "nodes");
  GraphWriter g{net, nodes.get(), {}};
  std::map<int, std::string> node_of;  // population index → NIR node emitting its spikes
  // Input: the threshold-encoded input, or one real-valued input for bit planes.
  for (std::size_t i = 0; i < net.populations.size(); ++i)
    if (net.populations[i].role == snn::PopulationRole::Input) node_of[static_cast<int>(i)] = "input";
  require_input(!node_of.empty(), "export", "the network has no input population");
  {
    Handle in = group(nodes.get(), "input");
    write_string(in.get(), "type", "Input");
    write_ints(in.get(), "shape", nir_shape(net.input_shape));
  }
  for (std::size_t i = 0; i < net.populations.size(); ++i) {
    const auto role = net.populations[i].role;
    if (role == snn::PopulationRole::Hidden || role == snn::PopulationRole::Output)
      node_of[static_cast<int>(i)] = write_layer(g, i, node_of);
  }
  {
    const auto& out = net.populations.at(static_cast<std::size_t>(net.output));
    Handle o = group(nodes.get(), "output");
    write_string(o.get(), "type", "Output");
    write_ints(o.get(), "shape", nir_shape(out.shape));
    g.edges.emplace_back(node_of.at(net.output), "output");
  }
  write_edges(root.get(), g.edges);
  write_metadata(root.get(), net);
}

}  // namespace

float strict_threshold(float threshold, const snn::WeightFormat& format) {
  if (!format.is_float) return static_cast<float>(threshold - 1.0 / format.fixed.scale());
  return std::nextafter(threshold, -INFINITY);
}

void export_nir(const snn::Network& network, const std::filesystem::path& path) {
  snn::validate(network, path.string());
  write_file_atomically(path, [&](const std::filesystem::path& tmp) {
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    write_graph(network, file.get());
  });
}

}  // namespace grindstone::exporters
