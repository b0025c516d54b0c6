#include "datasets/user_data.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.hpp"
#include "datasets/idx.hpp"

namespace grindstone::datasets {

namespace {

enum class Format { Npy, Npz, Idx };

Format format_of(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".npy") return Format::Npy;
  if (ext == ".npz") return Format::Npz;
  return Format::Idx;  // MNIST-style names have no extension, or ".gz"
}

NpyArray from_idx(const std::filesystem::path& path, std::int64_t limit) {
  IdxArray idx = read_idx(path, limit);
  NpyArray a;
  a.kind = NpyKind::Unsigned;
  a.item_bytes = 1;
  a.shape = idx.dims;
  a.shape[0] = idx.items;
  a.bytes = std::move(idx.data);
  return a;
}

/// One named array of an .npz; InputError listing what the archive holds when it is absent.
std::optional<NpyArray> npz_member(const std::filesystem::path& path, const std::string& name, bool required) {
  auto arrays = read_npz(path);
  const auto it = arrays.find(name);
  if (it != arrays.end()) return std::move(it->second);
  if (!required) return std::nullopt;
  std::string held;
  for (const auto& [k, v] : arrays) held += (held.empty() ? "" : ", ") + k;
  throw InputError(path.string() + ": " + name + ": no array '" + name + "' in the archive (it holds: " +
                   (held.empty() ? "nothing" : held) + ")");
}

/// Keeps the first `limit` items along dimension 0.
void keep_first(NpyArray& a, std::int64_t limit) {
  if (limit <= 0 || a.shape.empty() || a.shape[0] <= limit) return;
  a.bytes.resize(static_cast<std::size_t>(a.elements() / a.shape[0] * limit * a.item_bytes));
  a.shape[0] = limit;
}

std::string index_string(std::int64_t i) { return "element " + std::to_string(i); }

}  // namespace

Dataset from_arrays(const NpyArray& x, const NpyArray* y, const std::string& x_label, const std::string& y_label,
                    std::int64_t limit) {
  require_input(x.shape.size() >= 2 && x.shape.size() <= 4, x_label,
                "shape " + x.shape_string() + " is not N×D, N×H×W or N×H×W×C (one sample per row)");
  const std::int64_t all = x.shape[0];
  require_input(all >= 1, x_label, "shape " + x.shape_string() + " has no samples");
  const std::int64_t n = limit > 0 ? std::min(limit, all) : all;
  const std::int64_t per = x.elements() / all;
  require_input(per >= 1, x_label, "shape " + x.shape_string() + " has empty samples");

  Dataset d;
  d.split = Split::Test;
  d.shape = Shape(std::vector<std::int64_t>(x.shape.begin() + 1, x.shape.end()));
  d.rows = d.shape[0];
  d.cols = d.shape.rank() >= 2 ? d.shape[1] : 1;
  d.channels = d.shape.rank() == 3 ? d.shape[2] : 1;
  const std::int64_t count = n * per;
  d.pixels.resize(static_cast<std::size_t>(count));
  if (x.kind == NpyKind::Unsigned && x.item_bytes == 1) {
    std::copy(x.bytes.begin(), x.bytes.begin() + count, d.pixels.begin());
  } else if (x.kind == NpyKind::Float || x.kind == NpyKind::Bool) {
    d.values.resize(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
      const double v = x.value(i);
      require_input(std::isfinite(v), x_label, index_string(i) + " is " + std::to_string(v) + " (not finite)");
      d.values[static_cast<std::size_t>(i)] = static_cast<float>(v);
      d.pixels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
    }
  } else {  // other integer types: pixel values
    for (std::int64_t i = 0; i < count; ++i) {
      const double v = x.value(i);
      require_input(v >= 0 && v <= 255, x_label,
                    index_string(i) + " is " + std::to_string(static_cast<long long>(v)) + ": " + x.dtype_name() +
                        " inputs must be pixel values 0-255 (or give floats)");
      d.pixels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    }
  }

  if (!y) {
    d.labelled = false;
    d.num_classes = 0;
    d.labels.assign(static_cast<std::size_t>(n), Dataset::kNoLabel);
    return d;
  }
  require_input(y->shape.size() == 1 || (y->shape.size() == 2 && y->shape[1] == 1), y_label,
                "shape " + y->shape_string() + " is not N or N×1 (one integer class per sample)");
  require_input(y->shape[0] == all, y_label,
                "shape " + y->shape_string() + ": " + std::to_string(y->shape[0]) + " labels but " + x_label +
                    " has " + std::to_string(all) + " samples");
  d.labels.resize(static_cast<std::size_t>(n));
  int max_label = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = y->value(i);
    require_input(v >= 0 && v < Dataset::kNoLabel && v == std::floor(v), y_label,
                  "label " + std::to_string(v) + " of sample " + std::to_string(i) + " is not a class index 0-254");
    d.labels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    max_label = std::max(max_label, static_cast<int>(v));
  }
  d.num_classes = max_label + 1;
  return d;
}

Dataset load_user_data(const std::filesystem::path& inputs, const std::optional<std::filesystem::path>& labels,
                       std::int64_t limit, bool require_labels) {
  require_input(limit >= 0, "--limit", std::to_string(limit) + " must not be negative");
  NpyArray x;
  std::optional<NpyArray> y;
  std::string x_label = inputs.string(), y_label;
  switch (format_of(inputs)) {
    case Format::Npy: x = read_npy(inputs); break;
    case Format::Npz:
      x = *npz_member(inputs, "x", true);
      x_label += ": x";
      if (!labels) {
        y = npz_member(inputs, "y", false);
        y_label = inputs.string() + ": y";
      }
      break;
    case Format::Idx: x = from_idx(inputs, limit); break;
  }
  if (labels) {
    y_label = labels->string();
    switch (format_of(*labels)) {
      case Format::Npy: y = read_npy(*labels); break;
      case Format::Npz:
        y = *npz_member(*labels, "y", true);
        y_label += ": y";
        break;
      case Format::Idx: y = from_idx(*labels, limit); break;
    }
  }
  require_input(y || !require_labels, "--labels", "this command needs labels: give --labels FILE (or an .npz with 'y')");
  // IDX files were already cut to `limit` while reading; the counts must still agree.
  if (y && format_of(inputs) == Format::Idx) keep_first(*y, limit);
  if (y && labels && format_of(*labels) == Format::Idx) keep_first(x, limit);
  Dataset d = from_arrays(x, y ? &*y : nullptr, x_label, y_label, limit);
  d.name = inputs.filename().string();
  return d;
}

Dataset load_source(const DataSource& source, Split split, bool require_labels) {
  if (!source.user()) {
    check_dataset_name(source.dataset);
    return load(source.dataset, split, source.data_dir, source.limit);
  }
  return load_user_data(*source.inputs, source.labels, source.limit, require_labels);
}

bool shape_fits(const Shape& data, const Shape& model) {
  if (data.rank() == 1 || model.rank() == 1) return data.size() == model.size();
  const auto squeeze = [](Shape s) {
    while (s.rank() > 1 && s.dims.back() == 1) s.dims.pop_back();
    return s;
  };
  return squeeze(data) == squeeze(model);
}

void check_fits(const Dataset& data, const Shape& model_input, const std::string& context) {
  require_input(shape_fits(data.sample_shape(), model_input), context,
                "input: samples of shape " + data.sample_shape().to_string() + " from " + data.name +
                    " do not fit the model's input " + model_input.to_string());
}

}  // namespace grindstone::datasets
