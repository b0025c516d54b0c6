#pragma once
// A progress bar on stderr, drawn only when stderr is a terminal (never in CI logs or --json
// runs). Thread-safe `advance`.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace grindstone {

class ProgressBar {
 public:
  ProgressBar(std::string label, std::int64_t total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void advance(std::int64_t n = 1);
  /// Sets the text shown after the bar (e.g. "loss 0.123").
  void set_suffix(std::string suffix);
  void finish();

 private:
  void draw(bool force);
  std::string label_;
  std::int64_t total_;
  std::atomic<std::int64_t> done_{0};
  std::atomic<std::int64_t> last_draw_ns_{0};
  std::string suffix_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace grindstone
