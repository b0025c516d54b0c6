#pragma once
// Read-only HDF5 access for the Keras importer: RAII handles, string attributes in both the
// fixed-length (Keras 2) and variable-length (Keras 3) forms, and float datasets. Every HDF5
// failure becomes an InputError that names the file (HDF5's own error printing is silenced).
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/hdf5_handle.hpp"

namespace grindstone::keras {

/// A weight tensor as stored by Keras: row-major values with Keras's dims.
struct Tensor {
  std::string name;                  ///< as listed in the file (for messages)
  std::vector<std::int64_t> dims;    ///< Keras order, e.g. (kh, kw, cin, cout)
  std::vector<float> values;         ///< row-major (C order), size = product of dims
  std::int64_t size() const;
  std::string dims_string() const;   ///< "(3, 3, 1, 32)"
};

/// Owns one hid_t (common/hdf5_handle.hpp).
using Hid = Hdf5Handle;

/// An open HDF5 file (from disk or from an in-memory image) with typed readers. `label` is the
/// name used in error messages (e.g. "model.keras!model.weights.h5").
class H5File {
 public:
  /// Opens `path` read-only; InputError "<path>: not an HDF5 file or truncated" on failure.
  static H5File open(const std::filesystem::path& path);
  /// Opens an HDF5 file held in memory (e.g. extracted from a zip) through the core driver.
  static H5File open_image(const std::string& bytes, const std::string& label);

  const std::string& label() const { return label_; }
  hid_t root() const { return file_.get(); }

  /// True if every component of the '/'-separated `path` below `base` exists.
  bool exists(hid_t base, const std::string& path) const;
  bool is_group(hid_t base, const std::string& path) const;
  bool has_attribute(hid_t object, const std::string& name) const;
  Hid open_group(hid_t base, const std::string& path) const;

  /// A scalar (or one-element) string attribute, fixed- or variable-length.
  std::string string_attribute(hid_t object, const std::string& name, const std::string& where) const;
  /// A string-array attribute; an empty numeric array (Keras writes np.array([]) for layers
  /// without weights) or a null dataspace gives an empty list.
  std::vector<std::string> string_list_attribute(hid_t object, const std::string& name,
                                                 const std::string& where) const;
  /// A string dataset (any rank, fixed- or variable-length), flattened in C order.
  std::vector<std::string> string_list_dataset(hid_t base, const std::string& path, const std::string& where) const;
  /// True if `path` below `base` is a dataset of strings.
  bool is_string_dataset(hid_t base, const std::string& path) const;
  /// Reads a floating-point dataset into floats. `where` names the layer/weight for messages.
  Tensor float_dataset(hid_t base, const std::string& path, const std::string& where) const;
  /// Names of the direct children of a group, in HDF5's name order.
  std::vector<std::string> child_names(hid_t group, const std::string& where) const;

 private:
  H5File(Hid file, std::string label) : file_(std::move(file)), label_(std::move(label)) {}
  [[noreturn]] void fail(const std::string& where, const std::string& message) const;
  Hid file_;
  std::string label_;
};

/// Largest element count accepted for any tensor (2^31): larger is an absurd size.
inline constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 31;

}  // namespace grindstone::keras
