#pragma once
// Helpers for the synchronisation primitive tests.

#include <weft/errors.hpp>
#include <weft/sleep.hpp>
#include <weft/task.hpp>

#include <chrono>
#include <functional>
#include <stdexcept>

namespace weft::test {

/// Polls cond (sleeping 100µs between checks) until it holds; throws after 10 s so a
/// broken primitive fails the test instead of hanging it.
inline task<void> eventually(std::function<bool()> cond) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > limit) {
      throw std::runtime_error("condition not reached within 10 s");
    }
    co_await weft::sleep(std::chrono::microseconds(100));
  }
}

} // namespace weft::test
