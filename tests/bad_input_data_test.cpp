// Malformed datasets and arguments given to `grindstone eval`: every case must exit with code 2
// and print exactly one line on stderr naming the file (or option) and the field at fault.
#include <doctest/doctest.h>
#include <zlib.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "tests/test_support.hpp"

using namespace grindstone::testing;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put_u32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes idx(std::uint32_t magic, const std::vector<std::uint32_t>& dims, std::size_t data_bytes, int modulo = 256) {
  Bytes b;
  put_u32(b, magic);
  for (auto d : dims) put_u32(b, d);
  for (std::size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<std::uint8_t>(i % static_cast<std::size_t>(modulo)));
  return b;
}

void write_plain(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gz(const fs::path& p, const Bytes& b) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
  gzclose(f);
}

constexpr std::uint32_t kImages = 20;
const Bytes kGoodImages = idx(0x803, {kImages, 28, 28}, kImages * 784);
const Bytes kGoodLabels = idx(0x801, {kImages}, kImages, 10);

/// A dataset folder with good files, then `mutate` replaces one of them.
fs::path make_case(const TempDir& tmp, const std::string& name, const std::function<void(const fs::path&)>& mutate) {
  const fs::path dir = tmp / name;
  fs::create_directories(dir);
  write_gz(dir / "t10k-images-idx3-ubyte.gz", kGoodImages);
  write_gz(dir / "t10k-labels-idx1-ubyte.gz", kGoodLabels);
  mutate(dir);
  return dir;
}

void expect_input_error(const CommandResult& r, const std::vector<std::string>& must_contain) {
  INFO("stderr: " << r.err << " stdout: " << r.out);
  CHECK(r.exit_code == 2);
  REQUIRE(!r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);  // exactly one line
  for (const auto& s : must_contain) CHECK(r.err.find(s) != std::string::npos);
}

}  // namespace

