#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "datasets/dataset.hpp"
#include "datasets/encoding.hpp"
#include "datasets/idx.hpp"
#include "testing/shared.hpp"

using namespace grindstone;
using namespace grindstone::datasets;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

struct ScratchDir {
  fs::path path;
  explicit ScratchDir(const std::string& tag) {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("grindstone_datasets_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void put_u32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const Bytes& data) {
  Bytes b;
  put_u32(b, magic);
  for (auto d : dims) put_u32(b, d);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void write_plain(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gz(const fs::path& p, const Bytes& b) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!b.empty()) REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
  gzclose(f);
}

Bytes ramp(std::size_t n, int modulo = 256) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i % static_cast<std::size_t>(modulo));
  return b;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

/// A small dataset folder: `n` 3×2 test images and labels, optionally gzip.
void write_small_dataset(const fs::path& folder, int n, bool gzip) {
  fs::create_directories(folder);
  const auto images = idx_bytes(0x803, {static_cast<std::uint32_t>(n), 3, 2}, ramp(static_cast<std::size_t>(n) * 6));
  const auto labels = idx_bytes(0x801, {static_cast<std::uint32_t>(n)}, ramp(static_cast<std::size_t>(n), 10));
  if (gzip) {
    write_gz(folder / "t10k-images-idx3-ubyte.gz", images);
    write_gz(folder / "t10k-labels-idx1-ubyte.gz", labels);
  } else {
    write_plain(folder / "t10k-images-idx3-ubyte", images);
    write_plain(folder / "t10k-labels-idx1-ubyte", labels);
  }
}

}  // namespace

TEST_CASE("read_idx reads plain and gzip files, and a prefix") {
  ScratchDir dir("read");
  const auto data = ramp(4 * 3 * 2);
  const auto bytes = idx_bytes(0x803, {4, 3, 2}, data);
  write_plain(dir.path / "a", bytes);
  write_gz(dir.path / "a.gz", bytes);
  for (const auto& name : {"a", "a.gz"}) {
    const auto arr = read_idx(dir.path / name);
    CHECK(arr.dims == std::vector<std::int64_t>{4, 3, 2});
    CHECK(arr.items == 4);
    CHECK(arr.data == data);
    const auto prefix = read_idx(dir.path / name, 2, 3);
    CHECK(prefix.items == 2);
    CHECK(prefix.dims[0] == 4);
    CHECK(prefix.data == Bytes(data.begin(), data.begin() + 12));
  }
  CHECK(read_file_bytes(dir.path / "a.gz") == bytes);
  CHECK(read_file_bytes(dir.path / "a") == bytes);
}

TEST_CASE("read_idx rejects malformed files naming the file and field") {
  ScratchDir dir("bad");
  auto check_bad = [&](const std::string& name, const Bytes& bytes, const std::string& field, int rank = 0) {
    write_plain(dir.path / name, bytes);
    const auto msg = error_of([&] { read_idx(dir.path / name, 0, rank); });
    INFO(name << ": " << msg);
    CHECK(msg.find(name) != std::string::npos);
    CHECK(msg.find(field) != std::string::npos);
  };
  const auto good = ramp(6);
  check_bad("magic", idx_bytes(0x01000803, {1, 3, 2}, good), "magic:");
  check_bad("type", idx_bytes(0x00000D03, {1, 3, 2}, good), "type:");
  check_bad("rank0", idx_bytes(0x00000800, {}, {}), "rank:");
  check_bad("rank_expected", idx_bytes(0x801, {6}, good), "magic:", 3);
  check_bad("short_header", Bytes{0, 0}, "magic:");
  check_bad("header_cut", idx_bytes(0x803, {1, 3}, {}), "dims[2]");
  check_bad("zero_dim", idx_bytes(0x803, {0, 3, 2}, {}), "dims[0]");
  check_bad("huge_dim", idx_bytes(0x803, {0xFFFFFFFFu, 28, 28}, good), "dims[");
  check_bad("count_too_large", idx_bytes(0x803, {60000, 3, 2}, good), "dims:");
  check_bad("lying_dims", idx_bytes(0x803, {1, 3, 3}, good), "dims:");
  check_bad("trailing", idx_bytes(0x803, {1, 3, 2}, ramp(7)), "trailing");
  // A prefix read still notices that the header lies about the rest of the file.
  write_plain(dir.path / "lying", idx_bytes(0x803, {10, 3, 2}, ramp(12)));
  CHECK(error_of([&] { read_idx(dir.path / "lying", 1); }).find("dims:") != std::string::npos);
  CHECK(error_of([&] { read_idx(dir.path / "missing"); }).find("does not exist") != std::string::npos);

  // Truncated gzip stream: cut the compressed file in half.
  Bytes big = idx_bytes(0x803, {100, 28, 28}, ramp(100 * 784, 251));
  write_gz(dir.path / "full.gz", big);
  std::ifstream in(dir.path / "full.gz", std::ios::binary);
  Bytes compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  compressed.resize(compressed.size() / 2);
  write_plain(dir.path / "cut.gz", compressed);
  auto msg = error_of([&] { read_idx(dir.path / "cut.gz"); });
  CHECK(msg.find("cut.gz") != std::string::npos);
  CHECK(msg.find("truncated") != std::string::npos);
  // A ".gz" name holding plain data.
  write_plain(dir.path / "plain.gz", big);
  CHECK(error_of([&] { read_idx(dir.path / "plain.gz"); }).find("gzip") != std::string::npos);
}

