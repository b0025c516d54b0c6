#include <doctest/doctest.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "snn_runtime/network/snn_file.hpp"

using namespace grindstone;
using namespace grindstone::snn;

namespace {

/// A small network using every connector kind, both neuron models and every role.
Network sample_network() {
  Network n;
  auto pop = [&](std::string name, PopulationRole role, Shape shape, int tick, bool with_threshold) {
    Population p;
    p.name = std::move(name);
    p.role = role;
    p.shape = std::move(shape);
    p.tick = tick;
    if (with_threshold)
      for (std::int64_t i = 0; i < p.size(); ++i) p.threshold.push_back(0.5f - 0.01f * static_cast<float>(i % 7));
    n.populations.push_back(std::move(p));
  };
  pop("input", PopulationRole::Input, Shape{6, 6, 1}, 0, false);
  pop("bias_start", PopulationRole::Bias, Shape{1}, 0, false);
  pop("conv", PopulationRole::Hidden, Shape{6, 6, 2}, 1, true);
  pop("bias_pool", PopulationRole::Bias, Shape{1}, 1, true);
  pop("pool", PopulationRole::Hidden, Shape{3, 3, 2}, 2, true);
  pop("out", PopulationRole::Output, Shape{18}, 3, true);
  n.populations[5].model = NeuronModel::IntegrateAndFire;
  n.populations[5].bias_current.assign(18, 0.25f);
  n.populations[2].temporal_groups = 1;
  n.populations[0].input_bit = -1;
  ConvConnector c;
  c.kernel_h = c.kernel_w = 3;
  c.in_channels = 1;
  c.out_channels = 2;
  c.pad_top = c.pad_left = 1;
  c.kernel = Eigen::MatrixXf::Random(9, 2);
  n.projections.push_back({"input->conv", 0, 2, c, 1.0f});
  n.projections.push_back({"bias_start->conv", 1, 2, DenseConnector{Eigen::MatrixXf::Random(1, 72)}, 1.0f});
  n.projections.push_back({"bias_start->bias_pool", 1, 3, OneToOneConnector{1.0f}, 1.0f});
  PoolConnector p;
  p.weight = 1.0f;
  n.projections.push_back({"conv->pool", 2, 4, p, 1.0f});
  n.projections.push_back({"pool->out", 4, 5, DenseConnector{Eigen::MatrixXf::Random(18, 18)}, 0.125f});
  n.weights.is_float = false;
  n.weights.fixed = FixedPointFormat{3, 9};
  n.bias_mode = "neurons";
  n.input = InputEncoding::Bitplanes;
  n.input_shape = Shape{6, 6, 1};
  n.decode.kind = Decode::Kind::NHotKey;
  n.decode.classes = 3;
  n.decode.key = Eigen::MatrixXf::Zero(3, 18);
  for (int j = 0; j < 18; ++j) n.decode.key(j % 3, j) = 1.0f;
  n.output = 5;
  n.provenance = {"model.h5", std::string(64, 'a'), {"lower_activations", "quantise"}, "grindstone 0.1"};
  return n;
}

void check_equal(const Network& a, const Network& b) {
  REQUIRE(a.populations.size() == b.populations.size());
  for (std::size_t i = 0; i < a.populations.size(); ++i) {
    const auto &x = a.populations[i], &y = b.populations[i];
    CHECK(x.name == y.name);
    CHECK(x.role == y.role);
    CHECK(x.model == y.model);
    CHECK(x.shape == y.shape);
    CHECK(x.threshold == y.threshold);
    CHECK(x.bias_current == y.bias_current);
    CHECK(x.tick == y.tick);
    CHECK(x.temporal_groups == y.temporal_groups);
    CHECK(x.source_layer == y.source_layer);
    CHECK(x.input_bit == y.input_bit);
  }
  REQUIRE(a.projections.size() == b.projections.size());
  for (std::size_t i = 0; i < a.projections.size(); ++i) {
    const auto &x = a.projections[i], &y = b.projections[i];
    CHECK(x.name == y.name);
    CHECK(x.pre == y.pre);
    CHECK(x.post == y.post);
    CHECK(x.weight_scale == y.weight_scale);
    REQUIRE(x.connector.index() == y.connector.index());
    if (auto* d = std::get_if<DenseConnector>(&x.connector)) CHECK(d->weights == std::get<DenseConnector>(y.connector).weights);
    if (auto* c = std::get_if<ConvConnector>(&x.connector)) {
      const auto& e = std::get<ConvConnector>(y.connector);
      CHECK(c->kernel == e.kernel);
      CHECK(c->pad_top == e.pad_top);
      CHECK(c->pad_left == e.pad_left);
      CHECK(c->kernel_h == e.kernel_h);
      CHECK(c->out_channels == e.out_channels);
    }
    if (auto* p = std::get_if<PoolConnector>(&x.connector)) CHECK(p->weight == std::get<PoolConnector>(y.connector).weight);
  }
  CHECK(a.weights.to_string() == b.weights.to_string());
  CHECK(a.bias_mode == b.bias_mode);
  CHECK(a.input == b.input);
  CHECK(a.input_shape == b.input_shape);
  CHECK(a.decode.kind == b.decode.kind);
  CHECK(a.decode.key == b.decode.key);
  CHECK(a.decode.classes == b.decode.classes);
  CHECK(a.output == b.output);
  CHECK(a.provenance.source_file == b.provenance.source_file);
  CHECK(a.provenance.source_sha256 == b.provenance.source_sha256);
  CHECK(a.provenance.passes == b.provenance.passes);
  CHECK(a.provenance.grindstone_version == b.provenance.grindstone_version);
}

struct TempFolder {
  std::filesystem::path path;
  TempFolder() {
    path = std::filesystem::temp_directory_path() /
           ("grindstone_snn_file_test_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// Opens `path` read-write and applies `edit` to the file handle.
template <class Edit>
void edit_file(const std::filesystem::path& path, Edit edit) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  edit(f);
  H5Fclose(f);
}

void set_int_attr(hid_t loc, const char* object, const char* name, std::int64_t v) {
  const hid_t obj = H5Oopen(loc, object, H5P_DEFAULT);
  H5Adelete(obj, name);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, H5T_NATIVE_INT64, &v);
  H5Aclose(attr);
  H5Sclose(space);
  H5Oclose(obj);
}

void replace_float_dataset(hid_t loc, const char* path, std::vector<hsize_t> dims) {
  H5Ldelete(loc, path, H5P_DEFAULT);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t set = H5Dcreate2(loc, path, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  std::size_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<float> zeros(n, 0.0f);
  H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data());
  H5Dclose(set);
  H5Sclose(space);
}

void check_refused(const std::filesystem::path& path, const std::string& field) {
  try {
    load_network(path);
    FAIL("loaded a corrupt file (" << field << ")");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK_MESSAGE(msg.find(path.filename().string()) != std::string::npos, msg);
    CHECK_MESSAGE(msg.find(field) != std::string::npos, msg);
  }
}

}  // namespace

TEST_CASE("snn file: save/load round trip keeps everything") {
  TempFolder tmp;
  const auto path = tmp.path / "net.snn.h5";
  const Network net = sample_network();
  save_network(net, path);
  check_equal(net, load_network(path));
  // Overwriting works and leaves no temporary behind.
  save_network(net, path);
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path)) ++files;
  CHECK(files == 1);
}

