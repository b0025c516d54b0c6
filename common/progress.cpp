#include "common/progress.hpp"

#include <cstdio>
#include <unistd.h>

namespace grindstone {

ProgressBar::ProgressBar(std::string label, std::int64_t total)
    : label_(std::move(label)), total_(total > 0 ? total : 1), enabled_(::isatty(2) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(std::int64_t n) {
  done_ += n;
  draw(false);
}

void ProgressBar::set_suffix(std::string suffix) { suffix_ = std::move(suffix); }

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  draw(true);
  std::fputc('\n', stderr);
}

void ProgressBar::draw(bool force) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count();
  std::int64_t last = last_draw_ns_.load();
  // Redraw at most 10 times a second; only one thread wins each slot.
  if (!force && (ns - last < 100'000'000 || !last_draw_ns_.compare_exchange_strong(last, ns))) return;
  const std::int64_t done = std::min(done_.load(), total_);
  const int width = 30;
  const int filled = static_cast<int>(width * done / total_);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %.1fs %s", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), ns / 1e9, suffix_.c_str());
  std::fflush(stderr);
}

}  // namespace grindstone
