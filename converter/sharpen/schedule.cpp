#include "converter/sharpen/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/error.hpp"

namespace grindstone::sharpen {

void Sharpener::on_train_begin(int layers) {
  if (layers <= 0) throw InputError("sharpening: the model has no Spiking_BRelu layer");
  sharpness_.assign(static_cast<std::size_t>(layers), 0.0);
  current_epoch_ = 0;
  stop_ = false;
}

void Sharpener::on_epoch_end(int epoch, double) {
  current_epoch_ = epoch;
  if (std::all_of(sharpness_.begin(), sharpness_.end(), [](double s) { return s == 1.0; })) stop_ = true;
}

void Sharpener::set_model_sharpness(double value) {
  const std::size_t n = sharpness_.size();
  if (!bottom_up_) {
    std::fill(sharpness_.begin(), sharpness_.end(), value);
    return;
  }
  if (value == 1.0) {
    std::fill(sharpness_.begin(), sharpness_.end(), 1.0);
    return;
  }
  const double portion = 1.0 / static_cast<double>(n);
  // Python's int() truncates and % on positive floats is fmod. Whetstone would index past the
  // last layer if rounding made value/portion reach n below value 1; we clamp instead.
  const auto full = std::min(static_cast<std::size_t>(value / portion), n - 1);
  const double remainder = std::fmod(value, portion) / portion;
  for (std::size_t i = 0; i < n; ++i) sharpness_[i] = i < full ? 1.0 : (i == full ? remainder : 0.0);
}

// ------------------------------------------------------------------------------------------- simple

SimpleSharpener::SimpleSharpener(int start_epoch, int steps, bool bottom_up)
    : Sharpener(bottom_up), start_epoch_(start_epoch), steps_(steps) {
  require_input(start_epoch >= 0, "--start-epoch", "must be >= 0");
  require_input(steps >= 1, "--steps", "must be >= 1");
}

void SimpleSharpener::on_train_begin(int layers) {
  Sharpener::on_train_begin(layers);
  total_steps_ = bottom_up_ ? steps_ * layers : steps_;
  amount_ = 1.0 / static_cast<double>(total_steps_);
  taken_steps_ = 0;
  model_sharpness_ = 0.0;
}

void SimpleSharpener::on_epoch_end(int epoch, double loss) {
  Sharpener::on_epoch_end(epoch, loss);
  if (current_epoch_ < start_epoch_) return;
  model_sharpness_ += amount_;
  ++taken_steps_;
  set_model_sharpness(taken_steps_ < total_steps_ ? model_sharpness_ : 1.0);
}

std::string SimpleSharpener::describe() const {
  std::ostringstream s;
  s << "simple(start_epoch=" << start_epoch_ << ", steps=" << steps_ << ")";
  return s.str();
}

// ---------------------------------------------------------------------------------------- scheduled

ScheduledSharpener::ScheduledSharpener(std::vector<std::pair<int, int>> schedule, bool bottom_up)
    : Sharpener(bottom_up), schedule_(std::move(schedule)) {
  for (const auto& [start, stop] : schedule_)
    require_input(start > 0 && stop > start, "--schedule scheduled", "each layer needs 0 < start < stop");
}

std::vector<std::pair<int, int>> ScheduledSharpener::generate(int layers, int start, int duration, int intermission) {
  require_input(layers > 0, "--schedule scheduled", "no spiking layers");
  require_input(start > 0, "--start", "must be > 0 (epoch 0 counts the batches)");
  require_input(duration >= 1, "--duration", "must be >= 1");
  require_input(intermission >= 0, "--intermission", "must be >= 0");
  int current = start + duration;
  std::vector<std::pair<int, int>> schedule{{start, current}};
  for (int i = 1; i < layers; ++i) {
    current += intermission;
    schedule.emplace_back(current, current + duration);
    current += duration;
  }
  return schedule;
}

void ScheduledSharpener::on_train_begin(int layers) {
  Sharpener::on_train_begin(layers);
  require_input(static_cast<int>(schedule_.size()) == layers, "--schedule scheduled",
                "schedule has " + std::to_string(schedule_.size()) + " entries for " + std::to_string(layers) +
                    " spiking layers");
  increments_.clear();
  batch_ = 0;
}

void ScheduledSharpener::on_batch_end(int batch) {
  if (current_epoch_ > 0) {
    for (std::size_t i = 0; i < sharpness_.size(); ++i) {
      const auto [start, stop] = schedule_[i];
      if (current_epoch_ >= start && current_epoch_ < stop) {
        sharpness_[i] = std::min(1.0, sharpness_[i] + increments_[i]);
      } else if (current_epoch_ >= stop) {
        sharpness_[i] = 1.0;
      }
    }
  }
  batch_ = batch;
}

void ScheduledSharpener::on_epoch_end(int epoch, double loss) {
  Sharpener::on_epoch_end(epoch, loss);
  if (epoch == 0) {
    const int batches = batch_ + 1;
    increments_.clear();
    for (const auto& [start, stop] : schedule_) {
      const double denominator = static_cast<double>((stop - start) * batches) - 1.0;
      // Whetstone divides by zero for one batch per one-epoch window; then the layer jumps to 1.
      increments_.push_back(denominator > 0.0 ? 1.0 / denominator : 1.0);
    }
  }
}

std::string ScheduledSharpener::describe() const {
  std::ostringstream s;
  s << "scheduled(";
  for (std::size_t i = 0; i < schedule_.size(); ++i)
    s << (i ? ", " : "") << "(" << schedule_[i].first << ", " << schedule_[i].second << ")";
  s << ")";
  return s.str();
}

// ----------------------------------------------------------------------------------------- adaptive

AdaptiveSharpener::AdaptiveSharpener(AdaptiveConfig config, bool bottom_up) : Sharpener(bottom_up), config_(config) {
  require_input(config.min_init_epochs >= 1, "--min-init-epochs", "must be >= 1");
  require_input(config.rate > 0.0 && config.rate <= 1.0, "--rate", "must be in (0, 1]");
  require_input(config.cz_rate > 0.0 && config.cz_rate <= 1.0, "--cz-rate", "must be in (0, 1]");
  require_input(config.critical >= 0.0 && config.critical <= 1.0, "--critical", "must be in [0, 1]");
  require_input(config.first_layer_relative_rate > 0.0, "--first-layer-rate", "must be > 0");
  require_input(config.patience >= 0, "--patience", "must be >= 0");
  require_input(config.sig_increase > 0.0 && config.sig_decrease > 0.0, "--sig-increase/--sig-decrease", "must be > 0");
}

void AdaptiveSharpener::on_train_begin(int layers) {
  Sharpener::on_train_begin(layers);
  sharpening_ = false;
  reference_loss_ = 1e6;
  epochs_no_improvement_ = 0;
  batch_ = 0;
  batches_per_epoch_ = 0;
  wait_ = false;
}

void AdaptiveSharpener::perform_sharpening() {
  std::vector<std::size_t> unfinished;
  for (std::size_t i = 0; i < sharpness_.size(); ++i)
    if (sharpness_[i] < 1.0) unfinished.push_back(i);
  if (unfinished.empty()) {
    sharpening_ = false;
    return;
  }
  if (batches_per_epoch_ <= 0) throw InternalError("AdaptiveSharpener: sharpening before the first epoch ended");
  const double per_batch = 1.0 / static_cast<double>(batches_per_epoch_);
  if (bottom_up_) {
    if (wait_) return;
    const std::size_t idx = unfinished.front();
    double amount = sharpness_[idx] >= config_.critical ? config_.cz_rate : config_.rate;
    if (idx == 0) amount *= config_.first_layer_relative_rate;
    amount *= per_batch;
    sharpness_[idx] = std::min(1.0, sharpness_[idx] + amount);
    if (1.0 - sharpness_[idx] < 0.001) sharpness_[idx] = 1.0;
    if (sharpness_[idx] == 1.0) wait_ = true;
  } else {
    double amount = sharpness_[0] >= config_.critical ? config_.cz_rate : config_.rate;
    amount *= per_batch;
    double uniform = std::min(1.0, sharpness_[0] + amount);
    if (1.0 - uniform < 0.000001) uniform = 1.0;
    std::fill(sharpness_.begin(), sharpness_.end(), uniform);
  }
}

void AdaptiveSharpener::on_batch_end(int batch) {
  if (sharpening_) perform_sharpening();
  batch_ = batch;
}

void AdaptiveSharpener::on_epoch_end(int epoch, double loss) {
  Sharpener::on_epoch_end(epoch, loss);
  wait_ = false;
  bool improved = false, degraded = false;
  const double change = (loss - reference_loss_) / reference_loss_;
  if (change >= config_.sig_increase) degraded = true;
  else if (change <= -config_.sig_decrease) improved = true;
  if (current_epoch_ >= config_.min_init_epochs - 1) {
    if (improved) {
      reference_loss_ = loss;
      epochs_no_improvement_ = 0;
    } else {
      ++epochs_no_improvement_;
    }
    if (sharpening_) {
      if (degraded) {
        reference_loss_ = loss;
        epochs_no_improvement_ = 0;
        sharpening_ = false;
      }
    } else if (epochs_no_improvement_ > config_.patience) {
      reference_loss_ = loss;
      epochs_no_improvement_ = 0;
      sharpening_ = true;
    }
  } else {
    reference_loss_ = loss;
  }
  if (epoch == 0) batches_per_epoch_ = batch_ + 1;
}

std::string AdaptiveSharpener::describe() const {
  std::ostringstream s;
  s << "adaptive(min_init_epochs=" << config_.min_init_epochs << ", rate=" << config_.rate
    << ", cz_rate=" << config_.cz_rate << ", critical=" << config_.critical << ", patience=" << config_.patience
    << ", sig_increase=" << config_.sig_increase << ", sig_decrease=" << config_.sig_decrease << ")";
  return s.str();
}

}  // namespace grindstone::sharpen
