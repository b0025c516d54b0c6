#include "common/parallel.hpp"

#include <tbb/global_control.h>
#include <tbb/info.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace grindstone {

ThreadLimit::ThreadLimit(int threads)
    : threads_(threads > 0 ? threads : static_cast<int>(tbb::info::default_concurrency())),
      control_(std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                     static_cast<std::size_t>(threads_))) {}

ThreadLimit::~ThreadLimit() = default;

void ExceptionCollector::capture(std::size_t index) {
  std::lock_guard lock(mutex_);
  if (!first_ || index < index_) {
    first_ = std::current_exception();
    index_ = index;
  }
}

void ExceptionCollector::rethrow_if_any() {
  if (first_) std::rethrow_exception(first_);
}

namespace detail {

void run_on_threads(std::size_t n, const std::function<void(std::size_t)>& body) {
  const std::size_t allowed = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  const std::size_t workers = std::max<std::size_t>(1, std::min(n, allowed));
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) body(i);
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

}  // namespace detail

}  // namespace grindstone
