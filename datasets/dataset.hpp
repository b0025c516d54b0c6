#pragma once
// Image classification datasets (MNIST, Fashion-MNIST) read from IDX files.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace grindstone::datasets {

enum class Split { Train, Test };

/// A split of a dataset: N images of rows×cols uint8 pixels (row-major, one channel) and N labels.
struct Dataset {
  std::string name;  ///< "mnist", "fashion-mnist"
  Split split = Split::Test;
  std::int64_t rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  ///< size() · rows · cols
  std::vector<std::uint8_t> labels;  ///< size()
  int num_classes = 10;

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  std::int64_t pixels_per_image() const { return rows * cols; }
  const std::uint8_t* image(std::int64_t i) const { return pixels.data() + i * rows * cols; }
  /// Keeps the first `n` samples (no-op if n ≤ 0 or n ≥ size()).
  void truncate(std::int64_t n);
};

/// Folder of a dataset, searched in the ARCHITECTURE.md §3 order: `data_dir` if given,
/// $GRINDSTONE_DATA/<name>, <shared>/datasets/<name> (shared_dir(): $GRINDSTONE_SHARED or
/// <source>/../shared), /usr/share/datasets/<name>, ~/.cache/grindstone/<name>. Throws InputError listing the places searched when none has it.
std::filesystem::path locate(const std::string& name, const std::optional<std::filesystem::path>& data_dir = {});

/// Loads a split; `limit` > 0 reads only the first `limit` samples. Files are the standard
/// IDX names, plain or with ".gz". Throws InputError naming the file and field on bad data.
Dataset load(const std::string& name, Split split, const std::optional<std::filesystem::path>& data_dir = {},
             std::int64_t limit = 0);

/// Accepted names: "mnist", "fashion-mnist" (InputError otherwise).
void check_dataset_name(const std::string& name);

}  // namespace grindstone::datasets
