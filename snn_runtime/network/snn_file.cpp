#include "snn_runtime/network/snn_file.hpp"
#include "common/contained.hpp"

#include <hdf5.h>

#include <array>
#include <limits>
#include <utility>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/hdf5_handle.hpp"

namespace grindstone::snn {

namespace {

using Handle = Hdf5Handle;

/// Silences HDF5's automatic error printing while alive (errors become our InputErrors).
class QuietHdf5 {
 public:
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
  QuietHdf5(const QuietHdf5&) = delete;
  QuietHdf5& operator=(const QuietHdf5&) = delete;

 private:
  H5E_auto2_t function_ = nullptr;
  void* data_ = nullptr;
};

void check(herr_t status, const std::string& what) {
  if (status < 0) throw InternalError("HDF5: " + what + " failed");
}

// ---------------------------------------------------------------- writing

Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  check(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

void put_string(hid_t loc, const char* name, const std::string& value) {
  Handle type = string_type();
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(loc, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const char* p = value.c_str();
  check(H5Awrite(attr.get(), type.get(), &p), std::string("write attribute ") + name);
}

void put_int(hid_t loc, const char* name, std::int64_t value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(loc, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  check(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), std::string("write attribute ") + name);
}

void put_float(hid_t loc, const char* name, double value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(loc, name, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  check(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &value), std::string("write attribute ") + name);
}

void put_dataset(hid_t loc, const char* name, hid_t file_type, hid_t mem_type, const void* data,
                 const std::vector<hsize_t>& dims) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle set(H5Dcreate2(loc, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  check(set.valid() ? 0 : -1, std::string("create dataset ") + name);
  check(H5Dwrite(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), std::string("write dataset ") + name);
}

void put_floats(hid_t loc, const char* name, const std::vector<float>& values) {
  put_dataset(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, values.data(), {values.size()});
}

/// Writes an Eigen matrix as a row-major (rows, cols) dataset.
void put_matrix(hid_t loc, const char* name, const Eigen::MatrixXf& m) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMajor rm = m;
  put_dataset(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rm.data(),
              {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(m.cols())});
}

void put_shape(hid_t loc, const char* name, const Shape& shape) {
  const std::vector<std::int64_t> dims = shape.dims;
  put_dataset(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, dims.data(), {dims.size()});
}

Handle make_group(hid_t loc, const std::string& name) {
  Handle g(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  check(g.valid() ? 0 : -1, "create group " + name);
  return g;
}

std::string index_name(std::size_t i) {
  std::string digits = std::to_string(i);
  return digits.size() >= 6 ? digits : std::string(6 - digits.size(), '0') + digits;
}

const char* role_name(PopulationRole r) {
  switch (r) {
    case PopulationRole::Input: return "input";
    case PopulationRole::Bias: return "bias";
    case PopulationRole::Hidden: return "hidden";
    case PopulationRole::Output: return "output";
  }
  return "hidden";
}

const char* encoding_name(InputEncoding e) {
  switch (e) {
    case InputEncoding::Threshold: return "threshold";
    case InputEncoding::Bitplanes: return "bitplanes";
    case InputEncoding::Real: return "real";
  }
  return "threshold";
}

void write_network(const Network& net, const std::filesystem::path& path) {
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) throw InputError(path.string() + ": cannot create the file");
  const hid_t root = file.get();
  put_string(root, "format", "grindstone-snn");
  put_int(root, "version", kSnnFileVersion);
  put_string(root, "weights_format", net.weights.to_string());
  put_string(root, "bias_mode", net.bias_mode);
  put_string(root, "input_encoding", encoding_name(net.input));
  put_int(root, "output", net.output);
  put_shape(root, "input_shape", net.input_shape);
  {
    Handle pops = make_group(root, "populations");
    for (std::size_t i = 0; i < net.populations.size(); ++i) {
      const Population& p = net.populations[i];
      Handle g = make_group(pops.get(), index_name(i));
      put_string(g.get(), "name", p.name);
      put_string(g.get(), "role", role_name(p.role));
      put_string(g.get(), "model", p.model == NeuronModel::InstantDecay ? "instant_decay" : "integrate_and_fire");
      put_int(g.get(), "tick", p.tick);
      put_int(g.get(), "temporal_groups", p.temporal_groups);
      put_string(g.get(), "source_layer", p.source_layer);
      put_int(g.get(), "input_bit", p.input_bit);
      put_shape(g.get(), "shape", p.shape);
      if (!p.threshold.empty()) put_floats(g.get(), "threshold", p.threshold);
      if (!p.bias_current.empty()) put_floats(g.get(), "bias_current", p.bias_current);
      if (!p.v_reset.empty()) put_floats(g.get(), "v_reset", p.v_reset);
    }
  }
  {
    Handle prjs = make_group(root, "projections");
    for (std::size_t i = 0; i < net.projections.size(); ++i) {
      const Projection& pr = net.projections[i];
      Handle g = make_group(prjs.get(), index_name(i));
      const hid_t id = g.get();
      put_string(id, "name", pr.name);
      put_int(id, "pre", pr.pre);
      put_int(id, "post", pr.post);
      put_string(id, "kind", connector_kind(pr.connector));
      put_float(id, "weight_scale", pr.weight_scale);
      if (const auto* d = std::get_if<DenseConnector>(&pr.connector)) {
        put_matrix(id, "weights", d->weights);
      } else if (const auto* c = std::get_if<ConvConnector>(&pr.connector)) {
        put_int(id, "kernel_h", c->kernel_h);
        put_int(id, "kernel_w", c->kernel_w);
        put_int(id, "in_channels", c->in_channels);
        put_int(id, "out_channels", c->out_channels);
        put_int(id, "stride_h", c->stride_h);
        put_int(id, "stride_w", c->stride_w);
        put_int(id, "dilation_h", c->dilation_h);
        put_int(id, "dilation_w", c->dilation_w);
        put_int(id, "pad_top", c->pad_top);
        put_int(id, "pad_left", c->pad_left);
        put_matrix(id, "kernel", c->kernel);
      } else if (const auto* p = std::get_if<PoolConnector>(&pr.connector)) {
        put_int(id, "pool_h", p->pool_h);
        put_int(id, "pool_w", p->pool_w);
        put_int(id, "stride_h", p->stride_h);
        put_int(id, "stride_w", p->stride_w);
        put_int(id, "pad_top", p->pad_top);
        put_int(id, "pad_left", p->pad_left);
        put_float(id, "weight", p->weight);
      } else {
        put_float(id, "weight", std::get<OneToOneConnector>(pr.connector).weight);
      }
    }
  }
  {
    Handle g = make_group(root, "decode");
    put_string(g.get(), "kind", net.decode.kind == Decode::Kind::NHotKey ? "n_hot_key" : "spike_count");
    put_int(g.get(), "classes", net.decode.classes);
    put_int(g.get(), "tie_break_by_potential", net.decode.tie_break_by_potential ? 1 : 0);
    if (net.decode.kind == Decode::Kind::NHotKey) put_matrix(g.get(), "key", net.decode.key);
  }
  {
    Handle g = make_group(root, "provenance");
    put_string(g.get(), "source_file", net.provenance.source_file);
    put_string(g.get(), "source_sha256", net.provenance.source_sha256);
    put_string(g.get(), "grindstone_version", net.provenance.grindstone_version);
    std::vector<const char*> passes;
    for (const auto& s : net.provenance.passes) passes.push_back(s.c_str());
    Handle type = string_type();
    put_dataset(g.get(), "passes", type.get(), type.get(), passes.data(), {passes.size()});
  }
  check(H5Fflush(root, H5F_SCOPE_GLOBAL), "flush");
}

// ---------------------------------------------------------------- reading

/// Reading context: the file name and the path of the object being read, for messages.
struct Reader {
  std::string file;

  [[noreturn]] void fail(const std::string& field, const std::string& message) const {
    throw InputError(file + ": " + field + ": " + message);
  }

  Handle open_group(hid_t loc, const std::string& name, const std::string& field) const {
    if (H5Lexists(loc, name.c_str(), H5P_DEFAULT) <= 0) fail(field, "missing group");
    Handle g(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose);
    if (!g.valid()) fail(field, "cannot open group (corrupt or not a group)");
    return g;
  }

  Handle open_attr(hid_t loc, const char* name, const std::string& field) const {
    if (H5Aexists(loc, name) <= 0) fail(field, "missing attribute");
    Handle a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
    if (!a.valid()) fail(field, "cannot open attribute");
    Handle space(H5Aget_space(a.get()), H5Sclose);
    if (H5Sget_simple_extent_npoints(space.get()) != 1) fail(field, "expected a scalar attribute");
    return a;
  }

  std::string get_string(hid_t loc, const char* name, const std::string& field) const {
    Handle a = open_attr(loc, name, field);
    Handle type(H5Aget_type(a.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) fail(field, "expected a string attribute");
    if (H5Tis_variable_str(type.get()) > 0) {
      Handle mem = string_type();
      char* p = nullptr;
      if (H5Aread(a.get(), mem.get(), &p) < 0) fail(field, "cannot read (truncated file?)");
      std::string out = p ? p : "";
      if (p) H5free_memory(p);
      return out;
    }
    const std::size_t size = H5Tget_size(type.get());
    if (size == 0 || size > (1u << 20)) fail(field, "absurd string length");
    std::string out(size, '\0');
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), size);
    if (H5Aread(a.get(), mem.get(), out.data()) < 0) fail(field, "cannot read (truncated file?)");
    out.resize(out.find('\0') == std::string::npos ? out.size() : out.find('\0'));
    return out;
  }

  std::int64_t get_int(hid_t loc, const char* name, const std::string& field) const {
    Handle a = open_attr(loc, name, field);
    Handle type(H5Aget_type(a.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_INTEGER) fail(field, "expected an integer attribute");
    std::int64_t v = 0;
    if (H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0) fail(field, "cannot read (truncated file?)");
    return v;
  }

  int get_small_int(hid_t loc, const char* name, const std::string& field, std::int64_t lo, std::int64_t hi) const {
    const auto v = get_int(loc, name, field);
    if (v < lo || v > hi) fail(field, std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    return static_cast<int>(v);
  }

  double get_float(hid_t loc, const char* name, const std::string& field) const {
    Handle a = open_attr(loc, name, field);
    Handle type(H5Aget_type(a.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_FLOAT) fail(field, "expected a floating-point attribute");
    double v = 0;
    if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0) fail(field, "cannot read (truncated file?)");
    return v;
  }

  /// Opens a dataset and returns it with its dimensions (checked: rank ≤ 4, ≤ 2^31 elements).
  std::pair<Handle, std::vector<hsize_t>> open_dataset(hid_t loc, const char* name, const std::string& field,
                                                       H5T_class_t cls) const {
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) fail(field, "missing dataset");
    Handle set(H5Dopen2(loc, name, H5P_DEFAULT), H5Dclose);
    if (!set.valid()) fail(field, "cannot open dataset (corrupt or not a dataset)");
    Handle type(H5Dget_type(set.get()), H5Tclose);
    if (H5Tget_class(type.get()) != cls) fail(field, "unexpected element type");
    Handle space(H5Dget_space(set.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > 4) fail(field, "unexpected rank " + std::to_string(rank));
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    double elements = 1;
    for (auto d : dims) elements *= static_cast<double>(d);
    if (elements > static_cast<double>(std::numeric_limits<std::int32_t>::max())) fail(field, "absurd size");
    if (const auto why = dataset_exceeds_file(set.get(), elements)) fail(field, *why);
    return {std::move(set), dims};
  }

  std::vector<float> get_floats(hid_t loc, const char* name, const std::string& field) const {
    auto [set, dims] = open_dataset(loc, name, field, H5T_FLOAT);
    if (dims.size() != 1) fail(field, "expected a 1-D dataset");
    std::vector<float> out(dims[0]);
    if (!out.empty() && H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
      fail(field, "cannot read (truncated file?)");
    return out;
  }

  Eigen::MatrixXf get_matrix(hid_t loc, const char* name, const std::string& field) const {
    auto [set, dims] = open_dataset(loc, name, field, H5T_FLOAT);
    if (dims.size() != 2) fail(field, "expected a 2-D dataset");
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm(dims[0], dims[1]);
    if (rm.size() > 0 && H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, rm.data()) < 0)
      fail(field, "cannot read (truncated file?)");
    return rm;
  }

  Shape get_shape(hid_t loc, const char* name, const std::string& field) const {
    auto [set, dims] = open_dataset(loc, name, field, H5T_INTEGER);
    if (dims.size() != 1 || dims[0] == 0 || dims[0] > 8) fail(field, "expected 1 to 8 dimensions");
    std::vector<std::int64_t> d(dims[0]);
    if (H5Dread(set.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.data()) < 0)
      fail(field, "cannot read (truncated file?)");
    double elements = 1;
    for (auto v : d) {
      if (v <= 0) fail(field, "non-positive dimension " + std::to_string(v));
      elements *= static_cast<double>(v);
    }
    if (elements > static_cast<double>(std::numeric_limits<std::int32_t>::max())) fail(field, "absurd size");
    return Shape(std::move(d));
  }

  std::vector<std::string> get_strings(hid_t loc, const char* name, const std::string& field) const {
    auto [set, dims] = open_dataset(loc, name, field, H5T_STRING);
    if (dims.size() != 1) fail(field, "expected a 1-D dataset");
    std::vector<char*> raw(dims[0], nullptr);
    Handle mem = string_type();
    if (!raw.empty() && H5Dread(set.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
      fail(field, "cannot read (truncated file?)");
    std::vector<std::string> out;
    for (char* p : raw) {
      out.emplace_back(p ? p : "");
      if (p) H5free_memory(p);
    }
    return out;
  }

  /// Number of children of a group named 000000, 000001, … (checked consecutive).
  std::size_t count_children(hid_t group, const std::string& field) const {
    H5G_info_t info{};
    if (H5Gget_info(group, &info) < 0) fail(field, "cannot list (truncated file?)");
    if (info.nlinks > 10'000'000) fail(field, "absurd number of entries");
    for (hsize_t i = 0; i < info.nlinks; ++i)
      if (H5Lexists(group, index_name(i).c_str(), H5P_DEFAULT) <= 0)
        fail(field + "/" + index_name(i), "missing group (entries must be numbered consecutively)");
    return info.nlinks;
  }
};

PopulationRole parse_role(const Reader& r, const std::string& s, const std::string& field) {
  if (s == "input") return PopulationRole::Input;
  if (s == "bias") return PopulationRole::Bias;
  if (s == "hidden") return PopulationRole::Hidden;
  if (s == "output") return PopulationRole::Output;
  r.fail(field, "unknown role '" + s + "'");
}

Network read_network(const Reader& r, hid_t root) {
  const std::string format = r.get_string(root, "format", "format");
  if (format != "grindstone-snn") r.fail("format", "'" + format + "' is not 'grindstone-snn'");
  const auto version = r.get_int(root, "version", "version");
  if (version != kSnnFileVersion)
    r.fail("version", "found version " + std::to_string(version) + ", but this build reads version " +
                          std::to_string(kSnnFileVersion));
  Network net;
  const std::string wf = r.get_string(root, "weights_format", "weights_format");
  if (wf != "float") {
    net.weights.is_float = false;
    try {
      net.weights.fixed = FixedPointFormat::parse(wf, "weights_format");
    } catch (const InputError& e) {
      r.fail("weights_format", e.what());
    }
  }
  net.bias_mode = r.get_string(root, "bias_mode", "bias_mode");
  if (net.bias_mode != "neurons" && net.bias_mode != "threshold" && net.bias_mode != "current") r.fail("bias_mode", "unknown '" + net.bias_mode + "'");
  const std::string enc = r.get_string(root, "input_encoding", "input_encoding");
  if (enc == "threshold") net.input = InputEncoding::Threshold;
  else if (enc == "bitplanes") net.input = InputEncoding::Bitplanes;
  else if (enc == "real") net.input = InputEncoding::Real;
  else r.fail("input_encoding", "unknown '" + enc + "'");
  net.output = r.get_small_int(root, "output", "output", -1, std::numeric_limits<int>::max());
  net.input_shape = r.get_shape(root, "input_shape", "input_shape");

  Handle pops = r.open_group(root, "populations", "populations");
  const std::size_t n_pops = r.count_children(pops.get(), "populations");
  for (std::size_t i = 0; i < n_pops; ++i) {
    const std::string f = "populations/" + index_name(i);
    Handle g = r.open_group(pops.get(), index_name(i), f);
    Population p;
    p.name = r.get_string(g.get(), "name", f + "/name");
    p.role = parse_role(r, r.get_string(g.get(), "role", f + "/role"), f + "/role");
    const std::string model = r.get_string(g.get(), "model", f + "/model");
    if (model == "instant_decay") p.model = NeuronModel::InstantDecay;
    else if (model == "integrate_and_fire") p.model = NeuronModel::IntegrateAndFire;
    else r.fail(f + "/model", "unknown '" + model + "'");
    p.tick = r.get_small_int(g.get(), "tick", f + "/tick", 0, 1'000'000);
    p.temporal_groups = r.get_small_int(g.get(), "temporal_groups", f + "/temporal_groups", 1, 1'000'000);
    p.source_layer = r.get_string(g.get(), "source_layer", f + "/source_layer");
    p.input_bit = r.get_small_int(g.get(), "input_bit", f + "/input_bit", -1, 7);
    p.shape = r.get_shape(g.get(), "shape", f + "/shape");
    if (H5Lexists(g.get(), "threshold", H5P_DEFAULT) > 0) p.threshold = r.get_floats(g.get(), "threshold", f + "/threshold");
    if (H5Lexists(g.get(), "bias_current", H5P_DEFAULT) > 0)
      p.bias_current = r.get_floats(g.get(), "bias_current", f + "/bias_current");
    if (H5Lexists(g.get(), "v_reset", H5P_DEFAULT) > 0) p.v_reset = r.get_floats(g.get(), "v_reset", f + "/v_reset");
    if (!p.threshold.empty() && static_cast<std::int64_t>(p.threshold.size()) != p.size())
      r.fail(f + "/threshold", std::to_string(p.threshold.size()) + " values but shape " + p.shape.to_string() +
                                   " has " + std::to_string(p.size()) + " neurons");
    net.populations.push_back(std::move(p));
  }

  Handle prjs = r.open_group(root, "projections", "projections");
  const std::size_t n_prj = r.count_children(prjs.get(), "projections");
  const auto max_index = static_cast<std::int64_t>(n_pops) - 1;
  for (std::size_t i = 0; i < n_prj; ++i) {
    const std::string f = "projections/" + index_name(i);
    Handle g = r.open_group(prjs.get(), index_name(i), f);
    const hid_t id = g.get();
    Projection pr;
    pr.name = r.get_string(id, "name", f + "/name");
    pr.pre = r.get_small_int(id, "pre", f + "/pre", 0, max_index);
    pr.post = r.get_small_int(id, "post", f + "/post", 0, max_index);
    pr.weight_scale = static_cast<float>(r.get_float(id, "weight_scale", f + "/weight_scale"));
    const std::string kind = r.get_string(id, "kind", f + "/kind");
    const auto& pre = net.populations[static_cast<std::size_t>(pr.pre)];
    const auto& post = net.populations[static_cast<std::size_t>(pr.post)];
    if (kind == "dense") {
      DenseConnector d{r.get_matrix(id, "weights", f + "/weights")};
      if (d.weights.rows() != pre.size() || d.weights.cols() != post.size())
        r.fail(f + "/weights", "shape (" + std::to_string(d.weights.rows()) + ", " + std::to_string(d.weights.cols()) +
                                   ") but pre '" + pre.name + "' has " + std::to_string(pre.size()) + " and post '" +
                                   post.name + "' " + std::to_string(post.size()) + " neurons");
      pr.connector = std::move(d);
    } else if (kind == "conv") {
      ConvConnector c;
      const int big = 1 << 20;
      c.kernel_h = r.get_small_int(id, "kernel_h", f + "/kernel_h", 1, big);
      c.kernel_w = r.get_small_int(id, "kernel_w", f + "/kernel_w", 1, big);
      c.in_channels = r.get_small_int(id, "in_channels", f + "/in_channels", 1, big);
      c.out_channels = r.get_small_int(id, "out_channels", f + "/out_channels", 1, big);
      c.stride_h = r.get_small_int(id, "stride_h", f + "/stride_h", 1, big);
      c.stride_w = r.get_small_int(id, "stride_w", f + "/stride_w", 1, big);
      c.dilation_h = r.get_small_int(id, "dilation_h", f + "/dilation_h", 1, big);
      c.dilation_w = r.get_small_int(id, "dilation_w", f + "/dilation_w", 1, big);
      c.pad_top = r.get_small_int(id, "pad_top", f + "/pad_top", 0, big);
      c.pad_left = r.get_small_int(id, "pad_left", f + "/pad_left", 0, big);
      c.kernel = r.get_matrix(id, "kernel", f + "/kernel");
      if (c.kernel.rows() != static_cast<Eigen::Index>(c.kernel_h) * c.kernel_w * c.in_channels ||
          c.kernel.cols() != c.out_channels)
        r.fail(f + "/kernel", "shape (" + std::to_string(c.kernel.rows()) + ", " + std::to_string(c.kernel.cols()) +
                                  ") does not match kernel_h·kernel_w·in_channels × out_channels");
      pr.connector = std::move(c);
    } else if (kind == "pool") {
      PoolConnector p;
      const int big = 1 << 20;
      p.pool_h = r.get_small_int(id, "pool_h", f + "/pool_h", 1, big);
      p.pool_w = r.get_small_int(id, "pool_w", f + "/pool_w", 1, big);
      p.stride_h = r.get_small_int(id, "stride_h", f + "/stride_h", 1, big);
      p.stride_w = r.get_small_int(id, "stride_w", f + "/stride_w", 1, big);
      p.pad_top = r.get_small_int(id, "pad_top", f + "/pad_top", 0, big);
      p.pad_left = r.get_small_int(id, "pad_left", f + "/pad_left", 0, big);
      p.weight = static_cast<float>(r.get_float(id, "weight", f + "/weight"));
      pr.connector = p;
    } else if (kind == "one_to_one") {
      pr.connector = OneToOneConnector{static_cast<float>(r.get_float(id, "weight", f + "/weight"))};
    } else {
      r.fail(f + "/kind", "unknown connector kind '" + kind + "'");
    }
    net.projections.push_back(std::move(pr));
  }

  Handle dec = r.open_group(root, "decode", "decode");
  const std::string kind = r.get_string(dec.get(), "kind", "decode/kind");
  net.decode.classes = r.get_small_int(dec.get(), "classes", "decode/classes", 1, 1'000'000);
  net.decode.tie_break_by_potential = r.get_int(dec.get(), "tie_break_by_potential", "decode/tie_break_by_potential") != 0;
  if (kind == "n_hot_key") {
    net.decode.kind = Decode::Kind::NHotKey;
    net.decode.key = r.get_matrix(dec.get(), "key", "decode/key");
  } else if (kind == "spike_count") {
    net.decode.kind = Decode::Kind::SpikeCount;
  } else {
    r.fail("decode/kind", "unknown '" + kind + "'");
  }

  Handle prov = r.open_group(root, "provenance", "provenance");
  net.provenance.source_file = r.get_string(prov.get(), "source_file", "provenance/source_file");
  net.provenance.source_sha256 = r.get_string(prov.get(), "source_sha256", "provenance/source_sha256");
  net.provenance.grindstone_version = r.get_string(prov.get(), "grindstone_version", "provenance/grindstone_version");
  net.provenance.passes = r.get_strings(prov.get(), "passes", "provenance/passes");
  return net;
}

}  // namespace

void save_network(const Network& network, const std::filesystem::path& path) {
  validate(network, path.string());
  QuietHdf5 quiet;
  write_file_atomically(path, [&](const std::filesystem::path& tmp) { write_network(network, tmp); });
}

Network load_network_in_process(const std::filesystem::path& path) {
  const Reader reader{path.string()};
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path.string() + ": no such file");
  QuietHdf5 quiet;
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw InputError(path.string() + ": not an HDF5 file (or truncated)");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) throw InputError(path.string() + ": cannot open as HDF5 (truncated or corrupt)");
  Network net = read_network(reader, file.get());
  validate(net, path.string());
  return net;
}

Network load_network(const std::filesystem::path& path) {
  // A damaged .snn.h5 can crash libhdf5 (variable-length strings): read once in a child first.
  run_contained(path.string(), [&] { (void)load_network_in_process(path); });
  return load_network_in_process(path);
}

}  // namespace grindstone::snn
