// Sharpening schedules vs hand-computed trajectories (Whetstone v0.9.2 semantics), and the key.
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "converter/sharpen/key.hpp"
#include "converter/sharpen/schedule.hpp"

using namespace grindstone;
using namespace grindstone::sharpen;

namespace {

/// One epoch of `batches` batches followed by the epoch end with `loss`.
void run_epoch(Sharpener& s, int epoch, int batches, double loss) {
  for (int b = 0; b < batches; ++b) s.on_batch_end(b);
  s.on_epoch_end(epoch, loss);
}

void check_sharpness(const Sharpener& s, std::vector<double> expected) {
  REQUIRE(s.sharpness().size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("layer " << i);
    CHECK(s.sharpness()[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("SimpleSharpener: one step per epoch end from start_epoch, bottom-up, stop one epoch later") {
  SimpleSharpener s(/*start_epoch=*/1, /*steps=*/2);
  s.on_train_begin(2);  // 4 steps of 0.25 model sharpness
  run_epoch(s, 0, 3, 1.0);
  check_sharpness(s, {0, 0});
  run_epoch(s, 1, 3, 1.0);
  check_sharpness(s, {0.5, 0});
  run_epoch(s, 2, 3, 1.0);
  check_sharpness(s, {1, 0});
  run_epoch(s, 3, 3, 1.0);
  check_sharpness(s, {1, 0.5});
  run_epoch(s, 4, 3, 1.0);
  check_sharpness(s, {1, 1});
  CHECK_FALSE(s.stop_requested());  // Whetstone checks before sharpening
  run_epoch(s, 5, 3, 1.0);
  CHECK(s.stop_requested());
}

TEST_CASE("SimpleSharpener uniform mode moves every layer together") {
  SimpleSharpener s(0, 4, /*bottom_up=*/false);
  s.on_train_begin(3);
  run_epoch(s, 0, 1, 1.0);
  check_sharpness(s, {0.25, 0.25, 0.25});
}

TEST_CASE("ScheduledSharpener: per-batch increments with Whetstone's one-epoch lag") {
  CHECK(ScheduledSharpener::generate(3, 30, 4, 2) == std::vector<std::pair<int, int>>{{30, 34}, {36, 40}, {42, 46}});
  ScheduledSharpener s({{1, 2}, {3, 4}});
  s.on_train_begin(2);
  run_epoch(s, 0, 4, 1.0);  // counts 4 batches: increment 1/(1·4 − 1) = 1/3
  check_sharpness(s, {0, 0});
  run_epoch(s, 1, 4, 1.0);  // current_epoch is still 0 during these batches
  check_sharpness(s, {0, 0});
  s.on_batch_end(0);  // epoch 2, current_epoch 1 ∈ [1, 2)
  check_sharpness(s, {1.0 / 3, 0});
  s.on_batch_end(1);
  check_sharpness(s, {2.0 / 3, 0});
  s.on_batch_end(2);
  s.on_batch_end(3);
  check_sharpness(s, {1, 0});
  s.on_epoch_end(2, 1.0);
  run_epoch(s, 3, 4, 1.0);  // current 2 ≥ stop of layer 0; layer 1 not yet
  check_sharpness(s, {1, 0});
  s.on_batch_end(0);
  check_sharpness(s, {1, 1.0 / 3});
  s.on_batch_end(1);
  s.on_batch_end(2);
  CHECK_FALSE(s.stop_requested());
  s.on_batch_end(3);
  check_sharpness(s, {1, 1});
  s.on_epoch_end(4, 1.0);
  CHECK(s.stop_requested());
}

TEST_CASE("AdaptiveSharpener state machine follows the hand-computed trajectory") {
  AdaptiveConfig config;
  config.min_init_epochs = 2;
  AdaptiveSharpener s(config);
  s.on_train_begin(2);
  const int bpe = 4;  // per batch: rate 0.25/4 = 0.0625, cz_rate 0.126/4 = 0.0315
  run_epoch(s, 0, bpe, 1.0);  // before min_init_epochs−1: reference = loss
  CHECK(s.reference_loss() == 1.0);
  CHECK_FALSE(s.sharpening());
  run_epoch(s, 1, bpe, 0.95);  // −5 %: not significant, 1 epoch without improvement
  CHECK_FALSE(s.sharpening());
  run_epoch(s, 2, bpe, 0.94);  // 2 > patience 1 → start, reference 0.94
  CHECK(s.sharpening());
  CHECK(s.reference_loss() == 0.94);
  run_epoch(s, 3, bpe, 1.2);  // sharpened 4 × 0.0625; +27.7 % → degraded → pause
  check_sharpness(s, {0.25, 0});
  CHECK_FALSE(s.sharpening());
  CHECK(s.reference_loss() == 1.2);
  run_epoch(s, 4, bpe, 1.0);  // −16.7 % → improved, reference 1.0
  CHECK(s.reference_loss() == 1.0);
  CHECK_FALSE(s.sharpening());
  run_epoch(s, 5, bpe, 0.99);
  CHECK_FALSE(s.sharpening());
  run_epoch(s, 6, bpe, 0.98);  // patience exceeded again → restart
  CHECK(s.sharpening());
  check_sharpness(s, {0.25, 0});
  run_epoch(s, 7, bpe, 0.98);
  check_sharpness(s, {0.5, 0});
  run_epoch(s, 8, bpe, 0.98);
  check_sharpness(s, {0.75, 0});
  run_epoch(s, 9, bpe, 0.98);  // critical zone: 4 × 0.0315
  check_sharpness(s, {0.876, 0});
  s.on_batch_end(0);
  s.on_batch_end(1);
  s.on_batch_end(2);
  check_sharpness(s, {0.9705, 0});
  s.on_batch_end(3);  // 1.002 → 1.0; wait blocks layer 1 for the rest of the epoch
  check_sharpness(s, {1, 0});
  s.on_epoch_end(10, 0.98);
  s.on_batch_end(0);  // wait cleared: the next layer starts
  check_sharpness(s, {1, 0.0625});
  CHECK_FALSE(s.stop_requested());
}

TEST_CASE("AdaptiveSharpener: overshoot wait flag and snap to 1 within 0.001") {
  AdaptiveConfig config;
  config.min_init_epochs = 1;
  config.patience = 0;
  config.rate = 1.0;
  config.cz_rate = 0.9995;
  config.critical = 0.5;
  AdaptiveSharpener s(config);
  s.on_train_begin(2);
  run_epoch(s, 0, 1, 1.0);  // epoch 0 ≥ min_init−1 = 0: −100 % vs the initial 1e6 counts as improved
  run_epoch(s, 1, 1, 1.0);  // 1 epoch without improvement > patience 0 → start
  CHECK(s.sharpening());
  s.on_batch_end(0);  // +1.0 (one batch per epoch) → 1.0, wait
  check_sharpness(s, {1, 0});
  s.on_batch_end(1);
  check_sharpness(s, {1, 0});
  s.on_epoch_end(2, 1.0);
  s.on_batch_end(0);
  check_sharpness(s, {1, 1});  // rate 1.0 jumps straight to 1
  s.on_epoch_end(3, 1.0);
  CHECK(s.stop_requested());
}

TEST_CASE("AdaptiveSharpener uniform mode: pause on degradation, resume after patience, stop in the same epoch") {
  // Trace of whetstone/callbacks.py AdaptiveSharpener(bottom_up=False) computed by hand.
  AdaptiveConfig config;
  config.min_init_epochs = 1;
  config.patience = 0;
  config.rate = 0.5;
  config.cz_rate = 0.25;
  config.critical = 0.5;
  AdaptiveSharpener s(config, /*bottom_up=*/false);
  s.on_train_begin(2);
  run_epoch(s, 0, 2, 1.0);  // improved against 1e6: reference 1.0; 2 batches per epoch
  CHECK_FALSE(s.sharpening());
  run_epoch(s, 1, 2, 1.0);  // unchanged: 1 epoch without improvement > 0 → start
  CHECK(s.sharpening());
  check_sharpness(s, {0, 0});
  run_epoch(s, 2, 2, 1.0);  // +0.5/2 per batch on every layer
  check_sharpness(s, {0.5, 0.5});
  CHECK(s.sharpening());
  run_epoch(s, 3, 2, 1.2);  // critical zone: +0.25/2 per batch; +20 % loss → pause, reference 1.2
  check_sharpness(s, {0.75, 0.75});
  CHECK_FALSE(s.sharpening());
  CHECK(s.reference_loss() == 1.2);
  run_epoch(s, 4, 2, 1.2);  // paused epoch; patience 0 exceeded → resume
  check_sharpness(s, {0.75, 0.75});
  CHECK(s.sharpening());
  CHECK_FALSE(s.stop_requested());
  run_epoch(s, 5, 2, 1.2);  // reaches 1.0 during the batches: the base class stops at this epoch's end
  check_sharpness(s, {1, 1});
  CHECK(s.stop_requested());
}

TEST_CASE("key_generator: entries per class, disjoint codes, seeded") {
  const ann::Matrix k = generate_key(10, 100, true, 42);
  CHECK(k.rows() == 10);
  CHECK(k.cols() == 100);
  for (Eigen::Index r = 0; r < 10; ++r) CHECK(k.row(r).sum() == 10.0f);
  CHECK(k == generate_key(10, 100, true, 42));
  CHECK(k != generate_key(10, 100, true, 43));
  const ann::Matrix d = generate_key(10, 40, false, 1);
  for (Eigen::Index r = 0; r < 10; ++r) CHECK(d.row(r).sum() == 4.0f);
  CHECK(d.colwise().sum().maxCoeff() == 1.0f);
  CHECK_THROWS_AS(generate_key(10, 5, true, 1), InputError);
}