TEST_CASE("snn file: a corrupt corpus is refused with file and field named") {
  TempFolder tmp;
  const Network net = sample_network();
  const auto good = tmp.path / "good.snn.h5";
  save_network(net, good);
  auto copy = [&](const std::string& name) {
    const auto p = tmp.path / name;
    std::filesystem::copy_file(good, p, std::filesystem::copy_options::overwrite_existing);
    return p;
  };

  SUBCASE("unknown version says which version it found") {
    const auto p = copy("v7.snn.h5");
    edit_file(p, [](hid_t f) { set_int_attr(f, "/", "version", 7); });
    CHECK_THROWS_WITH_AS(load_network(p), doctest::Contains("found version 7"), InputError);
  }
  SUBCASE("wrong format attribute") {
    const auto p = copy("fmt.snn.h5");
    edit_file(p, [](hid_t f) { H5Adelete(f, "format"); });
    check_refused(p, "format");
  }
  SUBCASE("missing groups") {
    for (const char* group : {"populations", "projections", "decode", "provenance"}) {
      const auto p = copy(std::string("missing_") + group + ".snn.h5");
      edit_file(p, [&](hid_t f) { H5Ldelete(f, group, H5P_DEFAULT); });
      check_refused(p, group);
    }
    const auto p = copy("missing_pop.snn.h5");
    edit_file(p, [](hid_t f) { H5Ldelete(f, "populations/000003", H5P_DEFAULT); });
    check_refused(p, "populations/000003");
  }
  SUBCASE("dense weights that do not match the population sizes") {
    const auto p = copy("weights.snn.h5");
    edit_file(p, [](hid_t f) { replace_float_dataset(f, "projections/000004/weights", {18, 17}); });
    check_refused(p, "projections/000004/weights");
  }
  SUBCASE("threshold length different from the population size") {
    const auto p = copy("threshold.snn.h5");
    edit_file(p, [](hid_t f) { replace_float_dataset(f, "populations/000002/threshold", {71}); });
    check_refused(p, "populations/000002/threshold");
  }
  SUBCASE("conv kernel of the wrong shape") {
    const auto p = copy("kernel.snn.h5");
    edit_file(p, [](hid_t f) { replace_float_dataset(f, "projections/000000/kernel", {8, 2}); });
    check_refused(p, "projections/000000/kernel");
  }
  SUBCASE("decode key of the wrong width") {
    const auto p = copy("key.snn.h5");
    edit_file(p, [](hid_t f) { replace_float_dataset(f, "decode/key", {3, 17}); });
    check_refused(p, "decode/key");
  }
  SUBCASE("projection index out of range") {
    const auto p = copy("index.snn.h5");
    edit_file(p, [](hid_t f) { set_int_attr(f, "projections/000001", "post", 99); });
    check_refused(p, "projections/000001/post");
  }
  SUBCASE("truncated files and non-HDF5 files") {
    const auto size = std::filesystem::file_size(good);
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (double fraction : {0.0, 0.1, 0.5, 0.9, 0.99}) {
      const auto p = tmp.path / ("cut" + std::to_string(static_cast<int>(fraction * 100)) + ".snn.h5");
      std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(size * fraction));
      CHECK_THROWS_AS(load_network(p), InputError);
    }
    const auto text = tmp.path / "text.snn.h5";
    std::ofstream(text) << "not hdf5\n";
    check_refused(text, "not an HDF5 file");
    CHECK_THROWS_AS(load_network(tmp.path / "absent.snn.h5"), InputError);
  }
}

TEST_CASE("snn file: save refuses an inconsistent network") {
  TempFolder tmp;
  Network net = sample_network();
  net.populations[2].threshold.pop_back();
  CHECK_THROWS_AS(save_network(net, tmp.path / "bad.snn.h5"), InputError);
  CHECK(!std::filesystem::exists(tmp.path / "bad.snn.h5"));
}
