#include "datasets/dataset.hpp"

#include <array>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "common/paths.hpp"
#include "datasets/idx.hpp"

namespace grindstone::datasets {

namespace {

constexpr std::array<const char*, 4> kStandardFiles = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/// The file `stem` in `folder`, plain or with ".gz" (plain preferred); nullopt if neither exists.
std::optional<std::filesystem::path> find_idx_file(const std::filesystem::path& folder, const std::string& stem) {
  std::error_code ec;
  for (const auto& candidate : {folder / stem, folder / (stem + ".gz")})
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  return std::nullopt;
}

/// A folder "holds" a dataset when at least one of the standard IDX files is in it.
bool holds_dataset(const std::filesystem::path& folder) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) return false;
  for (const char* stem : kStandardFiles)
    if (find_idx_file(folder, stem)) return true;
  return false;
}

std::filesystem::path require_file(const std::filesystem::path& folder, const std::string& stem) {
  auto f = find_idx_file(folder, stem);
  if (!f)
    throw InputError((folder / stem).string() + ": file: missing (looked for it plain and with .gz in the dataset folder)");
  return *f;
}

}  // namespace

void Dataset::truncate(std::int64_t n) {
  if (n <= 0 || n >= size()) return;
  labels.resize(static_cast<std::size_t>(n));
  pixels.resize(static_cast<std::size_t>(n * pixels_per_image()));
  if (!values.empty()) values.resize(static_cast<std::size_t>(n * pixels_per_image()));
}

void check_dataset_name(const std::string& name) {
  if (name == "mnist" || name == "fashion-mnist") return;
  throw InputError("--dataset: unknown dataset '" + name + "' (expected mnist or fashion-mnist)");
}

std::filesystem::path locate(const std::string& name, const std::optional<std::filesystem::path>& data_dir) {
  check_dataset_name(name);
  std::error_code ec;
  if (data_dir) {
    // An explicit --data-dir is the dataset folder itself (or a parent holding <name>/); it is
    // never silently replaced by another location.
    if (holds_dataset(*data_dir)) return *data_dir;
    if (holds_dataset(*data_dir / name)) return *data_dir / name;
    if (!std::filesystem::is_directory(*data_dir, ec))
      throw InputError(data_dir->string() + ": --data-dir: folder does not exist");
    throw InputError(data_dir->string() + ": --data-dir: no IDX files of '" + name +
                     "' (t10k-images-idx3-ubyte[.gz], …) in it or in its '" + name + "' subfolder");
  }
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("GRINDSTONE_DATA"); env && *env) candidates.push_back(std::filesystem::path(env) / name);
  if (const auto shared = shared_dir()) candidates.push_back(*shared / "datasets" / name);
  candidates.push_back(std::filesystem::path("/usr/share/datasets") / name);
  if (const char* home = std::getenv("HOME"); home && *home)
    candidates.push_back(std::filesystem::path(home) / ".cache" / "grindstone" / name);
  std::string searched;
  for (const auto& c : candidates) {
    if (holds_dataset(c)) return c;
    searched += (searched.empty() ? "" : ", ") + c.string();
  }
  throw InputError("--dataset: '" + name + "' not found (searched " + searched + "; use --data-dir)");
}

Dataset load(const std::string& name, Split split, const std::optional<std::filesystem::path>& data_dir,
             std::int64_t limit) {
  require_input(limit >= 0, "--limit", std::to_string(limit) + " must not be negative");
  const auto folder = locate(name, data_dir);
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const auto images_path = require_file(folder, prefix + "-images-idx3-ubyte");
  const auto labels_path = require_file(folder, prefix + "-labels-idx1-ubyte");

  const IdxArray labels = read_idx(labels_path, limit, 1);
  const IdxArray images = read_idx(images_path, limit, 3);
  require_input(images.dims[0] == labels.dims[0], images_path.string(),
                "dims[0]: " + std::to_string(images.dims[0]) + " images but " + labels_path.string() + " has " +
                    std::to_string(labels.dims[0]) + " labels");

  Dataset d;
  d.name = name;
  d.split = split;
  d.rows = images.dims[1];
  d.cols = images.dims[2];
  d.shape = Shape{d.rows, d.cols};
  d.num_classes = 10;
  d.labels = labels.data;
  d.pixels = images.data;
  for (std::size_t i = 0; i < d.labels.size(); ++i)
    if (d.labels[i] >= d.num_classes)
      throw InputError(labels_path.string() + ": data: label " + std::to_string(d.labels[i]) + " of item " +
                       std::to_string(i) + " is not < " + std::to_string(d.num_classes));
  return d;
}

}  // namespace grindstone::datasets
