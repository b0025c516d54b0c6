#include "datasets/npy.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <optional>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/zip_archive.hpp"
#include "datasets/idx.hpp"

namespace grindstone::datasets {

namespace {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

/// Largest array we accept, in elements (as for IDX files) and header bytes.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 31;
constexpr std::size_t kMaxHeaderBytes = 1 << 20;
constexpr char kMagic[] = "\x93NUMPY";

/// A tiny reader of the Python literal numpy writes as the header:
/// {'descr': '<f4', 'fortran_order': False, 'shape': (10, 28, 28), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& label) : s_(text), label_(label) {}

  struct Header {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::int64_t> shape;
  };

  Header parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() != '\'' && peek() != '"')
          fail("descr: structured or nested dtypes are not supported (save a plain numeric array)");
        h.descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        have_shape = true;
      } else {
        fail("header: unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') ++pos_;
    }
    if (!have_descr || !have_order || !have_shape) fail("header: needs the keys 'descr', 'fortran_order' and 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw InputError(label_ + ": " + what); }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("header: expected '") + c + "' at byte " + std::to_string(pos_));
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("header: expected a quoted key or string at byte " + std::to_string(pos_));
    const std::size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string::npos) fail("header: unterminated string");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("fortran_order: not True or False");
  }
  std::vector<std::int64_t> tuple() {
    expect('(');
    std::vector<std::int64_t> dims;
    while (true) {
      skip_space();
      if (peek() == ')') {
        ++pos_;
        return dims;
      }
      if (peek() < '0' || peek() > '9') fail("shape: expected a non-negative integer at byte " + std::to_string(pos_));
      std::int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        v = v * 10 + (peek() - '0');
        if (v > kMaxElements) fail("shape: dimension too large (more than 2^31)");
        ++pos_;
      }
      dims.push_back(v);
      if (dims.size() > 32) fail("shape: more than 32 dimensions");
      skip_space();
      if (peek() == ',') ++pos_;
      else if (peek() != ')') fail("shape: expected ',' or ')' at byte " + std::to_string(pos_));
    }
  }

  const std::string& s_;
  const std::string& label_;
  std::size_t pos_ = 0;
};

void byte_swap(std::vector<std::uint8_t>& bytes, int item) {
  for (std::size_t i = 0; i + static_cast<std::size_t>(item) <= bytes.size(); i += static_cast<std::size_t>(item))
    std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i), bytes.begin() + static_cast<std::ptrdiff_t>(i + item));
}

/// Fortran (column-major) element order → C (row-major).
std::vector<std::uint8_t> fortran_to_c(const std::vector<std::uint8_t>& f, const std::vector<std::int64_t>& shape,
                                       int item) {
  std::vector<std::uint8_t> c(f.size());
  const std::size_t rank = shape.size();
  std::vector<std::int64_t> index(rank, 0), c_stride(rank, 1);
  for (std::size_t d = rank; d-- > 1;) c_stride[d - 1] = c_stride[d] * shape[d];
  const std::int64_t n = static_cast<std::int64_t>(f.size()) / item;
  for (std::int64_t k = 0; k < n; ++k) {  // k walks the file's order: the first index fastest
    std::int64_t at = 0;
    for (std::size_t d = 0; d < rank; ++d) at += index[d] * c_stride[d];
    std::memcpy(c.data() + at * item, f.data() + k * item, static_cast<std::size_t>(item));
    for (std::size_t d = 0; d < rank; ++d) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return c;
}

std::uint32_t little_u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

template <typename T>
std::vector<std::uint8_t> encode(std::span<const T> data, const std::vector<std::int64_t>& shape, const char* descr) {
  std::int64_t n = 1;
  std::string dims;
  for (std::int64_t d : shape) {
    n *= d;
    dims += std::to_string(d) + ", ";
  }
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  else if (shape.size() == 1) dims.pop_back();  // "(5,)"
  if (n != static_cast<std::int64_t>(data.size()))
    throw InternalError("encode_npy: " + std::to_string(data.size()) + " elements for a shape of " + std::to_string(n));
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const std::size_t unpadded = 10 + header.size() + 1;  // magic, version, length, header, '\n'
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::vector<std::uint8_t> out(kMagic, kMagic + 6);
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<std::uint8_t>(header.size() & 0xff));
  out.push_back(static_cast<std::uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const auto* raw = reinterpret_cast<const std::uint8_t*>(data.data());
  out.insert(out.end(), raw, raw + data.size() * sizeof(T));
  return out;
}

}  // namespace

std::int64_t NpyArray::elements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::string NpyArray::dtype_name() const {
  switch (kind) {
    case NpyKind::Bool: return "bool";
    case NpyKind::Unsigned: return "uint" + std::to_string(8 * item_bytes);
    case NpyKind::Signed: return "int" + std::to_string(8 * item_bytes);
    case NpyKind::Float: return "float" + std::to_string(8 * item_bytes);
  }
  return "?";
}

