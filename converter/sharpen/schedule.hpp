#pragma once
// Whetstone's sharpening callbacks (whetstone/callbacks.py, v0.9.2) as state machines driven by
// the trainer: on_batch_end after every optimiser step, on_epoch_end with the epoch's mean loss.
// Sharpness values are doubles, as the Python lists are; the layers get them as float32.
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace grindstone::sharpen {

class Sharpener {
 public:
  explicit Sharpener(bool bottom_up) : bottom_up_(bottom_up) {}
  virtual ~Sharpener() = default;
  /// Sets all `layers` sharpness values to 0.
  virtual void on_train_begin(int layers);
  virtual void on_batch_end(int /*batch*/) {}
  /// Whetstone's base class checks "all layers at 1.0 → stop" FIRST, then the subclass may
  /// sharpen; so the stop comes at the end of the epoch after the one that finished sharpening
  /// for epoch-based schedules.
  virtual void on_epoch_end(int epoch, double loss);
  bool stop_requested() const { return stop_; }
  const std::vector<double>& sharpness() const { return sharpness_; }
  virtual std::string describe() const = 0;
  /// Epochs the schedule needs until it stops (after on_train_begin), for an ETA; −1 when it
  /// depends on the loss (adaptive).
  virtual int planned_epochs() const { return -1; }

 protected:
  /// layer_utils.set_model_sharpness: bottom-up, the first int(value/portion) layers get 1, the
  /// next gets (value mod portion)/portion, the rest 0; value == 1 sets all to 1.
  void set_model_sharpness(double value);
  bool bottom_up_;
  int current_epoch_ = 0;
  bool stop_ = false;
  std::vector<double> sharpness_;
};

/// SimpleSharpener(start_epoch, steps, epochs=True): from start_epoch on, each epoch end adds
/// 1/(steps·layers) (bottom-up) or 1/steps (uniform) to the model sharpness.
class SimpleSharpener final : public Sharpener {
 public:
  SimpleSharpener(int start_epoch, int steps, bool bottom_up = true);
  void on_train_begin(int layers) override;
  void on_epoch_end(int epoch, double loss) override;
  std::string describe() const override;
  int planned_epochs() const override { return start_epoch_ + total_steps_ + 1; }

 private:
  int start_epoch_, steps_, total_steps_ = 0, taken_steps_ = 0;
  double amount_ = 0.0, model_sharpness_ = 0.0;
};

/// ScheduledSharpener: one (start, stop) epoch pair per layer. Epoch 0 counts batches; afterwards
/// each batch adds 1/((stop−start)·batches − 1) while start ≤ current_epoch < stop and forces 1
/// once current_epoch ≥ stop, where current_epoch is the last FINISHED epoch (as in Whetstone).
class ScheduledSharpener final : public Sharpener {
 public:
  explicit ScheduledSharpener(std::vector<std::pair<int, int>> schedule, bool bottom_up = true);
  /// gen_schedule(num_layers, start, duration, intermission).
  static std::vector<std::pair<int, int>> generate(int layers, int start, int duration, int intermission);
  void on_train_begin(int layers) override;
  void on_batch_end(int batch) override;
  void on_epoch_end(int epoch, double loss) override;
  std::string describe() const override;
  /// Layer i is forced to 1 during epoch stop_i + 1; the stop comes at that epoch's end.
  int planned_epochs() const override { return schedule_.empty() ? -1 : schedule_.back().second + 2; }

 private:
  std::vector<std::pair<int, int>> schedule_;
  std::vector<double> increments_;
  int batch_ = 0;
};

struct AdaptiveConfig {
  int min_init_epochs = 10;
  double rate = 0.25;          ///< sharpness per epoch below `critical`
  double cz_rate = 0.126;      ///< sharpness per epoch at or above `critical`
  double critical = 0.75;
  double first_layer_relative_rate = 1.0;
  int patience = 1;
  double sig_increase = 0.15;  ///< relative loss increase that pauses sharpening
  double sig_decrease = 0.15;  ///< relative loss decrease that counts as improvement
};

/// AdaptiveSharpener: the loss-driven state machine (reference loss, patience, critical zone,
/// bottom-up one layer at a time, overshoot `wait` flag cleared at each epoch end).
class AdaptiveSharpener final : public Sharpener {
 public:
  explicit AdaptiveSharpener(AdaptiveConfig config, bool bottom_up = true);
  void on_train_begin(int layers) override;
  void on_batch_end(int batch) override;
  void on_epoch_end(int epoch, double loss) override;
  std::string describe() const override;
  bool sharpening() const { return sharpening_; }
  double reference_loss() const { return reference_loss_; }

 private:
  void perform_sharpening();
  AdaptiveConfig config_;
  bool sharpening_ = false, wait_ = false;
  double reference_loss_ = 1e6;
  int epochs_no_improvement_ = 0, batch_ = 0, batches_per_epoch_ = 0;
};

}  // namespace grindstone::sharpen
