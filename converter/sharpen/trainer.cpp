#include "converter/sharpen/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>

#include "common/error.hpp"
#include "common/progress.hpp"
#include "common/random.hpp"

namespace grindstone::sharpen {

namespace {

constexpr std::uint64_t kShuffleStream = 0x5348554646;  // "SHUFF"
constexpr std::uint64_t kAugmentStream = 0x4155474d00000000;  // "AUGM"

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Counter-based Fisher–Yates permutation of [0, n) for `epoch`.
std::vector<Eigen::Index> epoch_order(Eigen::Index n, std::uint64_t seed, int epoch, bool shuffle) {
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  if (!shuffle) return order;
  const std::uint64_t stream = kShuffleStream + static_cast<std::uint64_t>(epoch);
  for (Eigen::Index i = n - 1; i > 0; --i) {
    const auto j = static_cast<Eigen::Index>(random_bits(seed, stream, static_cast<std::uint64_t>(i)) %
                                             static_cast<std::uint64_t>(i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

bool all_equal(const std::vector<double>& values, double v) {
  return std::all_of(values.begin(), values.end(), [v](double x) { return x == v; });
}

}  // namespace

void shift_image(const float* in, int height, int width, int channels, int dx, int dy, float* out) {
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const int sy = y - dy, sx = x - dx;
      const bool inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
      for (int c = 0; c < channels; ++c)
        out[(y * width + x) * channels + c] = inside ? in[(sy * width + sx) * channels + c] : 0.0f;
    }
}

double accuracy(Network& net, const Batch& inputs, const std::vector<int>& labels, Eigen::Index block) {
  require_input(static_cast<Eigen::Index>(labels.size()) == inputs.rows(), "accuracy", "labels: size mismatch");
  if (labels.empty()) return 0.0;
  const auto predicted = net.predict(inputs, block);
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

namespace {

/// Parameter values (trainable and moving statistics) of a network, to keep the selected epoch.
class Snapshot {
 public:
  void take(const std::vector<Parameter>& parameters) {
    values_.resize(parameters.size());
    for (std::size_t i = 0; i < parameters.size(); ++i)
      values_[i].assign(parameters[i].value, parameters[i].value + parameters[i].size);
  }
  void restore(const std::vector<Parameter>& parameters) const {
    if (values_.size() != parameters.size()) throw InternalError("Snapshot: parameter list changed");
    for (std::size_t i = 0; i < parameters.size(); ++i) std::copy(values_[i].begin(), values_[i].end(), parameters[i].value);
  }
  bool empty() const { return values_.empty(); }

 private:
  std::vector<std::vector<float>> values_;
};

/// One pass over the training set in `order`; returns (summed loss, correct predictions).
struct EpochTotals {
  double loss_sum = 0.0;
  std::int64_t correct = 0;
};

class EpochRunner {
 public:
  EpochRunner(Network& net, Sharpener& sharpener, Optimizer& optimizer, const std::vector<Parameter>& parameters,
              const Batch& train_x, const std::vector<int>& train_y, const TrainConfig& config)
      : net_(net), sharpener_(sharpener), optimizer_(optimizer), parameters_(parameters), x_(train_x), y_(train_y),
        config_(config) {
    const int shift = config.augment_shift;
    const std::int64_t pixels = std::int64_t{config.image_height} * config.image_width;
    require_input(shift >= 0, "--augment-shift", "must be ≥ 0");
    require_input(shift == 0 || (pixels > 0 && train_x.cols() % pixels == 0 && shift < config.image_height &&
                                 shift < config.image_width),
                  "--augment-shift", "needs image inputs larger than the shift");
    channels_ = shift > 0 ? static_cast<int>(train_x.cols() / pixels) : 0;
    source_.resize(static_cast<std::size_t>(train_x.cols()));
    moved_.resize(source_.size());
  }

  EpochTotals run(int epoch) {
    const Eigen::Index n = x_.rows();
    const auto batch_size = static_cast<Eigen::Index>(config_.batch_size);
    const Eigen::Index batches = (n + batch_size - 1) / batch_size;
    const auto order = epoch_order(n, config_.seed, epoch, config_.shuffle);
    EpochTotals totals;
    ProgressBar bar("epoch " + std::to_string(epoch + 1), batches);
    for (Eigen::Index b = 0; b < batches; ++b) {
      const Eigen::Index first = b * batch_size;
      const Eigen::Index count = std::min(batch_size, n - first);
      fill_batch(order, epoch, first, count);
      StepContext ctx{true, config_.seed, static_cast<std::uint64_t>(optimizer_.iterations())};
      const Batch& scores = net_.forward(xb_, ctx);
      totals.loss_sum += softmax_cross_entropy(scores, yb_, grad_);
      for (Eigen::Index r = 0; r < count; ++r) {
        Eigen::Index best = 0;
        scores.row(r).maxCoeff(&best);
        totals.correct += best == yb_[static_cast<std::size_t>(r)] ? 1 : 0;
      }
      net_.backward(grad_);
      optimizer_.step(parameters_);
      sharpener_.on_batch_end(static_cast<int>(b));
      net_.set_sharpness(sharpener_.sharpness());
      bar.advance();
      if (config_.progress && (b % 20 == 0 || b + 1 == batches))
        bar.set_suffix("loss " + std::to_string(totals.loss_sum / static_cast<double>(first + count)));
    }
    bar.finish();
    return totals;
  }

 private:
  void fill_batch(const std::vector<Eigen::Index>& order, int epoch, Eigen::Index first, Eigen::Index count) {
    const int shift = config_.augment_shift;
    xb_.resize(count, x_.cols());
    yb_.resize(static_cast<std::size_t>(count));
    for (Eigen::Index r = 0; r < count; ++r) {
      const Eigen::Index src = order[static_cast<std::size_t>(first + r)];
      xb_.row(r) = x_.row(src);
      if (shift > 0) {
        const std::uint64_t bits = random_bits(config_.seed, kAugmentStream + static_cast<std::uint64_t>(epoch),
                                               static_cast<std::uint64_t>(src));
        const auto span = static_cast<std::uint64_t>(2 * shift + 1);
        const int dx = static_cast<int>(bits % span) - shift, dy = static_cast<int>((bits / span) % span) - shift;
        Eigen::Map<Eigen::RowVectorXf>(source_.data(), x_.cols()) = xb_.row(r);
        shift_image(source_.data(), config_.image_height, config_.image_width, channels_, dx, dy, moved_.data());
        xb_.row(r) = Eigen::Map<const Eigen::RowVectorXf>(moved_.data(), x_.cols());
      }
      yb_[static_cast<std::size_t>(r)] = y_[static_cast<std::size_t>(src)];
    }
  }

  Network& net_;
  Sharpener& sharpener_;
  Optimizer& optimizer_;
  const std::vector<Parameter>& parameters_;
  const Batch& x_;
  const std::vector<int>& y_;
  const TrainConfig& config_;
  int channels_ = 0;
  std::vector<float> source_, moved_;
  Batch xb_, grad_;
  std::vector<int> yb_;
};

/// (accuracy at the current sharpness, accuracy with every layer at sharpness 1).
std::pair<double, double> evaluate_both(Network& net, const Batch& x, const std::vector<int>& y, Eigen::Index block,
                                        const std::vector<double>& sharpness) {
  const double current = accuracy(net, x, y, block);
  if (all_equal(sharpness, 1.0)) return {current, current};
  net.set_sharpness(std::vector<double>(sharpness.size(), 1.0));
  const double binary = accuracy(net, x, y, block);
  net.set_sharpness(sharpness);
  return {current, binary};
}

}  // namespace

TrainResult train(Network& net, Sharpener& sharpener, const Batch& train_x, const std::vector<int>& train_y,
                  const Batch& test_x, const std::vector<int>& test_y, const TrainConfig& config,
                  const std::function<void(const EpochRecord&)>& on_epoch) {
  return train(net, sharpener, train_x, train_y, Batch(), {}, test_x, test_y, config, on_epoch);
}

TrainResult train(Network& net, Sharpener& sharpener, const Batch& train_x, const std::vector<int>& train_y,
                  const Batch& validation_x, const std::vector<int>& validation_y, const Batch& test_x,
                  const std::vector<int>& test_y, const TrainConfig& config,
                  const std::function<void(const EpochRecord&)>& on_epoch) {
  require_input(train_x.rows() > 0 && static_cast<Eigen::Index>(train_y.size()) == train_x.rows(), "training data",
                "no samples, or labels do not match the images");
  require_input(static_cast<Eigen::Index>(validation_y.size()) == validation_x.rows(), "validation data",
                "labels do not match the images");
  require_input(config.batch_size > 0, "--batch-size", "must be positive");
  require_input(config.max_epochs > 0, "--epochs", "must be positive");
  const auto start = std::chrono::steady_clock::now();
  const Eigen::Index n = train_x.rows();
  const bool validate = validation_x.rows() > 0;
  const bool test = test_x.rows() > 0;

  Optimizer optimizer(config.optimizer);
  const std::vector<Parameter> parameters = net.parameters();
  EpochRunner runner(net, sharpener, optimizer, parameters, train_x, train_y, config);
  sharpener.on_train_begin(static_cast<int>(net.spiking_layers().size()));
  net.set_sharpness(sharpener.sharpness());

  TrainResult result;
  Snapshot best;
  bool best_is_sharp = false;
  for (int epoch = 0; epoch < config.max_epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const EpochTotals totals = runner.run(epoch);
    EpochRecord record;
    record.epoch = epoch;
    record.loss = totals.loss_sum / static_cast<double>(n);
    record.train_accuracy = static_cast<double>(totals.correct) / static_cast<double>(n);
    sharpener.on_epoch_end(epoch, record.loss);
    net.set_sharpness(sharpener.sharpness());
    record.sharpness = sharpener.sharpness();
    record.fully_sharpened = all_equal(record.sharpness, 1.0);
    const bool unsharpened = all_equal(record.sharpness, 0.0) || epoch == 0;
    if (validate) {
      std::tie(record.validation_accuracy, record.validation_accuracy_binary) =
          evaluate_both(net, validation_x, validation_y, config.eval_block, record.sharpness);
      if (unsharpened) result.validation_accuracy_float = record.validation_accuracy;
      if (test && unsharpened) record.test_accuracy = accuracy(net, test_x, test_y, config.eval_block);
      // Best fully sharpened epoch; until one exists, the best epoch at sharpness 1.
      const bool candidate = record.fully_sharpened || !best_is_sharp;
      if (candidate && (best.empty() || (record.fully_sharpened && !best_is_sharp) ||
                        record.validation_accuracy_binary >= result.validation_accuracy)) {
        best.take(parameters);
        best_is_sharp = record.fully_sharpened;
        result.selected_epoch = epoch;
        result.validation_accuracy = record.validation_accuracy_binary;
      }
    } else {
      result.selected_epoch = epoch;
      if (test)
        std::tie(record.test_accuracy, record.test_accuracy_binary) =
            evaluate_both(net, test_x, test_y, config.eval_block, record.sharpness);
    }
    if (test && unsharpened) result.accuracy_float = record.test_accuracy;
    record.seconds = seconds_since(epoch_start);
    result.history.push_back(record);
    result.epochs = epoch + 1;
    if (on_epoch) on_epoch(record);
    if (sharpener.stop_requested()) break;
  }
  result.fully_sharpened = all_equal(sharpener.sharpness(), 1.0);
  if (validate && result.selected_epoch + 1 != result.epochs) best.restore(parameters);
  net.set_sharpness(std::vector<double>(sharpener.sharpness().size(), 1.0));
  if (test) result.accuracy_binary = accuracy(net, test_x, test_y, config.eval_block);
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace grindstone::sharpen
