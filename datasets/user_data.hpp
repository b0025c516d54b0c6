#pragma once
// Users' own data: `--inputs FILE [--labels FILE]` on eval, run, compare and sharpen.
//
// Inputs: .npy (the array), .npz (arrays `x` and, optionally, `y`), or IDX (plain or .gz,
// unsigned bytes). Shape N×H×W, N×H×W×C (channels last) or N×D; uint8 pixels (0–255),
// other integer types holding 0–255, bool, or float32/float64 (used as given by the float
// model; the spiking engines take round(clamp(x, 0, 1)·255), so x in [0, 1] maps onto the
// same scale as pixel/255). Labels: integers 0–254, shape N or N×1, from .npy, .npz (`y`) or IDX.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/shape.hpp"
#include "datasets/dataset.hpp"
#include "datasets/npy.hpp"

namespace grindstone::datasets {

/// Where a command's samples come from: a named dataset (the default) or the user's files.
struct DataSource {
  std::string dataset = "mnist";                  ///< mnist | fashion-mnist (when no inputs)
  std::optional<std::filesystem::path> data_dir;  ///< the dataset's folder (datasets::locate)
  std::optional<std::filesystem::path> inputs;    ///< users' inputs file (replaces the dataset)
  std::optional<std::filesystem::path> labels;    ///< users' labels file (else .npz `y`, if any)
  std::int64_t limit = 0;                         ///< keep the first N samples (0 = all)

  bool user() const { return inputs.has_value(); }
};

/// The samples of `source`: the dataset's `split`, or the user's inputs (and labels). When
/// `require_labels`, unlabelled inputs are refused naming --labels. Throws InputError.
Dataset load_source(const DataSource& source, Split split, bool require_labels);

/// Users' inputs and labels from files (formats above); `limit` > 0 keeps the first samples.
Dataset load_user_data(const std::filesystem::path& inputs, const std::optional<std::filesystem::path>& labels,
                       std::int64_t limit, bool require_labels);

/// A dataset from arrays: x (N × sample shape) and optional labels y. `x_label`/`y_label`
/// name them in errors (e.g. "data.npz: x"). Used by the file readers and the Python module.
Dataset from_arrays(const NpyArray& x, const NpyArray* y, const std::string& x_label, const std::string& y_label,
                    std::int64_t limit = 0);

/// Whether samples of shape `data` feed a model taking `model`: equal up to trailing 1s
/// ((28, 28) fits (28, 28, 1)), or the same element count when either side is flat (rank 1,
/// row-major flattening as for MNIST and Dense inputs).
bool shape_fits(const Shape& data, const Shape& model);

/// InputError "<context>: input: samples of shape (…) from <data.name> do not fit the model's
/// input (…)" unless shape_fits.
void check_fits(const Dataset& data, const Shape& model_input, const std::string& context);

}  // namespace grindstone::datasets
