// .npy / .npz readers and users' own data sets: hand-made good and malformed files.
#include <doctest/doctest.h>
#include <zip.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "datasets/encoding.hpp"
#include "datasets/npy.hpp"
#include "datasets/user_data.hpp"
#include "testing/temp_dir.hpp"

using namespace grindstone;
using namespace grindstone::datasets;
namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

/// A .npy file with the given header dict text, version and data bytes (no padding rules: the
/// reader must not depend on them).
Bytes npy(const std::string& dict, const Bytes& data, int major = 1) {
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
  const std::string header = dict + "\n";
  if (major == 1) {
    b.push_back(static_cast<std::uint8_t>(header.size() & 0xff));
    b.push_back(static_cast<std::uint8_t>(header.size() >> 8));
  } else {
    for (int k = 0; k < 4; ++k) b.push_back(static_cast<std::uint8_t>(header.size() >> (8 * k)));
  }
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::string dict(const std::string& descr, const std::string& shape, const std::string& order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
}

void write(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

/// An .npz of `members` (name → bytes); `deflate` compresses them as np.savez_compressed does.
void write_npz(const fs::path& p, const std::vector<std::pair<std::string, Bytes>>& members, bool deflate) {
  int error = 0;
  zip_t* z = zip_open(p.string().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  REQUIRE(z != nullptr);
  for (const auto& [name, bytes] : members) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    REQUIRE(src != nullptr);
    const zip_int64_t index = zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
    REQUIRE(index >= 0);
    REQUIRE(zip_set_file_compression(z, static_cast<zip_uint64_t>(index), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) == 0);
  }
  REQUIRE(zip_close(z) == 0);
}

Bytes u8_data(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 % 256);
  return b;
}

template <typename T>
Bytes raw(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

void expect_error(const Bytes& file, const std::string& must_contain) {
  try {
    (void)parse_npy(file, "f.npy");
    FAIL("accepted a malformed file; expected: " << must_contain);
  } catch (const InputError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("f.npy: ") == 0);
    CHECK(msg.find(must_contain) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

}  // namespace

TEST_CASE("npy: encode_npy round-trips float32 and int32, with a 64-byte aligned header") {
  const std::vector<float> f = {0.0f, 0.5f, -1.25f, 3e8f, 1e-7f, 2.0f};
  const Bytes file = encode_npy(std::span<const float>(f), {2, 3});
  const std::size_t header_len = std::size_t{file[8]} | std::size_t{file[9]} << 8;
  CHECK((10 + header_len) % 64 == 0);
  const NpyArray a = parse_npy(file, "f.npy");
  CHECK(a.kind == NpyKind::Float);
  CHECK(a.dtype_name() == "float32");
  CHECK(a.shape == std::vector<std::int64_t>{2, 3});
  for (std::size_t i = 0; i < f.size(); ++i) CHECK(a.value(static_cast<std::int64_t>(i)) == static_cast<double>(f[i]));
  const std::vector<std::int32_t> v = {-5, 7, 1 << 30};
  const NpyArray b = parse_npy(encode_npy(std::span<const std::int32_t>(v), {3}), "i.npy");
  CHECK(b.shape_string() == "(3,)");
  CHECK(b.value(0) == -5);
  CHECK(b.value(2) == (1 << 30));
}

TEST_CASE("npy: versions 2.0 and 3.0, big-endian, Fortran order, bool and scalar arrays") {
  const NpyArray v2 = parse_npy(npy(dict("|u1", "(2, 3)"), u8_data(6), 2), "f.npy");
  CHECK(v2.elements() == 6);
  CHECK(v2.value(5) == 35);
  CHECK(parse_npy(npy(dict("<f8", "(1,)"), raw(std::vector<double>{2.5}), 3), "f.npy").value(0) == 2.5);
  // >i2 values 0x0102 and 0xFFFE (= -2), stored big-endian.
  const NpyArray be = parse_npy(npy(dict(">i2", "(2,)"), {0x01, 0x02, 0xFF, 0xFE}), "f.npy");
  CHECK(be.value(0) == 258);
  CHECK(be.value(1) == -2);
  // A 2×3 Fortran-order array holding [[0, 1, 2], [3, 4, 5]] is stored column by column.
  const NpyArray fo = parse_npy(npy(dict("|u1", "(2, 3)", "True"), {0, 3, 1, 4, 2, 5}), "f.npy");
  for (int i = 0; i < 6; ++i) CHECK(fo.value(i) == i);
  const NpyArray bl = parse_npy(npy(dict("|b1", "(3,)"), {1, 0, 1}), "f.npy");
  CHECK(bl.dtype_name() == "bool");
  CHECK(bl.value(1) == 0.0);
  CHECK(parse_npy(npy(dict("<i8", "()"), raw(std::vector<std::int64_t>{-9})), "f.npy").value(0) == -9);
  // Keys in another order, double quotes, no trailing comma: still numpy's literal syntax.
  CHECK(parse_npy(npy("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<u2\"}", {1, 0, 2, 0}), "f.npy").value(1) == 2);
}

TEST_CASE("npy: malformed files are refused with one line naming the field") {
  const Bytes good = npy(dict("|u1", "(2, 3)"), u8_data(6));
  expect_error({}, "magic");
  expect_error({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}, "magic");
  Bytes bad_version = good;
  bad_version[6] = 4;
  expect_error(bad_version, "version: 4.0");
  expect_error(Bytes(good.begin(), good.begin() + 9), "magic");
  Bytes long_header = good;
  long_header[9] = 0x7f;
  expect_error(long_header, "header: length");
  expect_error(npy("{'descr': '|u1', 'shape': (6,)}", u8_data(6)), "needs the keys");
  expect_error(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (6,), 'extra': 1}", u8_data(6)), "unexpected key 'extra'");
  expect_error(npy(dict("<c16", "(1,)"), Bytes(16)), "descr: '<c16'");
  expect_error(npy(dict("<f2", "(1,)"), Bytes(2)), "float16");
  expect_error(npy(dict("|O", "(1,)"), Bytes(8)), "descr: '|O'");
  expect_error(npy(dict("<U8", "(1,)"), Bytes(32)), "descr: '<U8'");
  expect_error(npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", Bytes(4)), "structured");
  expect_error(npy(dict("|u1", "(-1,)"), Bytes(1)), "shape: expected a non-negative integer");
  expect_error(npy(dict("|u1", "(two,)"), Bytes(1)), "shape: expected a non-negative integer");
  expect_error(npy(dict("|u1", "(3 4)"), Bytes(12)), "shape: expected ',' or ')'");
  expect_error(npy(dict("|u1", "(99999999999,)"), Bytes(1)), "dimension too large");
  expect_error(npy(dict("<f8", "(65536, 65536)"), Bytes(8)), "more than 2^31 elements");
  expect_error(npy(dict("|u1", "(2, 3)"), u8_data(5)), "needs 6 bytes but the file holds 5");
  expect_error(npy(dict("|u1", "(2, 3)"), u8_data(7)), "needs 6 bytes but the file holds 7");
  expect_error(npy(dict("|u1", "(2, 3)", "Maybe"), u8_data(6)), "fortran_order");
  expect_error(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (6,)", u8_data(6)), "header: expected a quoted key");
  expect_error(npy(std::string("{'descr': '|u1\0', 'fortran_order': False, 'shape': (6,), }", 57), u8_data(6)), "NUL");
}

TEST_CASE("npy: random corruptions of a valid file are parsed or refused, never crash") {
  const std::vector<float> f(24, 0.25f);
  const Bytes good = encode_npy(std::span<const float>(f), {2, 3, 4});
  std::mt19937 rng(7);
  int refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    Bytes b = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % std::min<std::size_t>(b.size(), 128);  // mostly the header
      switch (rng() % 3) {
        case 0: b[at] = static_cast<std::uint8_t>(rng()); break;
        case 1: b.erase(b.begin() + static_cast<std::ptrdiff_t>(at)); break;
        default: b.resize(at); break;
      }
      if (b.empty()) break;
    }
    try {
      const NpyArray a = parse_npy(b, "f.npy");
      CHECK(static_cast<std::int64_t>(a.bytes.size()) == a.elements() * a.item_bytes);
    } catch (const InputError&) {
      ++refused;
    }
  }
  CHECK(refused > 2000);
}

TEST_CASE("npz: stored and deflated members; missing arrays, foreign members and corrupt data refused") {
  testing::TempDir tmp("npz");
  const Bytes x = npy(dict("|u1", "(2, 2, 2)"), u8_data(8));
  const Bytes y = npy(dict("<i8", "(2,)"), raw(std::vector<std::int64_t>{3, 1}));
  for (bool deflate : {false, true}) {
    const fs::path p = tmp / (deflate ? "d.npz" : "s.npz");
    write_npz(p, {{"x.npy", x}, {"y.npy", y}}, deflate);
    const auto arrays = read_npz(p);
    REQUIRE(arrays.size() == 2);
    CHECK(arrays.at("x").value(7) == 49);
    CHECK(arrays.at("y").value(0) == 3);
    const Dataset d = load_user_data(p, std::nullopt, 0, true);
    CHECK(d.size() == 2);
    CHECK(d.labels == std::vector<std::uint8_t>{3, 1});
    CHECK(d.sample_shape() == Shape{2, 2});
  }
  write_npz(tmp / "no_x.npz", {{"images.npy", x}}, true);
  CHECK_THROWS_WITH_AS(load_user_data(tmp / "no_x.npz", std::nullopt, 0, false),
                       doctest::Contains("x: no array 'x' in the archive (it holds: images)"), InputError);
  write_npz(tmp / "foreign.npz", {{"x.npy", x}, {"notes.txt", Bytes{'h', 'i'}}}, false);
  CHECK_THROWS_WITH_AS(read_npz(tmp / "foreign.npz"), doctest::Contains("member 'notes.txt': not a .npy member"), InputError);
  write_npz(tmp / "bad_member.npz", {{"x.npy", Bytes{1, 2, 3}}}, true);
  CHECK_THROWS_WITH_AS(read_npz(tmp / "bad_member.npz"), doctest::Contains("member 'x.npy': magic"), InputError);
  write(tmp / "garbage.npz", u8_data(300));
  CHECK_THROWS_WITH_AS(read_npz(tmp / "garbage.npz"), doctest::Contains("not a zip archive"), InputError);
  // Corrupt the deflated stream inside a valid archive: libzip's CRC/inflate errors become InputError.
  const Bytes big = npy(dict("|u1", "(4000,)"), Bytes(4000, 9));
  write_npz(tmp / "corrupt.npz", {{"x.npy", big}}, true);
  std::ifstream in(tmp / "corrupt.npz", std::ios::binary);
  Bytes z((std::istreambuf_iterator<char>(in)), {});
  in.close();
  for (std::size_t i = 40; i < 60 && i < z.size(); ++i) z[i] ^= 0x5a;
  write(tmp / "corrupt.npz", z);
  CHECK_THROWS_AS(read_npz(tmp / "corrupt.npz"), InputError);
}

TEST_CASE("user data: dtypes, channels, labels and shapes") {
  NpyArray x;
  x.kind = NpyKind::Float;
  x.item_bytes = 4;
  x.shape = {2, 2, 2, 3};
  std::vector<float> v(24);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) / 23.0f * 1.2f - 0.1f;
  x.bytes = raw(v);
  NpyArray y;
  y.kind = NpyKind::Signed;
  y.item_bytes = 8;
  y.shape = {2, 1};
  y.bytes = raw(std::vector<std::int64_t>{4, 0});
  const Dataset d = from_arrays(x, &y, "x", "y");
  CHECK(d.channels == 3);
  CHECK(d.pixels_per_image() == 12);
  CHECK(d.sample_shape() == Shape{2, 2, 3});
  CHECK(d.num_classes == 5);
  CHECK(d.pixels[0] == 0);     // -0.1 clamps to 0
  CHECK(d.pixels[23] == 255);  // 1.1 clamps to 1
  float out[12];
  encode_samples(d, 1, 1, InputEncoding::Real, out);
  CHECK(out[0] == v[12]);
  encode_samples(d, 0, 1, InputEncoding::Binary, out);
  for (int i = 0; i < 12; ++i) CHECK(out[i] == (v[static_cast<std::size_t>(i)] >= 0.5f ? 1.0f : 0.0f));
  // The byte threshold agrees with the float one: round(x·255) >= 128 exactly when x >= 0.5.
  for (std::size_t i = 0; i < v.size(); ++i) CHECK((d.pixels[i] >= kBinaryThresholdPixel) == (v[i] >= 0.5f));

  const Dataset limited = from_arrays(x, &y, "x", "y", 1);
  CHECK(limited.size() == 1);
  CHECK(limited.values.size() == 12);
  const Dataset unlabelled = from_arrays(x, nullptr, "x", "");
  CHECK(!unlabelled.labelled);
  CHECK(unlabelled.labels == std::vector<std::uint8_t>(2, Dataset::kNoLabel));

  NpyArray wide = x;  // int16 pixel values must be 0–255
  wide.kind = NpyKind::Signed;
  wide.item_bytes = 2;
  wide.shape = {1, 2};
  wide.bytes = raw(std::vector<std::int16_t>{12, 300});
  CHECK_THROWS_WITH_AS(from_arrays(wide, nullptr, "x.npy", ""), doctest::Contains("x.npy: element 1 is 300"), InputError);
  wide.bytes = raw(std::vector<std::int16_t>{12, 255});
  CHECK(from_arrays(wide, nullptr, "x.npy", "").pixels == std::vector<std::uint8_t>{12, 255});
  NpyArray nan = x;
  v[3] = std::nanf("");
  nan.bytes = raw(v);
  CHECK_THROWS_WITH_AS(from_arrays(nan, nullptr, "x.npy", ""), doctest::Contains("element 3 is nan (not finite)"), InputError);
  NpyArray flat = x;
  flat.shape = {24};
  CHECK_THROWS_WITH_AS(from_arrays(flat, nullptr, "x.npy", ""), doctest::Contains("shape (24,) is not N×D"), InputError);
  NpyArray bad_y = y;
  bad_y.bytes = raw(std::vector<std::int64_t>{4, 255});
  CHECK_THROWS_WITH_AS(from_arrays(x, &bad_y, "x", "y.npy"), doctest::Contains("y.npy: label 255"), InputError);
  bad_y.shape = {3};
  bad_y.bytes = raw(std::vector<std::int64_t>{1, 2, 3});
  CHECK_THROWS_WITH_AS(from_arrays(x, &bad_y, "x.npy", "y.npy"), doctest::Contains("3 labels but x.npy has 2 samples"),
                       InputError);
}

TEST_CASE("user data: shape_fits and check_fits name both shapes") {
  CHECK(shape_fits(Shape{28, 28}, Shape{28, 28, 1}));
  CHECK(shape_fits(Shape{28, 28, 1}, Shape{28, 28}));
  CHECK(shape_fits(Shape{28, 28}, Shape{784}));
  CHECK(shape_fits(Shape{784}, Shape{28, 28, 1}));
  CHECK(shape_fits(Shape{32, 32, 3}, Shape{32, 32, 3}));
  CHECK_FALSE(shape_fits(Shape{32, 32, 3}, Shape{28, 28, 1}));
  CHECK_FALSE(shape_fits(Shape{3, 32, 32}, Shape{32, 32, 3}));  // channels-first data
  CHECK_FALSE(shape_fits(Shape{28, 28}, Shape{14, 56}));
  Dataset d;
  d.name = "cifar.npy";
  d.rows = d.cols = 32;
  d.channels = 3;
  d.shape = Shape{32, 32, 3};
  CHECK_THROWS_WITH_AS(check_fits(d, Shape{28, 28, 1}, "model.h5"),
                       "model.h5: input: samples of shape (32, 32, 3) from cifar.npy do not fit the model's input (28, 28, 1)",
                       InputError);
}

TEST_CASE("user data: files — npy + npy, IDX (gzip) inputs with npy labels, limits and count checks") {
  testing::TempDir tmp("user_data");
  write(tmp / "x.npy", npy(dict("|u1", "(3, 2, 2)"), u8_data(12)));
  write(tmp / "y.npy", npy(dict("<i4", "(3,)"), raw(std::vector<std::int32_t>{0, 1, 2})));
  const Dataset d = load_user_data(tmp / "x.npy", tmp / "y.npy", 2, true);
  CHECK(d.name == "x.npy");
  CHECK(d.size() == 2);
  CHECK(d.labels == std::vector<std::uint8_t>{0, 1});
  CHECK_THROWS_WITH_AS(load_user_data(tmp / "x.npy", std::nullopt, 0, true), doctest::Contains("--labels"), InputError);
  CHECK(load_user_data(tmp / "x.npy", std::nullopt, 0, false).size() == 3);

  Bytes idx = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
  const Bytes pixels = u8_data(12);
  idx.insert(idx.end(), pixels.begin(), pixels.end());
  gzFile f = gzopen((tmp / "images-idx3-ubyte.gz").string().c_str(), "wb");
  REQUIRE(f != nullptr);
  gzwrite(f, idx.data(), static_cast<unsigned>(idx.size()));
  gzclose(f);
  const Dataset from_idx = load_user_data(tmp / "images-idx3-ubyte.gz", tmp / "y.npy", 0, true);
  CHECK(from_idx.pixels == pixels);
  CHECK(from_idx.labels == std::vector<std::uint8_t>{0, 1, 2});
  CHECK(load_user_data(tmp / "images-idx3-ubyte.gz", tmp / "y.npy", 2, true).size() == 2);
  write(tmp / "y4.npy", npy(dict("<i4", "(4,)"), raw(std::vector<std::int32_t>{0, 1, 2, 3})));
  CHECK_THROWS_WITH_AS(load_user_data(tmp / "x.npy", tmp / "y4.npy", 0, true),
                       doctest::Contains(("4 labels but " + (tmp / "x.npy").string() + " has 3 samples").c_str()), InputError);
  CHECK_THROWS_WITH_AS(load_user_data(tmp / "missing.npy", std::nullopt, 0, false), doctest::Contains("does not exist"),
                       InputError);
}
