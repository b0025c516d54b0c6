#include "datasets/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "common/error.hpp"

namespace grindstone::datasets {

namespace {

constexpr std::uint8_t kUnsignedByteType = 0x08;
constexpr int kMaxRank = 8;
constexpr std::int64_t kMaxElements = std::int64_t{1} << 31;
/// Data is read in chunks of this size so that a header that lies about the size never makes us
/// allocate more than the file really holds (plus one chunk).
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

std::string hex(std::uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*X", digits, v);
  return buf;
}

bool has_gz_suffix(const std::filesystem::path& path) { return path.extension() == ".gz"; }

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

/// Sequential bytes of a file, gunzipped when the name ends in ".gz". Every read error becomes an
/// InputError naming the file.
class ByteReader {
 public:
  explicit ByteReader(const std::filesystem::path& path) : name_(path.string()), gzip_(has_gz_suffix(path)) {
    std::error_code ec;
    require_input(std::filesystem::exists(path, ec), name_, "file: does not exist");
    require_input(!std::filesystem::is_directory(path, ec), name_, "file: is a directory, not a file");
    handle_.reset(gzopen(name_.c_str(), "rb"));
    require_input(handle_ != nullptr, name_, "file: cannot be opened");
    gzbuffer(handle_.get(), 1u << 17);
    // gzdirect() reports whether zlib saw a gzip header; a ".gz" name must hold gzip data.
    if (gzip_) require_input(gzdirect(handle_.get()) == 0, name_, "gzip: the file name ends in .gz but it is not gzip data");
  }

  /// Reads up to `n` bytes; fewer only at the end of the data.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
      const int got = gzread(handle_.get(), dst + done, want);
      if (got < 0) fail();
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    if (done < n) check_clean_end();
    return done;
  }

  /// Appends up to `n` bytes to `out`, growing it chunk by chunk.
  std::size_t append(std::vector<std::uint8_t>& out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const std::size_t chunk = std::min(kChunkBytes, n - done);
      const std::size_t old = out.size();
      out.resize(old + chunk);
      const std::size_t got = read(out.data() + old, chunk);
      out.resize(old + got);
      done += got;
      if (got < chunk) break;
    }
    return done;
  }

  /// Reads and discards up to `n` bytes; returns how many there were.
  std::size_t skip(std::size_t n) {
    std::array<std::uint8_t, 65536> scratch{};
    std::size_t done = 0;
    while (done < n) {
      const std::size_t chunk = std::min(scratch.size(), n - done);
      const std::size_t got = read(scratch.data(), chunk);
      done += got;
      if (got < chunk) break;
    }
    return done;
  }

  const std::string& name() const { return name_; }

 private:
  [[noreturn]] void fail() {
    int errnum = Z_OK;
    const char* what = gzerror(handle_.get(), &errnum);
    if (errnum == Z_BUF_ERROR) throw InputError(name_ + ": gzip: truncated compressed stream (unexpected end of file)");
    throw InputError(name_ + ": gzip: " + (what && *what ? what : "read error"));
  }

  /// A short read is the end of the data unless zlib recorded an error (a truncated or corrupt
  /// gzip stream ends early with Z_BUF_ERROR / Z_DATA_ERROR).
  void check_clean_end() {
    int errnum = Z_OK;
    gzerror(handle_.get(), &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END) fail();
  }

  std::string name_;
  bool gzip_;
  std::unique_ptr<gzFile_s, GzCloser> handle_;
};

}  // namespace

IdxArray read_idx(const std::filesystem::path& path, std::int64_t max_items, int expected_rank) {
  ByteReader in(path);
  const std::string& file = in.name();

  std::array<std::uint8_t, 4> magic{};
  require_input(in.read(magic.data(), magic.size()) == magic.size(), file,
                "magic: the file is shorter than the 4-byte IDX magic number");
  const std::uint32_t magic_value = (std::uint32_t{magic[0]} << 24) | (std::uint32_t{magic[1]} << 16) |
                                    (std::uint32_t{magic[2]} << 8) | magic[3];
  require_input(magic[0] == 0 && magic[1] == 0, file,
                "magic: " + hex(magic_value, 8) + " is not an IDX magic number (expected 0x00000801 or 0x00000803)");
  require_input(magic[2] == kUnsignedByteType, file,
                "type: " + hex(magic[2], 2) + " is not the unsigned-byte type 0x08");
  const int rank = magic[3];
  require_input(rank >= 1 && rank <= kMaxRank, file,
                "rank: " + std::to_string(rank) + " is outside 1.." + std::to_string(kMaxRank));
  if (expected_rank > 0)
    require_input(rank == expected_rank, file,
                  "magic: " + hex(magic_value, 8) + " but expected " +
                      hex(static_cast<std::uint32_t>(0x0800 | expected_rank), 8) + " (rank " +
                      std::to_string(expected_rank) + ")");

  IdxArray out;
  std::int64_t elements = 1;
  for (int i = 0; i < rank; ++i) {
    std::array<std::uint8_t, 4> b{};
    require_input(in.read(b.data(), b.size()) == b.size(), file,
                  "dims[" + std::to_string(i) + "]: the file ends inside the header");
    const std::int64_t d = (std::int64_t{b[0]} << 24) | (std::int64_t{b[1]} << 16) | (std::int64_t{b[2]} << 8) | b[3];
    require_input(d > 0, file, "dims[" + std::to_string(i) + "]: size 0 must be positive");
    elements *= d;  // both factors ≤ 2^32, and elements ≤ 2^31 before this step: no overflow
    require_input(elements <= kMaxElements, file,
                  "dims[" + std::to_string(i) + "]: size " + std::to_string(d) +
                      " makes the array larger than 2^31 elements");
    out.dims.push_back(d);
  }

  const std::int64_t item_bytes = elements / out.dims[0];
  out.items = max_items > 0 ? std::min(max_items, out.dims[0]) : out.dims[0];
  const auto kept_bytes = static_cast<std::size_t>(out.items * item_bytes);
  const auto total_bytes = static_cast<std::size_t>(elements);

  auto truncated = [&](std::size_t have) {
    std::string dims = "(";
    for (std::size_t i = 0; i < out.dims.size(); ++i) dims += (i ? ", " : "") + std::to_string(out.dims[i]);
    return InputError(file + ": dims: the header's " + dims + ") claims " + std::to_string(total_bytes) +
                      " data bytes but the file holds only " + std::to_string(have) + " (truncated file or lying header)");
  };
  const std::size_t got = in.append(out.data, kept_bytes);
  if (got < kept_bytes) throw truncated(got);
  // The rest must be there too (a lying header is an error even when we keep only a prefix).
  const std::size_t rest = in.skip(total_bytes - kept_bytes);
  if (rest < total_bytes - kept_bytes) throw truncated(kept_bytes + rest);
  std::uint8_t extra = 0;
  require_input(in.read(&extra, 1) == 0, file,
                "data: trailing bytes after the " + std::to_string(total_bytes) + " data bytes the header claims");
  return out;
}

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path) {
  ByteReader in(path);
  std::vector<std::uint8_t> out;
  while (in.append(out, kChunkBytes) == kChunkBytes) {
  }
  return out;
}

}  // namespace grindstone::datasets
