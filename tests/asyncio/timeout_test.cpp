#include <weft/timeout.hpp>

#include <weft/run.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

namespace {

using namespace std::chrono_literals;

class Timeout : public weft::test::with_workers {};

INSTANTIATE_TEST_SUITE_P(Workers, Timeout, weft::test::worker_counts(), weft::test::workers_name);

weft::task<int> after(std::chrono::milliseconds d, int v) {
  co_await weft::sleep(d);
  co_return v;
}

TEST_P(Timeout, WaitForReturnsTheValueInTime) {
  auto body = []() -> weft::task<int> { co_return co_await weft::wait_for(after(1ms, 4), 10s); };
  EXPECT_EQ(weft::run(body(), options()), 4);
}

TEST_P(Timeout, WaitForCancelsTheInnerTaskAndThrows) {
  auto body = []() -> weft::task<std::string> {
    std::atomic<bool> inner_cancelled{false};
    auto inner = [](std::atomic<bool>& c) -> weft::task<int> {
      try {
        co_await weft::sleep(1h);
      } catch (const weft::cancelled_error&) {
        c.store(true);
        throw;
      }
      co_return 0;
    };
    try {
      (void)co_await weft::wait_for(inner(inner_cancelled), 5ms);
    } catch (const weft::timeout_error&) {
      co_return std::string("timeout,") + (inner_cancelled.load() ? "inner cancelled" : "inner running");
    }
    co_return "no timeout";
  };
  EXPECT_EQ(weft::run(body(), options()), "timeout,inner cancelled");
}

TEST_P(Timeout, ZeroTimeoutIsAlreadyExpired) {
  auto body = []() -> weft::task<bool> {
    try {
      (void)co_await weft::wait_for(after(1h, 1), 0ms);
    } catch (const weft::timeout_error&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Timeout, ScopedDeadlineBoundsEveryAwaitInside) {
  auto body = []() -> weft::task<std::string> {
    auto block = []() -> weft::task<int> {
      int steps = 0;
      for (int i = 0; i < 1000; ++i) {
        co_await weft::sleep(2ms); // each await is short; together they overrun
        ++steps;
      }
      co_return steps;
    };
    try {
      (void)co_await weft::timeout(30ms, block());
    } catch (const weft::timeout_error&) {
      co_return "timed out";
    }
    co_return "finished";
  };
  EXPECT_EQ(weft::run(body(), options()), "timed out");
}

TEST_P(Timeout, ShieldProtectsInnerWork) {
  auto body = []() -> weft::task<std::string> {
    std::atomic<bool> inner_finished{false};
    auto outer = weft::spawn([](std::atomic<bool>& f) -> weft::task<int> {
      co_return co_await weft::shield([](std::atomic<bool>& ff) -> weft::task<int> {
        co_await weft::sleep(30ms);
        ff.store(true);
        co_return 1;
      }(f));
    }(inner_finished));
    co_await weft::sleep(5ms);
    outer.cancel();
    std::string r;
    try {
      (void)co_await outer;
      r = "not cancelled";
    } catch (const weft::cancelled_error&) {
      r = "cancelled";
    }
    co_return r + (inner_finished.load() ? ",inner finished" : ",inner cut short");
  };
  EXPECT_EQ(weft::run(body(), options()), "cancelled,inner finished");
}

} // namespace
