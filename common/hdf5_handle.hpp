#pragma once
// The one owner of HDF5 identifiers: every reader and writer of HDF5 files (Keras import, NIR,
// .snn.h5, the Keras 2 writer) holds its files, groups, datasets, spaces and types in these.
#include <hdf5.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

namespace grindstone {

/// Owns one hid_t and closes it with the matching H5*close function (H5Fclose, H5Gclose, …).
/// An invalid id (< 0, a failed H5*open/create) is held without closing; callers check valid().
class Hdf5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Hdf5Handle() = default;
  Hdf5Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Hdf5Handle() { reset(); }
  Hdf5Handle(Hdf5Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}
  Hdf5Handle& operator=(Hdf5Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      closer_ = other.closer_;
    }
    return *this;
  }
  Hdf5Handle(const Hdf5Handle&) = delete;
  Hdf5Handle& operator=(const Hdf5Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// Why `dataset`, declaring `elements` elements, cannot be real data of its file, or nothing.
/// A damaged dataspace can declare gigabytes in a file of kilobytes (found by fuzz/fuzz_nir);
/// readers call this before allocating. Stored data is at most the file's size, or about 1032
/// times that through deflate (its maximum ratio); 1100 and 64 KB of slack leave room.
inline std::optional<std::string> dataset_exceeds_file(hid_t dataset, double elements) {
  if (elements <= 0) return std::nullopt;
  const Hdf5Handle file(H5Iget_file_id(dataset), H5Fclose);
  const Hdf5Handle type(H5Dget_type(dataset), H5Tclose);
  const Hdf5Handle plist(H5Dget_create_plist(dataset), H5Pclose);
  hsize_t file_size = 0;
  if (!file.valid() || !type.valid() || H5Fget_filesize(file.get(), &file_size) < 0) return "cannot size the file";
  const bool filtered = plist.valid() && H5Pget_nfilters(plist.get()) > 0;
  const double stored = elements * static_cast<double>(std::max<std::size_t>(1, H5Tget_size(type.get())));
  if (stored <= static_cast<double>(file_size) * (filtered ? 1100.0 : 1.0) + 65536.0) return std::nullopt;
  return "declares " + std::to_string(static_cast<long long>(elements)) + " elements, more than the " +
         std::to_string(file_size) + "-byte file can hold (corrupt dataspace)";
}

}  // namespace grindstone