TEST_CASE("eval rejects malformed datasets and arguments with exit 2 and a one-line message") {
  const auto shared = require_shared("bad input data");
  if (!shared) return;
  TempDir tmp("bad_data");
  const std::string model = "'" + (*shared / "models" / "keras" / "keras2_mlp_logits.h5").string() + "'";
  auto eval = [&](const fs::path& data_dir, const std::string& extra = "") {
    return run_cli("eval " + model + " --data-dir '" + data_dir.string() + "' " + extra);
  };
  const std::string images = "t10k-images-idx3-ubyte.gz";
  const std::string labels = "t10k-labels-idx1-ubyte.gz";

  SUBCASE("sanity: the good folder evaluates") {
    const auto r = eval(make_case(tmp, "good", [](const fs::path&) {}), "--json");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("\"samples\":20") != std::string::npos);
  }
  SUBCASE("wrong magic") {
    auto dir = make_case(tmp, "magic", [&](const fs::path& d) { write_gz(d / images, idx(0x12340803, {kImages, 28, 28}, kImages * 784)); });
    expect_input_error(eval(dir), {images, "magic"});
  }
  SUBCASE("wrong type byte") {
    auto dir = make_case(tmp, "type", [&](const fs::path& d) { write_gz(d / images, idx(0x0D03, {kImages, 28, 28}, kImages * 784 * 4)); });
    expect_input_error(eval(dir), {images, "type"});
  }
  SUBCASE("labels file with the images' magic (rank 3)") {
    auto dir = make_case(tmp, "rank", [&](const fs::path& d) { write_gz(d / labels, idx(0x803, {kImages, 1, 1}, kImages)); });
    expect_input_error(eval(dir), {labels, "magic"});
  }
  SUBCASE("count larger than the file") {
    auto dir = make_case(tmp, "count", [&](const fs::path& d) { write_gz(d / images, idx(0x803, {60000, 28, 28}, kImages * 784)); });
    expect_input_error(eval(dir), {images, "dims"});
  }
  SUBCASE("count larger than the file, even with --limit") {
    auto dir = make_case(tmp, "count_limit", [&](const fs::path& d) { write_gz(d / images, idx(0x803, {60000, 28, 28}, kImages * 784)); });
    expect_input_error(eval(dir, "--limit 5"), {images, "dims"});
  }
  SUBCASE("lying row/column dims") {
    auto dir = make_case(tmp, "lying", [&](const fs::path& d) { write_gz(d / images, idx(0x803, {kImages, 29, 28}, kImages * 784)); });
    expect_input_error(eval(dir), {images, "dims"});
  }
  SUBCASE("trailing bytes") {
    auto dir = make_case(tmp, "trailing", [&](const fs::path& d) { write_gz(d / images, idx(0x803, {kImages, 28, 28}, kImages * 784 + 3)); });
    expect_input_error(eval(dir), {images, "trailing"});
  }
  SUBCASE("dimension 0xFFFFFFFF") {
    auto dir = make_case(tmp, "ffff", [&](const fs::path& d) { write_gz(d / images, idx(0x803, {0xFFFFFFFFu, 28, 28}, 784)); });
    expect_input_error(eval(dir), {images, "dims[0]"});
  }
  SUBCASE("zero dimension") {
    auto dir = make_case(tmp, "zero", [&](const fs::path& d) { write_gz(d / images, idx(0x803, {kImages, 0, 28}, 0)); });
    expect_input_error(eval(dir), {images, "dims[1]"});
  }
  SUBCASE("truncated gzip stream") {
    auto dir = make_case(tmp, "cut", [&](const fs::path& d) {
      std::ifstream in(d / images, std::ios::binary);
      Bytes gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      in.close();
      gz.resize(gz.size() / 2);
      write_plain(d / images, gz);
    });
    expect_input_error(eval(dir), {images, "truncated"});
  }
  SUBCASE("plain file that is cut inside the header") {
    auto dir = make_case(tmp, "header", [&](const fs::path& d) {
      fs::remove(d / images);
      write_plain(d / "t10k-images-idx3-ubyte", Bytes{0, 0, 8, 3, 0, 0});
    });
    expect_input_error(eval(dir), {"t10k-images-idx3-ubyte", "dims[0]"});
  }
  SUBCASE("images and labels disagree in count") {
    auto dir = make_case(tmp, "mismatch", [&](const fs::path& d) { write_gz(d / labels, idx(0x801, {kImages - 1}, kImages - 1, 10)); });
    expect_input_error(eval(dir), {images, "dims[0]", labels});
  }
  SUBCASE("label >= 10") {
    auto dir = make_case(tmp, "label", [&](const fs::path& d) { write_gz(d / labels, idx(0x801, {kImages}, kImages, 11)); });
    expect_input_error(eval(dir), {labels, "label 10"});
  }
  SUBCASE("images of another size than the model's input") {
    auto dir = make_case(tmp, "size", [&](const fs::path& d) { write_gz(d / images, idx(0x803, {kImages, 30, 30}, kImages * 900)); });
    expect_input_error(eval(dir), {"input", "(30, 30)", "(28, 28)"});  // both shapes named
  }
  SUBCASE("missing labels file") {
    auto dir = make_case(tmp, "nolabels", [&](const fs::path& d) { fs::remove(d / labels); });
    expect_input_error(eval(dir), {"t10k-labels-idx1-ubyte", "missing"});
  }
  SUBCASE("missing dataset folder") {
    expect_input_error(eval(tmp / "does-not-exist"), {"does-not-exist", "--data-dir"});
  }
  SUBCASE("unknown dataset name") {
    expect_input_error(eval(make_case(tmp, "unknown", [](const fs::path&) {}), "--dataset cifar10"), {"--dataset", "cifar10"});
  }
  SUBCASE("negative --limit") {
    expect_input_error(eval(make_case(tmp, "neg", [](const fs::path&) {}), "--limit -5"), {"--limit"});
  }
  SUBCASE("unknown --input encoding") {
    expect_input_error(eval(make_case(tmp, "enc", [](const fs::path&) {}), "--input bitplanes"), {"--input", "bitplanes"});
  }
  SUBCASE("nonexistent model path") {
    const auto r = run_cli("eval '" + (tmp / "no_such_model.h5").string() + "' --data-dir '" +
                           make_case(tmp, "nomodel", [](const fs::path&) {}).string() + "'");
    expect_input_error(r, {"no_such_model.h5"});
  }
}
