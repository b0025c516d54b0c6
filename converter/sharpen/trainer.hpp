#pragma once
// The training loop: mini-batch gradient descent with a Whetstone sharpener, as Keras's fit()
// with the sharpening callback (shuffled epochs, last partial batch kept, callback after every
// batch and epoch), plus per-epoch evaluation on a held-out set at the current sharpness and
// fully sharpened (as Whetstone's WhetstoneLogger).
#include <cstdint>
#include <functional>
#include <vector>

#include "converter/sharpen/network.hpp"
#include "converter/sharpen/optimizer.hpp"
#include "converter/sharpen/schedule.hpp"

namespace grindstone::sharpen {

struct TrainConfig {
  /// Guard: training stops after this many epochs even if not every layer reached sharpness 1.
  int max_epochs = 100;
  int batch_size = 128;
  std::uint64_t seed = 1;  ///< shuffling and dropout
  OptimizerConfig optimizer;
  bool shuffle = true;
  /// Samples per block when evaluating.
  Eigen::Index eval_block = 500;
  /// Show a ProgressBar per epoch (stderr, only on a terminal).
  bool progress = true;
  /// Data augmentation: every training image is shifted by a random (dx, dy) in
  /// [−augment_shift, augment_shift]² pixels each epoch (zero fill), drawn from `seed`, the
  /// epoch and the sample (same images for any thread count). 0 = off. Needs image_height and
  /// image_width (rows are height × width × channels, channels last).
  int augment_shift = 0;
  int image_height = 0;
  int image_width = 0;
};

/// Writes to `out` the image `in` (height × width × channels, channels last) moved by dx columns
/// right and dy rows down; pixels moved in from outside are 0.
void shift_image(const float* in, int height, int width, int channels, int dx, int dy, float* out);

struct EpochRecord {
  int epoch = 0;
  double validation_accuracy = -1.0;         ///< validation accuracy at `sharpness` (−1 without one)
  double validation_accuracy_binary = -1.0;  ///< validation accuracy with every layer at sharpness 1
  double loss = 0.0;               ///< mean training loss over the epoch (Keras's logs['loss'])
  double train_accuracy = 0.0;     ///< training accuracy during the epoch at the sharpness of each batch
  std::vector<double> sharpness;   ///< after the epoch's end-of-epoch sharpener update
  /// Test accuracy at `sharpness`; measured only while no layer is sharpened (for
  /// accuracy_float) and when there is no validation set; else −1 (the test set is only reported).
  double test_accuracy = -1.0;
  /// Test accuracy with every layer at sharpness 1; measured only when there is no validation set.
  double test_accuracy_binary = -1.0;
  bool fully_sharpened = false;    ///< every layer was at sharpness 1 after this epoch's update
  double seconds = 0.0;            ///< wall time of the epoch including evaluation
};

struct TrainResult {
  std::vector<EpochRecord> history;
  bool fully_sharpened = false;  ///< every layer reached sharpness 1 within max_epochs
  int epochs = 0;
  /// The epoch (0-based) whose weights the network holds at the end: with a validation set, the
  /// fully sharpened epoch with the best validation accuracy (the latest on ties); if training
  /// never sharpened fully, the epoch with the best validation accuracy at sharpness 1. Without
  /// a validation set, the last epoch.
  int selected_epoch = -1;
  double validation_accuracy = -1.0;  ///< validation accuracy of the selected epoch at sharpness 1
  /// Validation accuracy before sharpening (same rule as accuracy_float).
  double validation_accuracy_float = -1.0;
  /// Held-out accuracy before sharpening: at the last epoch that ended with every sharpness 0
  /// (the first epoch's if sharpening began at once).
  double accuracy_float = -1.0;
  /// Test accuracy of the final (selected) network with every layer at sharpness 1.
  double accuracy_binary = -1.0;
  double seconds = 0.0;
};

/// Fraction of `labels` that `net` predicts correctly (inference mode, current sharpness).
double accuracy(Network& net, const Batch& inputs, const std::vector<int>& labels, Eigen::Index block = 500);

/// Trains `net` on (train_x, train_y) with `sharpener`. The validation set (may be empty) selects
/// the epoch whose weights are kept (TrainResult::selected_epoch); the test set (may be empty) is
/// only reported. `on_epoch` is called after every epoch (for logging). At the end every spiking
/// layer is set to sharpness 1 (also when the guard stopped training; then fully_sharpened is
/// false). Deterministic: same inputs and seed → bit-identical weights for any thread count.
TrainResult train(Network& net, Sharpener& sharpener, const Batch& train_x, const std::vector<int>& train_y,
                  const Batch& validation_x, const std::vector<int>& validation_y, const Batch& test_x,
                  const std::vector<int>& test_y, const TrainConfig& config,
                  const std::function<void(const EpochRecord&)>& on_epoch = {});

/// The same without a validation set: the last epoch is kept, the test set is evaluated every epoch.
TrainResult train(Network& net, Sharpener& sharpener, const Batch& train_x, const std::vector<int>& train_y,
                  const Batch& test_x, const std::vector<int>& test_y, const TrainConfig& config,
                  const std::function<void(const EpochRecord&)>& on_epoch = {});

}  // namespace grindstone::sharpen
