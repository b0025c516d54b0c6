#include "common/parallel.hpp"

#include <tbb/global_control.h>
#include <tbb/info.h>

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

}  // namespace grindstone