TEST_CASE("load finds a dataset folder, checks counts and labels, and limits") {
  ScratchDir dir("load");
  write_small_dataset(dir.path / "mnist", 7, true);
  // --data-dir may be the dataset folder itself or its parent.
  for (const auto& d : {dir.path / "mnist", dir.path}) {
    const auto ds = load("mnist", Split::Test, d);
    CHECK(ds.size() == 7);
    CHECK(ds.rows == 3);
    CHECK(ds.cols == 2);
    CHECK(ds.pixels.size() == 42);
    CHECK(ds.labels[3] == 3);
    CHECK(ds.image(1)[0] == 6);
  }
  auto limited = load("mnist", Split::Test, dir.path / "mnist", 3);
  CHECK(limited.size() == 3);
  CHECK(limited.pixels.size() == 18);
  limited.truncate(2);
  CHECK(limited.size() == 2);
  CHECK(limited.pixels.size() == 12);
  limited.truncate(0);
  CHECK(limited.size() == 2);

  write_small_dataset(dir.path / "plain", 4, false);
  CHECK(load("fashion-mnist", Split::Test, dir.path / "plain").size() == 4);

  // Train split missing from the folder.
  CHECK(error_of([&] { load("mnist", Split::Train, dir.path / "mnist"); }).find("train-images-idx3-ubyte") !=
        std::string::npos);
  CHECK(error_of([&] { load("mnist", Split::Test, dir.path / "nothing"); }).find("--data-dir") != std::string::npos);
  CHECK(error_of([&] { load("cifar", Split::Test, dir.path); }).find("unknown dataset") != std::string::npos);
  CHECK(error_of([&] { load("mnist", Split::Test, dir.path, -1); }).find("--limit") != std::string::npos);

  // Images and labels disagree in count.
  fs::create_directories(dir.path / "mismatch");
  write_gz(dir.path / "mismatch" / "t10k-images-idx3-ubyte.gz", idx_bytes(0x803, {3, 3, 2}, ramp(18)));
  write_gz(dir.path / "mismatch" / "t10k-labels-idx1-ubyte.gz", idx_bytes(0x801, {4}, ramp(4)));
  auto msg = error_of([&] { load("mnist", Split::Test, dir.path / "mismatch"); });
  CHECK(msg.find("t10k-images-idx3-ubyte.gz: dims[0]") != std::string::npos);

  // A label >= 10.
  fs::create_directories(dir.path / "badlabel");
  write_plain(dir.path / "badlabel" / "t10k-images-idx3-ubyte", idx_bytes(0x803, {3, 3, 2}, ramp(18)));
  write_plain(dir.path / "badlabel" / "t10k-labels-idx1-ubyte", idx_bytes(0x801, {3}, Bytes{1, 10, 2}));
  msg = error_of([&] { load("mnist", Split::Test, dir.path / "badlabel"); });
  CHECK(msg.find("t10k-labels-idx1-ubyte: data: label 10 of item 1") != std::string::npos);
}

TEST_CASE("locate searches $GRINDSTONE_DATA before the shared folder") {
  ScratchDir dir("locate");
  write_small_dataset(dir.path / "fashion-mnist", 2, false);
  const char* old = std::getenv("GRINDSTONE_DATA");
  const std::string saved = old ? old : "";
  ::setenv("GRINDSTONE_DATA", dir.path.string().c_str(), 1);
  CHECK(locate("fashion-mnist") == dir.path / "fashion-mnist");
  if (old) ::setenv("GRINDSTONE_DATA", saved.c_str(), 1); else ::unsetenv("GRINDSTONE_DATA");
}

TEST_CASE("locate finds MNIST in the shared folder") {
  const auto shared = grindstone::testing::require_shared("MNIST in ../shared/datasets");
  if (!shared) return;
  CHECK(fs::equivalent(locate("mnist"), *shared / "datasets" / "mnist"));
  const auto mnist = load("mnist", Split::Test, {}, 5);
  CHECK(mnist.size() == 5);
  CHECK(mnist.rows == 28);
  CHECK(mnist.labels[0] == 7);  // the first MNIST test digit is a 7
}

TEST_CASE("encoders: real is pixel/255, binary is pixel/255 >= 0.5 i.e. pixel >= 128") {
  for (int p = 0; p < 256; ++p) {
    const auto px = static_cast<std::uint8_t>(p);
    const bool reference = static_cast<double>(p) / 255.0 >= 0.5;
    CHECK((encode_pixel(px, InputEncoding::Binary) == 1.0f) == reference);
    CHECK((static_cast<float>(p) / 255.0f >= 0.5f) == reference);
    CHECK(encode_pixel(px, InputEncoding::Real) == static_cast<float>(p) / 255.0f);
  }
  Dataset d;
  d.name = "tiny";
  d.rows = 1;
  d.cols = 3;
  d.pixels = {0, 127, 128, 255, 64, 200};
  d.labels = {0, 1};
  const auto real = encode_all(d, InputEncoding::Real);
  CHECK(real.rows() == 2);
  CHECK(real.cols() == 3);
  CHECK(real(1, 0) == doctest::Approx(1.0));
  CHECK(real(0, 1) == doctest::Approx(127.0 / 255.0));
  const auto bin = encode_batch(d, 1, 1, InputEncoding::Binary);
  CHECK(bin.rows() == 1);
  CHECK(bin(0, 0) == 1.0f);
  CHECK(bin(0, 1) == 0.0f);
  CHECK(bin(0, 2) == 1.0f);
  CHECK(encode_all(d, InputEncoding::Binary).row(0).sum() == 1.0f);  // only 128 of {0,127,128}
  CHECK_THROWS_AS(encode_batch(d, 1, 2, InputEncoding::Real), InputError);
  CHECK(parse_encoding("binary") == InputEncoding::Binary);
  CHECK_THROWS_AS(parse_encoding("bitplanes"), InputError);
}
