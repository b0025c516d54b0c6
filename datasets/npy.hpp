#pragma once
// numpy's .npy (format versions 1.0, 2.0, 3.0) and .npz (a zip of .npy members, stored or
// deflated) files: users' own data sets in, per-sample read-outs out.
//
// These are parsers of untrusted files: every length, dimension and header field is checked
// before it is used, element counts are bounded (2^31), and a file must hold exactly the bytes
// its header promises. Errors are InputError "<file>: <field>: <what>" (one line).
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace grindstone::datasets {

/// The element types we read: booleans, (un)signed integers of 1–8 bytes, float32/64.
enum class NpyKind { Bool, Unsigned, Signed, Float };

/// An array as stored: elements in C (row-major) order and native (little-endian) byte order,
/// whatever the file's byte order and `fortran_order` were.
struct NpyArray {
  NpyKind kind = NpyKind::Unsigned;
  int item_bytes = 1;                 ///< 1, 2, 4 or 8 (Float: 4 or 8)
  std::vector<std::int64_t> shape;    ///< numpy's shape (rank 0 = a scalar)
  std::vector<std::uint8_t> bytes;    ///< elements() · item_bytes

  std::int64_t elements() const;
  /// numpy's name of the dtype: "uint8", "int64", "float32", "bool", …
  std::string dtype_name() const;
  /// "(10, 28, 28)" as numpy prints shapes.
  std::string shape_string() const;
  /// Element i converted to double (exact for every integer below 2^53).
  double value(std::int64_t i) const;
};

/// Parses the bytes of a .npy file; `label` names it in errors (file, or "file.npz: member x.npy").
NpyArray parse_npy(std::span<const std::uint8_t> bytes, const std::string& label);

/// Reads a .npy file.
NpyArray read_npy(const std::filesystem::path& path);

/// Reads every member of a .npz archive, keyed by the array name (member name without ".npy").
/// Members that are not .npy files are refused naming the member.
std::map<std::string, NpyArray> read_npz(const std::filesystem::path& path);

/// The bytes of a version 1.0 .npy file of little-endian float32 ("<f4") or int32 ("<i4")
/// elements (C order) with `shape`; `data` holds product(shape) elements.
std::vector<std::uint8_t> encode_npy(std::span<const float> data, const std::vector<std::int64_t>& shape);
std::vector<std::uint8_t> encode_npy(std::span<const std::int32_t> data, const std::vector<std::int64_t>& shape);

/// Writes `bytes` to `path` atomically (common/atomic_file.hpp): a failure leaves no file.
void write_bytes_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace grindstone::datasets