std::string NpyArray::shape_string() const {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

double NpyArray::value(std::int64_t i) const {
  const std::uint8_t* p = bytes.data() + i * item_bytes;
  const auto load = [p]<typename T>(T) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return static_cast<double>(v);
  };
  switch (kind) {
    case NpyKind::Bool: return *p ? 1.0 : 0.0;
    case NpyKind::Float: return item_bytes == 4 ? load(float{}) : load(double{});
    case NpyKind::Unsigned:
      switch (item_bytes) {
        case 1: return load(std::uint8_t{});
        case 2: return load(std::uint16_t{});
        case 4: return load(std::uint32_t{});
        default: return load(std::uint64_t{});
      }
    case NpyKind::Signed:
      switch (item_bytes) {
        case 1: return load(std::int8_t{});
        case 2: return load(std::int16_t{});
        case 4: return load(std::int32_t{});
        default: return load(std::int64_t{});
      }
  }
  return 0.0;
}

NpyArray parse_npy(std::span<const std::uint8_t> bytes, const std::string& label) {
  require_input(bytes.size() >= 10 && std::memcmp(bytes.data(), kMagic, 6) == 0, label,
                "magic: not a .npy file (it must start with \\x93NUMPY)");
  const int major = bytes[6];
  require_input(major >= 1 && major <= 3, label, "version: " + std::to_string(major) + "." + std::to_string(bytes[7]) +
                                                     " is not a .npy format version we read (1.0, 2.0, 3.0)");
  std::size_t header_start = 10, header_len = 0;
  if (major == 1) {
    header_len = std::size_t{bytes[8]} | std::size_t{bytes[9]} << 8;
  } else {
    require_input(bytes.size() >= 12, label, "header: truncated header length");
    header_len = little_u32(bytes.data() + 8);
    header_start = 12;
  }
  require_input(header_len <= kMaxHeaderBytes && header_start + header_len <= bytes.size(), label,
                "header: length " + std::to_string(header_len) + " runs past the end of the " +
                    std::to_string(bytes.size()) + "-byte file");
  const std::string text(reinterpret_cast<const char*>(bytes.data() + header_start), header_len);
  require_input(text.find('\0') == std::string::npos, label, "header: contains a NUL byte");
  const auto header = HeaderParser(text, label).parse();

  NpyArray a;
  const std::string& d = header.descr;
  require_input(d.size() >= 3 && std::string("<>|=").find(d[0]) != std::string::npos, label,
                "descr: '" + d + "' is not a numeric dtype (bool, int, uint, float)");
  const bool big_endian = d[0] == '>';
  const std::string size_text = d.substr(2);
  require_input(size_text == "1" || size_text == "2" || size_text == "4" || size_text == "8", label,
                "descr: '" + d + "' has an unsupported element size");
  a.item_bytes = std::stoi(size_text);
  switch (d[1]) {
    case 'b': a.kind = NpyKind::Bool; break;
    case 'u': a.kind = NpyKind::Unsigned; break;
    case 'i': a.kind = NpyKind::Signed; break;
    case 'f': a.kind = NpyKind::Float; break;
    default: throw InputError(label + ": descr: '" + d + "' is not a numeric dtype (bool, int, uint, float)");
  }
  require_input(a.kind != NpyKind::Bool || a.item_bytes == 1, label, "descr: '" + d + "': booleans are 1 byte");
  require_input(a.kind != NpyKind::Float || a.item_bytes >= 4, label,
                "descr: '" + d + "': float16 is not supported (convert to float32)");
  a.shape = header.shape;
  std::int64_t n = 1;
  for (std::int64_t dim : a.shape) {
    n *= dim;
    require_input(n <= kMaxElements, label, "shape: " + a.shape_string() + " has more than 2^31 elements");
  }
  const std::size_t data_start = header_start + header_len;
  const std::size_t want = static_cast<std::size_t>(n) * static_cast<std::size_t>(a.item_bytes);
  const std::size_t have = bytes.size() - data_start;
  require_input(have == want, label,
                "data: shape " + a.shape_string() + " of " + a.dtype_name() + " needs " + std::to_string(want) +
                    " bytes but the file holds " + std::to_string(have));
  a.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_start), bytes.end());
  if (big_endian && a.item_bytes > 1) byte_swap(a.bytes, a.item_bytes);
  if (header.fortran_order && a.shape.size() > 1) a.bytes = fortran_to_c(a.bytes, a.shape, a.item_bytes);
  return a;
}

NpyArray read_npy(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  return parse_npy(bytes, path.string());
}

std::map<std::string, NpyArray> read_npz(const std::filesystem::path& path) {
  const ZipArchive archive(path, "a numpy .npz file is a zip of .npy files");
  std::map<std::string, NpyArray> arrays;
  for (const std::string& member : archive.members()) {
    const std::string label = path.string() + ": member '" + member + "'";
    require_input(member.size() > 4 && member.ends_with(".npy"), label, "not a .npy member");
    const std::optional<std::string> bytes = archive.read(member);
    require_input(bytes.has_value(), label, "cannot be read");
    arrays[member.substr(0, member.size() - 4)] =
        parse_npy({reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()}, label);
  }
  return arrays;
}

std::vector<std::uint8_t> encode_npy(std::span<const float> data, const std::vector<std::int64_t>& shape) {
  return encode(data, shape, "<f4");
}
std::vector<std::uint8_t> encode_npy(std::span<const std::int32_t> data, const std::vector<std::int64_t>& shape) {
  return encode(data, shape, "<i4");
}

void write_bytes_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  write_file_atomically(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw InputError(path.string() + ": cannot be written");
  });
}

}  // namespace grindstone::datasets
