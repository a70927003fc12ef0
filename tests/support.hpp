#pragma once
// Helpers shared by weft's tests.

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

} // namespace weft::test
