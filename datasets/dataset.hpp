#pragma once
// Image classification datasets: MNIST, Fashion-MNIST (IDX files), or users' own arrays
// (datasets/user_data.hpp: .npy, .npz, IDX).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/shape.hpp"

namespace grindstone::datasets {

enum class Split { Train, Test };

/// A split of a dataset: N images of rows×cols×channels uint8 pixels (row-major, channels
/// last) and N labels. Float inputs also keep their exact values (`values`): the float model
/// paths (eval, sharpen, rate normalisation) use them; the spiking engines take the bytes.
struct Dataset {
  std::string name;  ///< "mnist", "fashion-mnist", or the inputs file's name
  Split split = Split::Test;
  std::int64_t rows = 0, cols = 0, channels = 1;
  Shape shape;  ///< per-sample shape as stored, e.g. (28, 28), (32, 32, 3), (784,); empty = (rows, cols)
  std::vector<std::uint8_t> pixels;  ///< size() · pixels_per_image(); float inputs: round(clamp(x, 0, 1) · 255)
  std::vector<float> values;         ///< float inputs only (else empty): the values as given
  std::vector<std::uint8_t> labels;  ///< size(); kNoLabel for every sample when unlabelled
  int num_classes = 10;
  bool labelled = true;  ///< false: users' inputs without labels (accuracies are meaningless)

  /// The label of unlabelled samples: no class index (classes are < 255) ever equals it.
  static constexpr std::uint8_t kNoLabel = 255;

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  std::int64_t pixels_per_image() const { return rows * cols * channels; }
  const std::uint8_t* image(std::int64_t i) const { return pixels.data() + i * pixels_per_image(); }
  /// `shape`, or (rows, cols) when it is not set.
  Shape sample_shape() const { return shape.rank() ? shape : Shape{rows, cols}; }
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
