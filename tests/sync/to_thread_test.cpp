#include <weft/to_thread.hpp>

#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>

#include "support.hpp"
#include "sync/sync_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

class ToThread : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, ToThread, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(ToThread, ReturnsTheValueAndRunsOffTheWorkers) {
  auto body = []() -> weft::task<bool> {
    const std::string s = co_await weft::to_thread([](int n) { return std::string(static_cast<std::size_t>(n), 'x'); }, 3);
    const bool off_pool = co_await weft::to_thread([] { return !weft::this_worker_index().has_value(); });
    co_return s == "xxx" && off_pool;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

// The forms docs/asyncio.md ("Compiler caveat") recommends under g++ 12 instead of a
// capturing lambda inside the co_await: arguments and a named callable are each copied
// in and destroyed exactly once (the owner counts come back to where they were).
TEST_P(ToThread, ArgumentsAndNamedCallablesAreOwnedOnce) {
  auto body = []() -> weft::task<long> {
    auto p = std::make_shared<std::string>(100, 'x');
    std::size_t n = co_await weft::to_thread([](std::shared_ptr<std::string> q) { return q->size(); }, p);
    const auto size_of_p = [p] { return p->size(); };
    n += co_await weft::to_thread(size_of_p);
    co_return n == 200 ? p.use_count() : -1;
  };
  EXPECT_EQ(weft::run(body(), options()), 2); // p and the named lambda's copy
}

TEST_P(ToThread, PropagatesTheException) {
  auto body = []() -> weft::task<void> {
    co_await weft::to_thread([] { throw std::runtime_error("boom"); });
  };
  EXPECT_THROW(weft::run(body(), options()), std::runtime_error);
}

// The blocking call waits (really blocking its thread) until a ticker task has run 20
// sleeps. If to_thread blocked a worker, with one worker the ticker could never run and
// the call would give up after 10 s and report false.
TEST_P(ToThread, BlockingCallDoesNotDelayOtherTasks) {
  auto body = []() -> weft::task<bool> {
    std::atomic<bool> ticker_done{false};
    auto ticker = weft::spawn([](std::atomic<bool>& done) -> weft::task<void> {
      for (int i = 0; i < 20; ++i) {
        co_await weft::sleep(1ms);
      }
      done.store(true);
    }(ticker_done));
    const bool saw_ticker = co_await weft::to_thread([&ticker_done] {
      const auto limit = std::chrono::steady_clock::now() + 10s;
      while (!ticker_done.load() && std::chrono::steady_clock::now() < limit) {
        std::this_thread::sleep_for(1ms); // a blocking sleep
      }
      return ticker_done.load();
    });
    co_await ticker;
    co_return saw_ticker;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(ToThread, CancelledBeforeItStartsNeverRuns) {
  auto body = []() -> weft::task<bool> {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> first_started{false};
    std::atomic<bool> second_ran{false};
    // One blocking thread: the second call queues behind the first.
    auto first = weft::spawn(weft::to_thread([released, &first_started] {
      first_started.store(true);
      released.wait();
    }));
    co_await weft::test::eventually([&] { return first_started.load(); });
    auto second = weft::spawn(weft::to_thread([&second_ran] { second_ran.store(true); }));
    co_await weft::sleep(2ms);
    second.cancel();
    bool cancelled = false;
    try {
      co_await second;
    } catch (const weft::cancelled_error&) {
      cancelled = true;
    }
    release.set_value();
    co_await first;
    co_return cancelled && !second_ran.load();
  };
  auto opts = options();
  opts.max_blocking_threads = 1;
  EXPECT_TRUE(weft::run(body(), opts));
}

TEST(ToThreadShutdown, QueuedCallsAreCancelledAndRunningOnesFinish) {
  std::atomic<int> ran{0};
  {
    weft::runtime rt({.workers = 2, .max_blocking_threads = 1});
    for (int i = 0; i < 5; ++i) {
      weft::spawn(weft::to_thread([&ran] {
        std::this_thread::sleep_for(20ms);
        ran.fetch_add(1);
      })).detach();
    }
    std::this_thread::sleep_for(5ms);
  } // shutdown: the running call finishes, the queued ones never start
  EXPECT_GE(ran.load(), 0);
  EXPECT_LE(ran.load(), 2);
}

} // namespace
