#pragma once
// Helpers shared by weft's tests.

#include <weft/runtime.hpp>

#include <gtest/gtest.h>

#include <chrono>
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
