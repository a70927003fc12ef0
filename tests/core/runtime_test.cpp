#include <weft/runtime.hpp>

#include <weft/event.hpp>
#include <weft/run.hpp>
#include <weft/spawn.hpp>
#include <weft/yield.hpp>

#include <weft/detail/config.hpp>

#include "watchdog.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

weft::task<int> one() { co_return 1; }

TEST(Runtime, DefaultsToHardwareConcurrency) {
  weft::runtime rt;
  EXPECT_EQ(rt.worker_count(), std::max(1u, std::thread::hardware_concurrency()));
  weft::runtime three({.workers = 3});
  EXPECT_EQ(three.worker_count(), 3u);
}

// A negative count converted to unsigned asked for four billion workers: the constructor
// ran for hours creating threads that searched each other's deques. Refused now.
TEST(Runtime, AnAbsurdWorkerCountThrows) {
  const int workers = -1;
  EXPECT_THROW(weft::runtime({.workers = static_cast<unsigned>(workers)}), weft::usage_error);
  EXPECT_THROW(weft::runtime({.workers = weft::runtime_options::max_workers + 1}), weft::usage_error);
  EXPECT_EQ(weft::runtime::current(), nullptr); // nothing left half-made
}

TEST(Runtime, IsCurrentOnTheThreadThatBuiltIt) {
  EXPECT_EQ(weft::runtime::current(), nullptr);
  {
    weft::runtime rt({.workers = 1});
    EXPECT_EQ(weft::runtime::current(), &rt);
    EXPECT_EQ(weft::sync_wait(one()), 1);
    auto h = weft::spawn(one());
    EXPECT_TRUE(h.valid());
    auto on_worker = rt.block_on([]() -> weft::task<bool> {
      co_return weft::runtime::current() != nullptr && weft::this_worker_index().has_value();
    }());
    EXPECT_TRUE(on_worker);
  }
  EXPECT_EQ(weft::runtime::current(), nullptr);
  EXPECT_FALSE(weft::this_worker_index().has_value());
}

TEST(Runtime, SpawnWithoutRuntimeThrows) {
  EXPECT_THROW((void)weft::spawn(one()), weft::no_runtime_error);
  EXPECT_THROW((void)weft::runtime::current_or_throw(), weft::no_runtime_error);
}

TEST(Runtime, SyncWaitWithoutRuntimeRunsOnATemporaryOne) { EXPECT_EQ(weft::sync_wait(one()), 1); }

TEST(Runtime, SpawnAfterShutdownThrows) {
  weft::runtime rt({.workers = 2});
  rt.shutdown();
  EXPECT_TRUE(rt.is_shutting_down());
  try {
    (void)rt.spawn(one());
    FAIL() << "spawn after shutdown did not throw";
  } catch (const weft::shutdown_error& e) {
    EXPECT_NE(std::string(e.what()).find("shut"), std::string::npos);
  }
  EXPECT_THROW(rt.block_on(one()), weft::shutdown_error);
  rt.shutdown(); // idempotent
}

TEST(Runtime, BlockingCallsOnAWorkerThrow) {
  weft::runtime rt({.workers = 1});
  auto body = [](weft::runtime& r) -> weft::task<int> {
    int thrown = 0;
    try {
      (void)weft::sync_wait(one());
    } catch (const weft::blocking_call_error&) {
      ++thrown;
    }
    try {
      r.shutdown();
    } catch (const weft::blocking_call_error&) {
      ++thrown;
    }
    try {
      (void)weft::run(one());
    } catch (const weft::blocking_call_error&) {
      ++thrown;
    }
    co_return thrown;
  };
  EXPECT_EQ(rt.block_on(body(rt)), 3);
}

// Workers take outside submissions in batches onto their own deques. A batch must stay
// within reach of the other workers: here one submitted task holds its worker until every
// other submission has run, so whatever that worker took with it must be stolen.
TEST(Runtime, OutsideSubmissionsTakenByABusyWorkerAreStolen) {
  constexpr int k_small = 2000;
  std::atomic<int> ran{0};
  std::atomic<int> seen_by_holder{0};
  {
    weft::runtime rt({.workers = 2});
    auto holder = [](std::atomic<int>& r, std::atomic<int>& seen) -> weft::task<void> {
      const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (r.load(std::memory_order_acquire) < k_small && std::chrono::steady_clock::now() < limit) {
        std::this_thread::yield(); // blocks its worker on purpose
      }
      seen.store(r.load(std::memory_order_acquire));
      co_return;
    };
    auto small = [](std::atomic<int>& r) -> weft::task<void> {
      r.fetch_add(1, std::memory_order_release);
      co_return;
    };
    for (int round = 0; round < 5; ++round) {
      ran.store(0);
      seen_by_holder.store(0);
      auto h = rt.spawn(holder(ran, seen_by_holder));
      for (int i = 0; i < k_small; ++i) {
        rt.spawn(small(ran)).detach();
      }
      rt.block_on([](weft::join_handle<void> hh) -> weft::task<void> { co_await hh; }(std::move(h)));
      ASSERT_EQ(seen_by_holder.load(), k_small) << "round " << round << ": only these small tasks ran in 30 s "
                                                   "while one worker was held";
    }
  }
}

