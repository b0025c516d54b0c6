#pragma once
// Thread control and exception collection for TBB regions.
//
// ThreadLimit caps TBB's worker count for its lifetime (scoped, not global state that outlives
// the caller). ExceptionCollector gathers exceptions thrown inside a parallel region, NEST-style,
// so they are rethrown once, deterministically (lowest task index first), after the region.
#include <cstddef>
#include <exception>
#include <functional>
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

namespace detail {
/// ThreadSanitizer builds only: runs body(i) for i in [0, n) on std::threads, as many as TBB
/// would use. TSan cannot see the happens-before edges of TBB's task spawn and join, which live
/// in the uninstrumented libtbb, and reported hundreds of races inside TBB's own partitioner; on
/// std::thread the fork and join are intercepted, so what remains is a race in our loop bodies.
void run_on_threads(std::size_t n, const std::function<void(std::size_t)>& body);
}  // namespace detail

/// The one way the project runs a parallel loop: body(i) for every i in [begin, end) (TBB, or
/// std::thread under TSan), every index's exception collected (ExceptionCollector) and the
/// lowest index's rethrown after the region, so which error is reported does not depend on
/// thread scheduling.
template <class Index, class Body>
void parallel_for_collected(Index begin, Index end, const Body& body) {
  ExceptionCollector errors;
  const auto guarded = [&](Index i) {
    try {
      body(i);
    } catch (...) {
      errors.capture(static_cast<std::size_t>(i - begin));
    }
  };
#if defined(__SANITIZE_THREAD__)
  if (end > begin)
    detail::run_on_threads(static_cast<std::size_t>(end - begin),
                           [&](std::size_t k) { guarded(static_cast<Index>(begin + static_cast<Index>(k))); });
#else
  tbb::parallel_for(begin, end, guarded);
#endif
  errors.rethrow_if_any();
}

}  // namespace grindstone
