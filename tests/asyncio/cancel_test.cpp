#include <weft/event.hpp>
#include <weft/join_handle.hpp>

#include <weft/run.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>
#include <weft/yield.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

class Cancel : public weft::test::with_workers {};

INSTANTIATE_TEST_SUITE_P(Workers, Cancel, weft::test::worker_counts(), weft::test::workers_name);

struct counter_guard {
  std::atomic<int>* n;
  ~counter_guard() { n->fetch_add(1); }
};

TEST_P(Cancel, InterruptsSleepAndRunsDestructors) {
  auto body = []() -> weft::task<std::string> {
    std::atomic<int> destroyed{0};
    auto h = weft::spawn([](std::atomic<int>& d) -> weft::task<int> {
      counter_guard g{&d};
      co_await weft::sleep(1h);
      co_return 1;
    }(destroyed));
    co_await weft::sleep(5ms); // let it start sleeping (not required for correctness)
    EXPECT_TRUE(h.cancel());
    std::string what = "none";
    try {
      co_await h;
    } catch (const weft::cancelled_error&) {
      what = "cancelled";
    }
    co_return what + std::to_string(destroyed.load());
  };
  EXPECT_EQ(weft::run(body(), options()), "cancelled1");
}

TEST_P(Cancel, BeforeStartThrowsAtFirstSuspensionPoint) {
  auto body = []() -> weft::task<int> {
    std::atomic<int> steps{0};
    std::atomic<bool> cancel_sent{false};
    // The child may start on another worker at once; it holds before its first suspension
    // point until cancel() has been called, so the outcome does not depend on timing.
    auto h = weft::spawn([](std::atomic<int>& s, std::atomic<bool>& sent) -> weft::task<void> {
      s.fetch_add(1); // runs: cancellation is only seen at suspension points
      while (!sent.load(std::memory_order_acquire)) {
        std::this_thread::yield();
      }
      co_await weft::yield();
      s.fetch_add(100);
    }(steps, cancel_sent));
    EXPECT_TRUE(h.cancel());
    cancel_sent.store(true, std::memory_order_release);
    bool threw = false;
    try {
      co_await h;
    } catch (const weft::cancelled_error&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    co_return steps.load();
  };
  const int steps = weft::run(body(), options());
  EXPECT_LE(steps, 1); // it may start, but never passes its first suspension point
}

TEST_P(Cancel, FinishedTaskReportsFalse) {
  auto body = []() -> weft::task<bool> {
    auto h = weft::spawn([]() -> weft::task<int> { co_return 3; }());
    co_await h.done();
    const bool cancelled = h.cancel();
    EXPECT_EQ(co_await h, 3);
    co_return cancelled;
  };
  EXPECT_FALSE(weft::run(body(), options()));
}

TEST_P(Cancel, ReachesLazyTasksAwaitedByTheCancelledTask) {
  auto body = []() -> weft::task<bool> {
    auto inner = []() -> weft::task<void> { co_await weft::sleep(1h); };
    auto h = weft::spawn([](auto make) -> weft::task<void> { co_await make(); }(inner));
    co_await weft::sleep(2ms);
    h.cancel();
    try {
      co_await h;
    } catch (const weft::cancelled_error&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Cancel, PropagatesToAnAwaitedSpawnedTask) {
  // Cancelling the outer task while it awaits a handle cancels the inner task too, as
  // asyncio does; the outer waits for the inner to end.
  auto body = []() -> weft::task<std::string> {
    std::atomic<int> inner_destroyed{0};
    auto outer = weft::spawn([](std::atomic<int>& d) -> weft::task<void> {
      auto inner = weft::spawn([](std::atomic<int>& dd) -> weft::task<void> {
        counter_guard g{&dd};
        co_await weft::sleep(1h);
      }(d));
      co_await weft::yield(); // let the inner task be stolen or started elsewhere
      co_await inner;
    }(inner_destroyed));
    co_await weft::sleep(5ms);
    outer.cancel();
    std::string r = "none";
    try {
      co_await outer;
    } catch (const weft::cancelled_error&) {
      r = "cancelled";
    }
    co_return r + std::to_string(inner_destroyed.load());
  };
  EXPECT_EQ(weft::run(body(), options()), "cancelled1");
}

TEST_P(Cancel, CaughtCancellationLetsTheTaskFinish) {
  auto body = []() -> weft::task<int> {
    auto h = weft::spawn([]() -> weft::task<int> {
      try {
        co_await weft::sleep(1h);
      } catch (const weft::cancelled_error&) {
        co_return 7; // cleanup path returns a value, as a Python task may
      }
      co_return 0;
    }());
    co_await weft::sleep(2ms);
    h.cancel();
    co_return co_await h;
  };
  EXPECT_EQ(weft::run(body(), options()), 7);
}

// A task whose cancellation was requested before it reaches `co_await handle` throws at
// once and cancels the task it would have awaited (asyncio cancels an awaited task too);
// done() then waits for that task, which would otherwise sleep for an hour.
TEST(Cancel, AJoinerAlreadyCancelledCancelsTheTaskItAwaits) {
  weft::runtime rt({.workers = 2});
  weft::event never;
  std::atomic<bool> child_saw_cancel{false};
  auto parent = rt.spawn([](weft::event& e, std::atomic<bool>& saw) -> weft::task<bool> {
    auto child = weft::spawn([](std::atomic<bool>& s) -> weft::task<void> {
      try {
        co_await weft::sleep(1h);
      } catch (const weft::cancelled_error&) {
        s = true;
        throw;
      }
    }(saw));
    try {
      co_await e.wait(); // cancelled here
    } catch (const weft::cancelled_error&) {
    }
    bool threw = false;
    try {
      co_await child;
    } catch (const weft::cancelled_error&) {
      threw = true;
    }
    co_await child.done();
    co_return threw;
  }(never, child_saw_cancel));
  while (never.waiting() == 0) {
    std::this_thread::sleep_for(1ms);
  }
  parent.cancel();
  EXPECT_TRUE(rt.block_on([](weft::join_handle<bool>& h) -> weft::task<bool> { co_return co_await h; }(parent)));
  EXPECT_TRUE(child_saw_cancel.load());
}

} // namespace
