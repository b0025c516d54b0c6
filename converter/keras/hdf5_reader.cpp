#include "converter/keras/hdf5_reader.hpp"

#include <H5FDcore.h>

#include <cstring>
#include <sstream>

#include "common/error.hpp"

namespace grindstone::keras {

namespace {

/// HDF5 prints a stack trace on stderr for every failed call unless told not to; our errors
/// are reported as one-line InputErrors instead. Idempotent and cheap, so every open calls it.
void silence_hdf5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '/'))
    if (!part.empty()) parts.push_back(part);
  return parts;
}

std::string strip_nuls(const char* data, std::size_t size) {
  std::size_t n = 0;
  while (n < size && data[n] != '\0') ++n;
  return std::string(data, n);
}

}  // namespace

std::int64_t Tensor::size() const {
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

std::string Tensor::dims_string() const {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

H5File H5File::open(const std::filesystem::path& path) {
  silence_hdf5_errors();
  const std::string label = path.string();
  std::error_code ec;
  require_input(std::filesystem::is_regular_file(path, ec), label, "no such file");
  // H5Fis_accessible fails cleanly (no open) on non-HDF5 files, so a text file is reported as
  // such rather than as a generic open failure.
#if H5_VERSION_GE(1, 12, 0)
  const htri_t is_hdf5 = H5Fis_accessible(label.c_str(), H5P_DEFAULT);
#else
  const htri_t is_hdf5 = H5Fis_hdf5(label.c_str());
#endif
  require_input(is_hdf5 > 0, label, "not an HDF5 file (no HDF5 signature found, or the file is truncated)");
  Hid file(H5Fopen(label.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  require_input(file.valid(), label, "HDF5 file cannot be opened (truncated or corrupt)");
  return H5File(std::move(file), label);
}

H5File H5File::open_image(const std::string& bytes, const std::string& label) {
  silence_hdf5_errors();
  require_input(!bytes.empty(), label, "empty HDF5 image");
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  require_input(fapl.valid(), label, "HDF5 property list cannot be created");
  // The core driver serves the file from memory; H5Pset_file_image copies the bytes.
  require_input(H5Pset_fapl_core(fapl.get(), 1 << 16, 0) >= 0, label, "HDF5 core driver unavailable");
  require_input(H5Pset_file_image(fapl.get(), const_cast<char*>(bytes.data()), bytes.size()) >= 0, label,
                "HDF5 file image cannot be set");
  Hid file(H5Fopen(label.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  require_input(file.valid(), label, "not an HDF5 file (or truncated/corrupt)");
  return H5File(std::move(file), label);
}

void H5File::fail(const std::string& where, const std::string& message) const {
  // Callers that also raise their own errors (the NIR reader) put the file in `where`: name it once.
  if (where.rfind(label_ + ":", 0) == 0) throw InputError(where + ": " + message);
  throw InputError(label_ + (where.empty() ? "" : ": " + where) + ": " + message);
}

bool H5File::exists(hid_t base, const std::string& path) const {
  std::string prefix;
  for (const auto& part : split_path(path)) {
    prefix += (prefix.empty() ? "" : "/") + part;
    if (H5Lexists(base, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

bool H5File::is_group(hid_t base, const std::string& path) const {
  if (!exists(base, path)) return false;
  H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
  if (H5Oget_info_by_name3(base, path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return false;
#else
  if (H5Oget_info_by_name2(base, path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return false;
#endif
  return info.type == H5O_TYPE_GROUP;
}

bool H5File::has_attribute(hid_t object, const std::string& name) const {
  return H5Aexists(object, name.c_str()) > 0;
}

Hid H5File::open_group(hid_t base, const std::string& path) const {
  if (!is_group(base, path)) fail("", "group '" + path + "' not found");
  Hid group(H5Gopen2(base, path.c_str(), H5P_DEFAULT), H5Gclose);
  if (!group.valid()) fail("", "group '" + path + "' cannot be opened");
  return group;
}

namespace {

/// Strings of an attribute or dataset (`read` is H5Aread or H5Dread bound to it), fixed- or
/// variable-length; `field` names it in errors through `fail`.
template <class Read, class Fail>
std::vector<std::string> read_strings(hid_t type, hid_t space, const std::string& field, Read&& read, Fail&& fail) {
  const H5S_class_t space_class = H5Sget_simple_extent_type(space);
  if (space_class == H5S_NULL) return {};
  const hssize_t count = H5Sget_simple_extent_npoints(space);
  if (count < 0 || count > (1 << 24)) fail(field + ": absurd element count " + std::to_string(count));
  if (count == 0) return {};  // Keras writes np.array([]) (float64 or |S1) for no weights
  if (H5Tget_class(type) != H5T_STRING) fail(field + ": expected strings");
  const auto n = static_cast<std::size_t>(count);
  std::vector<std::string> out;
  out.reserve(n);
  if (H5Tis_variable_str(type) > 0) {
    Hid mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type));
    std::vector<char*> ptrs(n, nullptr);
    if (read(mem.get(), static_cast<void*>(ptrs.data())) < 0) fail(field + ": cannot be read");
    for (auto* p : ptrs) out.emplace_back(p ? p : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mem.get(), space, H5P_DEFAULT, ptrs.data());
#else
    H5Dvlen_reclaim(mem.get(), space, H5P_DEFAULT, ptrs.data());
#endif
  } else {
    const std::size_t width = H5Tget_size(type);
    if (width == 0 || width > (1u << 30) / std::max<std::size_t>(n, 1)) fail(field + ": absurd string size");
    Hid mem(H5Tcopy(type), H5Tclose);
    std::vector<char> buffer(width * n);
    if (read(mem.get(), static_cast<void*>(buffer.data())) < 0) fail(field + ": cannot be read");
    for (std::size_t i = 0; i < n; ++i) out.push_back(strip_nuls(buffer.data() + i * width, width));
  }
  return out;
}

}  // namespace

std::vector<std::string> H5File::string_list_attribute(hid_t object, const std::string& name,
                                                       const std::string& where) const {
  const std::string field = "attribute '" + name + "'";
  if (!has_attribute(object, name)) fail(where, field + ": missing");
  Hid attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) fail(where, field + ": cannot be opened");
  Hid type(H5Aget_type(attr.get()), H5Tclose);
  Hid space(H5Aget_space(attr.get()), H5Sclose);
  if (!type.valid() || !space.valid()) fail(where, field + ": unreadable type or dataspace");
  return read_strings(
      type.get(), space.get(), field, [&](hid_t mem, void* buf) { return H5Aread(attr.get(), mem, buf); },
      [&](const std::string& message) { fail(where, message); });
}

std::vector<std::string> H5File::string_list_dataset(hid_t base, const std::string& path,
                                                     const std::string& where) const {
  const std::string field = "dataset '" + path + "'";
  if (!exists(base, path)) fail(where, field + ": missing");
  Hid dataset(H5Dopen2(base, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid()) fail(where, field + ": is not a dataset");
  Hid type(H5Dget_type(dataset.get()), H5Tclose);
  Hid space(H5Dget_space(dataset.get()), H5Sclose);
  if (!type.valid() || !space.valid()) fail(where, field + ": unreadable type or dataspace");
  return read_strings(
      type.get(), space.get(), field,
      [&](hid_t mem, void* buf) { return H5Dread(dataset.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); },
      [&](const std::string& message) { fail(where, message); });
}

bool H5File::is_string_dataset(hid_t base, const std::string& path) const {
  if (!exists(base, path) || is_group(base, path)) return false;
  Hid dataset(H5Dopen2(base, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid()) return false;
  Hid type(H5Dget_type(dataset.get()), H5Tclose);
  return type.valid() && H5Tget_class(type.get()) == H5T_STRING;
}

std::string H5File::string_attribute(hid_t object, const std::string& name, const std::string& where) const {
  auto values = string_list_attribute(object, name, where);
  if (values.size() != 1)
    fail(where, "attribute '" + name + "': expected one string, found " + std::to_string(values.size()));
  return values.front();
}

Tensor H5File::float_dataset(hid_t base, const std::string& path, const std::string& where) const {
  if (!exists(base, path)) fail(where, "dataset '" + path + "' not found");
  Hid dataset(H5Dopen2(base, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid()) fail(where, "'" + path + "' is not a dataset");
  Hid type(H5Dget_type(dataset.get()), H5Tclose);
  Hid space(H5Dget_space(dataset.get()), H5Sclose);
  if (!type.valid() || !space.valid()) fail(where, "'" + path + "': unreadable type or dataspace");
  const H5T_class_t type_class = H5Tget_class(type.get());
  if (type_class != H5T_FLOAT && type_class != H5T_INTEGER)
    fail(where, "'" + path + "': not a numeric dataset");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > 8) fail(where, "'" + path + "': unsupported rank " + std::to_string(rank));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    fail(where, "'" + path + "': unreadable dims");
  Tensor tensor;
  tensor.name = path;
  std::int64_t elements = 1;
  for (auto d : dims) {
    if (d > static_cast<hsize_t>(kMaxTensorElements)) fail(where, "'" + path + "': absurd dimension " + std::to_string(d));
    tensor.dims.push_back(static_cast<std::int64_t>(d));
    elements *= static_cast<std::int64_t>(d);
    if (elements > kMaxTensorElements)
      fail(where, "'" + path + "': absurd size (more than 2^31 elements)");
  }
  if (const auto why = dataset_exceeds_file(dataset.get(), static_cast<double>(elements)))
    fail(where, "'" + path + "': " + *why);
  tensor.values.resize(static_cast<std::size_t>(elements));
  if (elements > 0 &&
      H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, tensor.values.data()) < 0)
    fail(where, "'" + path + "': cannot be read (truncated or corrupt file)");
  return tensor;
}

std::vector<std::string> H5File::child_names(hid_t group, const std::string& where) const {
  H5G_info_t info;
  if (H5Gget_info(group, &info) < 0) fail(where, "group cannot be listed");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) fail(where, "group cannot be listed");
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(len));
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace grindstone::keras
