#pragma once
// Helpers shared by weft's tests.

#include <weft/runtime.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <random>
#include <string>

namespace weft::test {

/// Seed for randomized tests: WEFT_SEED if set, else random; printed so a failure replays.
inline unsigned test_seed(const char* name) {
  unsigned seed = 0;
  if (const char* env = std::getenv("WEFT_SEED")) {
    seed = static_cast<unsigned>(std::strtoul(env, nullptr, 10));
  } else {
    seed = std::random_device{}();
  }
  std::printf("[ seed     ] %s: WEFT_SEED=%u\n", name, seed);
  return seed;
}

/// The owner's side of the deque tests: pushes up to `burst` of the items next, next + 1,
/// ..., last onto d, one by one or as one batch (push_n, as gather does), as rng decides.
template <class Deque, class Rng>
void push_burst(Deque& d, Rng& rng, std::uintptr_t& next, std::uintptr_t last, unsigned burst) {
  const auto n = static_cast<std::int64_t>(std::min<std::uintptr_t>(burst, last + 1 - next));
  if (rng() % 2 == 0) {
    for (std::int64_t i = 0; i < n; ++i) {
      d.push(next++);
    }
  } else {
    d.push_n(n, [first = next](std::int64_t i) { return first + static_cast<std::uintptr_t>(i); });
    next += static_cast<std::uintptr_t>(n);
  }
}

/// Base of the tests that depend on the scheduler: parameterized over worker counts.
class with_workers : public ::testing::TestWithParam<unsigned> {
protected:
  weft::runtime_options options() const { return {.workers = GetParam()}; }
};

/// The worker counts every scheduler-dependent test runs with.
inline auto worker_counts() { return ::testing::Values(1u, 2u, 4u); }

/// Test-name suffix: "2workers".
inline std::string workers_name(const ::testing::TestParamInfo<unsigned>& info) {
  return std::to_string(info.param) + "workers";
}

} // namespace weft::test