// Many outside threads submitting at once: every task runs exactly once (the queue is
// taken in batches under a spin lock; the submitters contend on it with the workers).
TEST(Runtime, ConcurrentOutsideSubmittersLoseNothing) {
  constexpr int k_threads = 4;
  constexpr int k_each = (WEFT_TSAN || WEFT_ASAN) ? 5'000 : 50'000;
  std::vector<std::atomic<std::uint8_t>> ran(static_cast<std::size_t>(k_threads) * k_each);
  std::atomic<int> finished{0};
  {
    weft::runtime rt({.workers = 2});
    std::vector<std::thread> submitters;
    for (int t = 0; t < k_threads; ++t) {
      submitters.emplace_back([&, t] {
        for (int i = 0; i < k_each; ++i) {
          rt.spawn([](std::atomic<std::uint8_t>& slot, std::atomic<int>& f) -> weft::task<void> {
            slot.fetch_add(1, std::memory_order_relaxed);
            f.fetch_add(1, std::memory_order_release);
            co_return;
          }(ran[static_cast<std::size_t>(t) * k_each + static_cast<std::size_t>(i)], finished)).detach();
        }
      });
    }
    for (auto& s : submitters) {
      s.join();
    }
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (finished.load(std::memory_order_acquire) < k_threads * k_each && std::chrono::steady_clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(finished.load(), k_threads * k_each) << "submitted tasks never ran: a lost wake-up or item";
  }
  for (auto& r : ran) {
    ASSERT_EQ(r.load(), 1);
  }
}

TEST(Runtime, ShutdownWithPendingWorkUnwindsIt) {
  std::atomic<int> unwound{0};
  weft::runtime rt({.workers = 2});
  for (int i = 0; i < 1000; ++i) {
    rt.spawn([](std::atomic<int>& u) -> weft::task<void> {
      struct on_exit {
        std::atomic<int>& n;
        ~on_exit() { n.fetch_add(1); }
      } guard{u};
      for (;;) {
        co_await weft::yield();
      }
    }(unwound)).detach();
  }
  rt.shutdown();
  EXPECT_EQ(unwound.load(), 1000);
}

} // namespace

#if !WEFT_TSAN // death tests fork a process with threads, which TSan reports
namespace {

TEST(RuntimeDeathTest, TerminateHookEndsTheProcessOnAFailedDetachedTask) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::runtime_options o{.workers = 1};
        o.on_unhandled_exception = &weft::terminate_on_unhandled_exception;
        weft::runtime rt(std::move(o));
        rt.spawn([]() -> weft::task<void> {
          throw std::runtime_error("detached failure");
          co_return;
        }()).detach();
        std::this_thread::sleep_for(std::chrono::seconds(10));
      },
      "detached failure");
}

} // namespace
#endif

#if !WEFT_TSAN // death tests fork a process with threads, which TSan reports
namespace {

// A test that hangs is ended by the watchdog with a dump that shows where it is stuck.
TEST(RuntimeDeathTest, WatchdogEndsAHungTestWithADumpOfItsRuntime) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        weft::runtime rt({.workers = 2});
        weft::test::watchdog guard(std::chrono::milliseconds(300), "deliberately hung test");
        weft::event never;
        // Blocks for ever: the task waits on an event nobody sets.
        rt.block_on([](weft::event& e) -> weft::task<void> { co_await e.wait(); }(never));
      },
      ::testing::ExitedWithCode(weft::test::k_watchdog_exit_code),
      // An idle worker wakes every 50 ms to look for work, and under CPU load its search
      // takes long enough that the dump may catch it "searching for work" instead of parked.
      "weft watchdog: deliberately hung test did not finish within 300 ms(.|\n)*2 workers(.|\n)*"
      "worker 1: (parked|searching for work)"
      "(.|\n)*1 x weft::event::wait, task run by block_on .*runtime_test.cpp");
}

} // namespace
#endif
