#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/fixed_point.hpp"
#include "common/parallel.hpp"
#include "common/random.hpp"
#include "common/shape.hpp"

using namespace grindstone;

TEST_CASE("fixed point parses, quantises and clips") {
  auto f = FixedPointFormat::parse("Q4.8");
  CHECK(f.integer_bits == 4);
  CHECK(f.fraction_bits == 8);
  CHECK(f.to_string() == "Q4.8");
  CHECK(f.max_units() == 4095);
  bool clipped = false;
  CHECK(f.quantise(0.5, &clipped) == 128);
  CHECK_FALSE(clipped);
  CHECK(f.quantise(-1.0 / 512.0) == -1);  // ties round away from zero
  CHECK(f.quantise(100.0, &clipped) == 4095);
  CHECK(clipped);
  CHECK(f.quantise(-100.0) == -4095);
  CHECK_THROWS_AS(FixedPointFormat::parse("4.8"), InputError);
  CHECK_THROWS_AS(FixedPointFormat::parse("Q20.20"), InputError);
}

TEST_CASE("shape size and printing") {
  Shape s{28, 28, 1};
  CHECK(s.size() == 784);
  CHECK(s.to_string() == "(28, 28, 1)");
  CHECK(Shape{10}.to_string() == "(10,)");
}

TEST_CASE("atomic write leaves no partial file on failure") {
  auto dir = std::filesystem::temp_directory_path() / "grindstone_atomic_test";
  std::filesystem::create_directories(dir);
  auto target = dir / "out.txt";
  std::filesystem::remove(target);
  CHECK_THROWS(write_file_atomically(target, [](const std::filesystem::path& tmp) {
    std::ofstream(tmp) << "partial";
    throw InputError("boom");
  }));
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK(std::distance(std::filesystem::directory_iterator(dir), {}) == 0);
  write_text_file_atomically(target, "done");
  std::ifstream in(target);
  std::string s;
  in >> s;
  CHECK(s == "done");
  std::filesystem::remove_all(dir);
}

TEST_CASE("rethrow_with_context keeps the type and prefixes") {
  try {
    try {
      throw InputError("kernel: bad shape");
    } catch (...) {
      rethrow_with_context("m.h5: layer 'dense'");
    }
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == "m.h5: layer 'dense': kernel: bad shape");
  }
}

TEST_CASE("counter-based random numbers are stateless") {
  CHECK(random_bits(1, 2, 3) == random_bits(1, 2, 3));
  CHECK(random_bits(1, 2, 3) != random_bits(1, 2, 4));
  double u = random_uniform(7, 0, 0);
  CHECK(u >= 0.0);
  CHECK(u < 1.0);
}

TEST_CASE("parallel_for_collected runs every index and rethrows the lowest failing one after the region") {
  grindstone::ThreadLimit limit(2);
  std::vector<int> done(100, 0);
  try {
    grindstone::parallel_for_collected(std::size_t{0}, done.size(), [&](std::size_t i) {
      done[i] = 1;
      if (i == 70 || i == 30) throw grindstone::InputError("index " + std::to_string(i));
    });
    FAIL("no exception");
  } catch (const grindstone::InputError& e) {
    CHECK(std::string(e.what()).find("index 30") != std::string::npos);
  }
  CHECK(std::count(done.begin(), done.end(), 1) == 100);  // the region ran to the end
  int sum = 0;
  grindstone::parallel_for_collected(0, 10, [&](int i) { if (i < 0) sum = -1; });
  CHECK(sum == 0);
}

TEST_CASE("the ThreadSanitizer loop runner visits every index once, on at most the allowed threads") {
  grindstone::ThreadLimit limit(2);
  std::vector<std::atomic<int>> visits(1000);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  grindstone::detail::run_on_threads(visits.size(), [&](std::size_t i) {
    visits[i].fetch_add(1);
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  CHECK(std::all_of(visits.begin(), visits.end(), [](const std::atomic<int>& v) { return v.load() == 1; }));
  CHECK(threads.size() <= 2);
  CHECK(threads.count(std::this_thread::get_id()) == 1);  // the caller works too
  grindstone::detail::run_on_threads(0, [&](std::size_t) { FAIL("no index in an empty range"); });
}
