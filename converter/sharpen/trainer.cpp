#include "converter/sharpen/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <string>

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

TrainResult train(Network& net, Sharpener& sharpener, const Batch& train_x, const std::vector<int>& train_y,
                  const Batch& test_x, const std::vector<int>& test_y, const TrainConfig& config,
                  const std::function<void(const EpochRecord&)>& on_epoch) {
  require_input(train_x.rows() > 0 && static_cast<Eigen::Index>(train_y.size()) == train_x.rows(), "training data",
                "no samples, or labels do not match the images");
  require_input(config.batch_size > 0, "--batch-size", "must be positive");
  require_input(config.max_epochs > 0, "--epochs", "must be positive");
  const int shift = config.augment_shift;
  const std::int64_t pixels = std::int64_t{config.image_height} * config.image_width;
  require_input(shift >= 0, "--augment-shift", "must be ≥ 0");
  require_input(shift == 0 || (pixels > 0 && train_x.cols() % pixels == 0 && shift < config.image_height &&
                               shift < config.image_width),
                "--augment-shift", "needs image inputs larger than the shift");
  const int channels = shift > 0 ? static_cast<int>(train_x.cols() / pixels) : 0;
  std::vector<float> source(static_cast<std::size_t>(train_x.cols())), moved(source.size());
  const auto start = std::chrono::steady_clock::now();
  const Eigen::Index n = train_x.rows();
  const auto batch_size = static_cast<Eigen::Index>(config.batch_size);
  const Eigen::Index batches = (n + batch_size - 1) / batch_size;
  const bool evaluate = test_x.rows() > 0;

  Optimizer optimizer(config.optimizer);
  const std::vector<Parameter> parameters = net.parameters();
  sharpener.on_train_begin(static_cast<int>(net.spiking_layers().size()));
  net.set_sharpness(sharpener.sharpness());

  TrainResult result;
  Batch xb, grad;
  std::vector<int> yb;
  for (int epoch = 0; epoch < config.max_epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const auto order = epoch_order(n, config.seed, epoch, config.shuffle);
    double loss_sum = 0.0;
    std::int64_t correct = 0;
    ProgressBar bar("epoch " + std::to_string(epoch + 1), batches);
    for (Eigen::Index b = 0; b < batches; ++b) {
      const Eigen::Index first = b * batch_size;
      const Eigen::Index count = std::min(batch_size, n - first);
      xb.resize(count, train_x.cols());
      yb.resize(static_cast<std::size_t>(count));
      for (Eigen::Index r = 0; r < count; ++r) {
        const Eigen::Index src = order[static_cast<std::size_t>(first + r)];
        xb.row(r) = train_x.row(src);
        if (shift > 0) {
          const std::uint64_t bits = random_bits(config.seed, kAugmentStream + static_cast<std::uint64_t>(epoch),
                                                 static_cast<std::uint64_t>(src));
          const auto span = static_cast<std::uint64_t>(2 * shift + 1);
          const int dx = static_cast<int>(bits % span) - shift, dy = static_cast<int>((bits / span) % span) - shift;
          Eigen::Map<Eigen::RowVectorXf>(source.data(), train_x.cols()) = xb.row(r);
          shift_image(source.data(), config.image_height, config.image_width, channels, dx, dy, moved.data());
          xb.row(r) = Eigen::Map<const Eigen::RowVectorXf>(moved.data(), train_x.cols());
        }
        yb[static_cast<std::size_t>(r)] = train_y[static_cast<std::size_t>(src)];
      }
      StepContext ctx{true, config.seed, static_cast<std::uint64_t>(optimizer.iterations())};
      const Batch& scores = net.forward(xb, ctx);
      loss_sum += softmax_cross_entropy(scores, yb, grad);
      for (Eigen::Index r = 0; r < count; ++r) {
        Eigen::Index best = 0;
        scores.row(r).maxCoeff(&best);
        correct += best == yb[static_cast<std::size_t>(r)] ? 1 : 0;
      }
      net.backward(grad);
      optimizer.step(parameters);
      sharpener.on_batch_end(static_cast<int>(b));
      net.set_sharpness(sharpener.sharpness());
      bar.advance();
      if (config.progress && (b % 20 == 0 || b + 1 == batches))
        bar.set_suffix("loss " + std::to_string(loss_sum / static_cast<double>(first + count)));
    }
    bar.finish();
    EpochRecord record;
    record.epoch = epoch;
    record.loss = loss_sum / static_cast<double>(n);
    record.train_accuracy = static_cast<double>(correct) / static_cast<double>(n);
    sharpener.on_epoch_end(epoch, record.loss);
    net.set_sharpness(sharpener.sharpness());
    record.sharpness = sharpener.sharpness();
    if (evaluate) {
      record.test_accuracy = accuracy(net, test_x, test_y, config.eval_block);
      if (all_equal(record.sharpness, 1.0)) {
        record.test_accuracy_binary = record.test_accuracy;
      } else {
        net.set_sharpness(std::vector<double>(record.sharpness.size(), 1.0));
        record.test_accuracy_binary = accuracy(net, test_x, test_y, config.eval_block);
        net.set_sharpness(record.sharpness);
      }
      if (all_equal(record.sharpness, 0.0) || result.accuracy_float < 0.0) result.accuracy_float = record.test_accuracy;
    }
    record.seconds = seconds_since(epoch_start);
    result.history.push_back(record);
    result.epochs = epoch + 1;
    if (on_epoch) on_epoch(record);
    if (sharpener.stop_requested()) break;
  }
  result.fully_sharpened = all_equal(sharpener.sharpness(), 1.0);
  net.set_sharpness(std::vector<double>(sharpener.sharpness().size(), 1.0));
  if (evaluate) result.accuracy_binary = accuracy(net, test_x, test_y, config.eval_block);
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace grindstone::sharpen
