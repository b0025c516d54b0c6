#include "common/contained.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "common/error.hpp"

namespace grindstone {

namespace {

/// The child's report: one kind byte then the message.
enum Kind : char { kDone = 'D', kInput = 'I', kMemory = 'M', kInternal = 'E' };

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void child(int fd, const std::function<void()>& work) {
  std::string report(1, kDone);
  try {
    work();
  } catch (const InputError& e) {
    report = std::string(1, kInput) + e.what();
  } catch (const std::bad_alloc&) {
    report = std::string(1, kMemory);
  } catch (const std::exception& e) {
    report = std::string(1, kInternal) + e.what();
  } catch (...) {
    report = std::string(1, kInternal) + "unknown exception";
  }
  write_all(fd, report);
  ::close(fd);
  ::_exit(0);  // no atexit handlers, no destructors of the parent's objects
}

}  // namespace

void run_contained(const std::string& label, const std::function<void()>& work, ContainmentLimits limits) {
  int fds[2];
  if (::pipe(fds) != 0) throw InternalError(label + ": cannot create a pipe for the contained read: " + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw InternalError(label + ": cannot fork for the contained read: " + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1], work);
  }
  ::close(fds[1]);
  std::string report;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + limits.wall;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timed_out = true;
      break;
    }
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child finished (or died)
    report.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    throw InputError(label + ": corrupt or hostile file: reading it did not finish within " +
                     std::to_string(limits.wall.count() / 1000.0).substr(0, 4) + " s");
  if (WIFSIGNALED(status))
    throw InputError(label + ": corrupt or hostile file: the reader crashed on it (signal " +
                     std::to_string(WTERMSIG(status)) + ", inside libhdf5)");
  if (report.empty())
    throw InputError(label + ": corrupt or hostile file: the reader stopped without a result (exit status " +
                     std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  switch (report[0]) {
    case kDone: return;
    case kInput: throw InputError(report.substr(1));
    case kMemory: throw std::bad_alloc();
    default: throw InternalError(report.substr(1));
  }
}

}  // namespace grindstone
