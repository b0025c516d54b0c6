#include "common/contained.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <new>
#include <string>
#include <thread>

#include "common/error.hpp"

using namespace grindstone;

namespace {

std::string input_error(const std::function<void()>& work, ContainmentLimits limits = {}) {
  try {
    run_contained("model.h5", work, limits);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("run_contained: a clean read returns, its errors come back with their type and message") {
  CHECK_NOTHROW(run_contained("model.h5", [] {}));
  CHECK(input_error([] { throw InputError("model.h5: layer 'dense': kernel: NaN"); }) ==
        "model.h5: layer 'dense': kernel: NaN");
  CHECK_THROWS_AS(run_contained("model.h5", [] { throw std::bad_alloc(); }), std::bad_alloc);
  CHECK_THROWS_AS(run_contained("model.h5", [] { throw std::logic_error("bug"); }), InternalError);
}

TEST_CASE("run_contained: a crash or a hang in the child is one InputError naming the file") {
  const std::string crashed = input_error([] { std::raise(SIGSEGV); });
  CHECK(crashed.rfind("model.h5: corrupt or hostile file: ", 0) == 0);
  const std::string aborted = input_error([] { std::abort(); });
  CHECK(aborted.rfind("model.h5: corrupt or hostile file: ", 0) == 0);
  ContainmentLimits quick;
  quick.wall = std::chrono::milliseconds(300);
  const std::string hung = input_error([] { for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(50)); }, quick);
  CHECK(hung.find("did not finish within") != std::string::npos);
  // The parent is unharmed and can contain again.
  CHECK_NOTHROW(run_contained("model.h5", [] {}));
}
