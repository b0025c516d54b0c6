#pragma once
// Thread control and exception collection for TBB regions.
//
// ThreadLimit caps TBB's worker count for its lifetime (scoped, not global state that outlives
// the caller). ExceptionCollector gathers exceptions thrown inside a parallel region, NEST-style,
// so they are rethrown once, deterministically (lowest task index first), after the region.
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

namespace grindstone {

class ThreadLimit {
 public:
  /// `threads` <= 0 means "all hardware threads".
  explicit ThreadLimit(int threads);
  ~ThreadLimit();
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;
  int threads() const { return threads_; }

 private:
  int threads_;
  std::unique_ptr<tbb::global_control> control_;
};

class ExceptionCollector {
 public:
  /// Records the current exception for task `index` (call from a catch block).
  void capture(std::size_t index);
  /// Rethrows the exception of the lowest task index, if any.
  void rethrow_if_any();

 private:
  std::mutex mutex_;
  std::size_t index_ = static_cast<std::size_t>(-1);
  std::exception_ptr first_;
};

/// tbb::parallel_for over [begin, end) with every index's exception collected (ExceptionCollector)
/// and the lowest index's rethrown after the region, so which error is reported does not depend
/// on thread scheduling.
template <class Index, class Body>
void parallel_for_collected(Index begin, Index end, const Body& body) {
  ExceptionCollector errors;
  tbb::parallel_for(begin, end, [&](Index i) {
    try {
      body(i);
    } catch (...) {
      errors.capture(static_cast<std::size_t>(i - begin));
    }
  });
  errors.rethrow_if_any();
}

}  // namespace grindstone
