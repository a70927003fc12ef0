#include <weft/sleep.hpp>

#include <weft/errors.hpp>
#include <weft/run.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/yield.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

class Sleep : public weft::test::with_workers {};

INSTANTIATE_TEST_SUITE_P(Workers, Sleep, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(Sleep, NeverReturnsEarly) {
  auto body = []() -> weft::task<int> {
    int early = 0;
    for (int i = 0; i < 50; ++i) {
      const auto d = std::chrono::microseconds(100 * (i % 7));
      const auto deadline = clock_type::now() + d;
      co_await weft::sleep(d);
      if (clock_type::now() < deadline) {
        ++early;
      }
    }
    co_return early;
  };
  EXPECT_EQ(weft::run(body(), options()), 0);
}

// A sleep is awaited once. A second await used to arm a second timer over the first (which
// leaked) and never woke; now it throws. Likewise for sleep(0), which only yields.
TEST_P(Sleep, AwaitingASleepTwiceThrows) {
  auto body = []() -> weft::task<void> {
    auto s = weft::sleep(1ms);
    co_await s;
    co_await s;
  };
  EXPECT_THROW(weft::run(body(), options()), weft::usage_error);
  auto yield_twice = []() -> weft::task<void> {
    auto s = weft::sleep(0ms);
    co_await s;
    co_await s;
  };
  EXPECT_THROW(weft::run(yield_twice(), options()), weft::usage_error);
}

TEST_P(Sleep, SleepUntilNeverReturnsEarly) {
  auto body = []() -> weft::task<bool> {
    const auto deadline = clock_type::now() + 3ms;
    co_await weft::sleep_until(deadline);
    co_return clock_type::now() >= deadline;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Sleep, DoesNotBlockTheWorker) {
  // With one worker, a task that sleeps must leave the worker free: the other task
  // finishes its many yields while the sleeper is still asleep.
  auto body = []() -> weft::task<bool> {
    std::atomic<bool> sleeper_done{false};
    auto sleeper = weft::spawn([](std::atomic<bool>& d) -> weft::task<void> {
      co_await weft::sleep(200ms);
      d.store(true);
    }(sleeper_done));
    auto busy = weft::spawn([](std::atomic<bool>& d) -> weft::task<bool> {
      for (int i = 0; i < 100; ++i) {
        co_await weft::yield();
      }
      co_return !d.load();
    }(sleeper_done));
    const bool finished_first = co_await busy;
    co_await sleeper;
    co_return finished_first;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Sleep, FiresWhileEveryWorkerIsBusy) {
  // Workers run the reactor themselves. With every worker kept busy by tasks that yield
  // (so none goes idle to wait in the reactor), the busy ones must still poll it: the
  // sleeper wakes and stops the spinners long before their cap of 20 s.
  auto body = [](unsigned workers) -> weft::task<bool> {
    std::atomic<bool> woke{false};
    std::vector<weft::join_handle<bool>> spinners;
    for (unsigned i = 0; i < workers; ++i) {
      spinners.push_back(weft::spawn([](std::atomic<bool>& w) -> weft::task<bool> {
        const auto cap = clock_type::now() + 20s;
        while (!w.load() && clock_type::now() < cap) {
          co_await weft::yield();
        }
        co_return w.load();
      }(woke)));
    }
    co_await weft::sleep(1ms);
    woke.store(true);
    bool all = true;
    for (auto& h : spinners) {
      all = co_await h && all;
    }
    co_return all;
  };
  EXPECT_TRUE(weft::run(body(GetParam()), options()));
}

TEST_P(Sleep, FiresWhileAnotherWorkerComputes) {
  // A task computing without suspending holds one worker; the sleeper's timer is run by
  // another (the idle worker waiting in the reactor) and ends the computation.
  if (GetParam() < 2) {
    GTEST_SKIP() << "needs a second worker";
  }
  auto body = []() -> weft::task<bool> {
    std::atomic<bool> woke{false};
    auto computer = weft::spawn([](std::atomic<bool>& w) -> weft::task<bool> {
      const auto cap = clock_type::now() + 20s;
      while (!w.load() && clock_type::now() < cap) {
        std::this_thread::yield(); // computing: never suspends
      }
      co_return w.load();
    }(woke));
    co_await weft::sleep(1ms);
    woke.store(true);
    co_return co_await computer;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Sleep, ZeroAndNegativeDurationsYield) {
  auto body = []() -> weft::task<int> {
    co_await weft::sleep(0ms);
    co_await weft::sleep(-5s);
    co_await weft::sleep_until(clock_type::now() - 1h);
    co_return 3;
  };
  EXPECT_EQ(weft::run(body(), options()), 3);
}

// asyncio.sleep(0) is Python's "let the others run": so is weft::sleep(0) (it yields,
// without arming a timer). On one worker a task spawned before it runs before it resumes.
TEST(SleepOneWorker, ZeroSleepLetsAReadyTaskRunFirst) {
  auto body = []() -> weft::task<bool> {
    std::atomic<bool> other_ran{false};
    auto other = weft::spawn([](std::atomic<bool>& r) -> weft::task<void> {
      r.store(true);
      co_return;
    }(other_ran));
    co_await weft::sleep(0ms);
    const bool ran_first = other_ran.load();
    co_await other;
    co_return ran_first;
  };
  EXPECT_TRUE(weft::run(body(), {.workers = 1}));
}

// Timers that expire while the only worker is busy all complete in one reactor run; as in
// asyncio, their tasks resume in deadline order. (Pushed one by one onto the LIFO deque,
// they used to resume last deadline first: 5 4 3 2 1.)
TEST(SleepOneWorker, TimersThatExpireTogetherResumeInDeadlineOrder) {
  auto body = []() -> weft::task<std::vector<int>> {
    std::vector<int> order; // only this one worker touches it
    std::vector<weft::join_handle<void>> hs;
    // Deadlines fixed up front, so that when each sleeper arms its timer does not matter.
    const auto start = std::chrono::steady_clock::now();
    for (int i = 1; i <= 5; ++i) {
      hs.push_back(weft::spawn([](std::vector<int>& o, int id, auto deadline) -> weft::task<void> {
        co_await weft::sleep_until(deadline);
        o.push_back(id);
      }(order, i, start + 25ms + std::chrono::milliseconds(i))));
    }
    co_await weft::yield(); // the sleepers run up to their sleeps first
    // Hold the worker until every deadline has passed. The deadlines leave 25 ms for the
    // sleepers to arm their timers: under TSan on a loaded CI machine, 1-2 ms were not
    // enough once, and a deadline already passed when sleep_until runs takes the yield
    // path instead of a timer, in the (LIFO) order the sleepers started.
    std::this_thread::sleep_until(start + 60ms);
    for (auto& h : hs) {
      co_await h;
    }
    co_return order;
  };
  EXPECT_EQ(weft::run(body(), {.workers = 1}), (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST_P(Sleep, HugeDurationDoesNotOverflow) {
  weft::runtime rt(options());
  std::atomic<bool> cancelled{false};
  rt.spawn([](std::atomic<bool>& c) -> weft::task<void> {
    try {
      co_await weft::sleep(std::chrono::hours::max());
    } catch (const weft::cancelled_error&) {
      c.store(true);
    }
  }(cancelled)).detach();
  rt.shutdown(); // must not wait for the sleep
  EXPECT_TRUE(cancelled.load());
}

TEST_P(Sleep, ShutdownCancelsSleepingTasksAndRunsDestructors) {
  std::atomic<int> destroyed{0};
  struct guard {
    std::atomic<int>* n;
    ~guard() { n->fetch_add(1); }
  };
  {
    weft::runtime rt(options());
    for (int i = 0; i < 100; ++i) {
      rt.spawn([](std::atomic<int>& d) -> weft::task<void> {
        guard g{&d};
        co_await weft::sleep(1h);
      }(destroyed)).detach();
    }
    auto keep = rt.spawn([](std::atomic<int>& d) -> weft::task<void> {
      guard g{&d};
      for (;;) {
        co_await weft::yield();
      }
    }(destroyed));
    // The runtime's destructor shuts down: both kinds of pending task must unwind.
  }
  EXPECT_EQ(destroyed.load(), 101);
}

} // namespace
