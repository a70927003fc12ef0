#include <weft/future.hpp>

#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/runtime.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>

#include "support.hpp"
#include "sync/sync_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

class Future : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, Future, weft::test::worker_counts(), weft::test::workers_name);

weft::task<int> await_value(weft::future<int> f) { co_return co_await f; }

TEST_P(Future, AValueSetFirstIsReturnedAtOnce) {
  auto body = []() -> weft::task<int> {
    weft::future<int> f;
    EXPECT_FALSE(f.done());
    f.set_result(42);
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.result(), 42);
    EXPECT_EQ(f.exception(), nullptr);
    co_return co_await f + co_await f; // every await gives the value again
  };
  EXPECT_EQ(weft::run(body(), options()), 84);
}

TEST_P(Future, SetFromAnOutsideThreadWakesEveryAwaiter) {
  auto body = []() -> weft::task<int> {
    weft::future<std::string> f;
    std::vector<weft::join_handle<std::size_t>> hs;
    for (int i = 0; i < 8; ++i) {
      hs.push_back(weft::spawn([](weft::future<std::string> g) -> weft::task<std::size_t> {
        const std::string s = co_await g;
        co_return s.size();
      }(f)));
    }
    co_await weft::test::eventually([&f] { return f.waiting() == 8; });
    std::thread setter([f]() mutable { f.set_result(std::string(1000, 'x')); });
    int sum = 0;
    for (auto& h : hs) {
      sum += static_cast<int>(co_await h);
    }
    setter.join();
    co_return sum;
  };
  EXPECT_EQ(weft::run(body(), options()), 8000);
}

TEST_P(Future, AnExceptionReachesEveryAwaiter) {
  auto body = []() -> weft::task<int> {
    weft::future<void> f;
    auto waiter = [](weft::future<void> g) -> weft::task<int> {
      try {
        co_await g;
      } catch (const std::runtime_error& e) {
        co_return std::string(e.what()) == "boom" ? 1 : 0;
      }
      co_return 0;
    };
    auto a = weft::spawn(waiter(f));
    auto b = weft::spawn(waiter(f));
    co_await weft::test::eventually([&f] { return f.waiting() == 2; });
    f.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    int caught = co_await a + co_await b;
    EXPECT_NE(f.exception(), nullptr);
    EXPECT_THROW(f.result(), std::runtime_error);
    co_return caught;
  };
  EXPECT_EQ(weft::run(body(), options()), 2);
}

TEST_P(Future, CancelWakesAwaitersWithCancelledError) {
  auto body = []() -> weft::task<int> {
    weft::future<int> f;
    auto h = weft::spawn(await_value(f));
    co_await weft::test::eventually([&f] { return f.waiting() == 1; });
    EXPECT_TRUE(f.cancel());
    EXPECT_FALSE(f.cancel()); // finished already
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(f.result(), weft::cancelled_error);
    EXPECT_THROW((void)f.exception(), weft::cancelled_error);
    try {
      (void)co_await h;
    } catch (const weft::cancelled_error&) {
      co_return 1;
    }
    co_return 0;
  };
  EXPECT_EQ(weft::run(body(), options()), 1);
}

TEST_P(Future, CancellingAnAwaitingTaskCancelsTheFuture) {
  // asyncio: Task.cancel() cancels the future the task awaits; the other awaiter sees it.
  auto body = []() -> weft::task<std::string> {
    weft::future<int> f;
    auto a = weft::spawn(await_value(f));
    auto b = weft::spawn(await_value(f));
    co_await weft::test::eventually([&f] { return f.waiting() == 2; });
    a.cancel();
    std::string r;
    for (auto* h : {&a, &b}) {
      try {
        (void)co_await *h;
        r += "value ";
      } catch (const weft::cancelled_error&) {
        r += "cancelled ";
      }
    }
    r += f.cancelled() ? "future-cancelled" : "future-pending";
    r += f.try_set_result(1) ? " set" : " not-set";
    co_return r;
  };
  EXPECT_EQ(weft::run(body(), options()), "cancelled cancelled future-cancelled not-set");
}

TEST_P(Future, BadUseGetsClearErrors) {
  auto body = []() -> weft::task<bool> {
    weft::future<int> f;
    EXPECT_THROW(f.result(), weft::invalid_state_error);
    EXPECT_THROW((void)f.exception(), weft::invalid_state_error);
    EXPECT_THROW(f.set_exception(nullptr), std::invalid_argument);
    EXPECT_FALSE(f.done()); // the null exception changed nothing
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), weft::invalid_state_error);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))), weft::invalid_state_error);
    EXPECT_FALSE(f.try_set_result(3));
    EXPECT_FALSE(f.cancel());
    EXPECT_EQ(f.result(), 1); // the first value stays
    weft::future<int> cancelled;
    EXPECT_TRUE(cancelled.cancel());
    EXPECT_THROW(cancelled.set_result(1), weft::invalid_state_error);
    weft::future<void> v;
    v.set_result();
    EXPECT_THROW(v.set_result(), weft::invalid_state_error);
    EXPECT_FALSE(v.try_set_result());
    co_await v; // done: returns at once
    weft::future<std::string> s;
    s.set_result("built from a const char*");
    EXPECT_EQ(co_await s, "built from a const char*");
    co_return co_await f == 1;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

// Setters on other threads race awaiters that are registering: every awaiter of every
// round gets the round's value exactly once (TSan run), whichever comes first.
TEST_P(Future, SetRacingAwaitersStress) {
  auto body = []() -> weft::task<long> {
    long sum = 0;
    for (int round = 0; round < 300; ++round) {
      weft::future<int> f;
      std::vector<weft::join_handle<int>> hs;
      for (int i = 0; i < 4; ++i) {
        hs.push_back(weft::spawn(await_value(f)));
      }
      std::thread setter([f, round]() mutable { f.set_result(round); });
      for (auto& h : hs) {
        sum += co_await h;
      }
      setter.join();
    }
    co_return sum;
  };
  EXPECT_EQ(weft::run(body(), options()), 4L * (299L * 300L / 2));
}

// A task still waiting at shutdown is cancelled (so is the future); nothing leaks (ASan).
TEST(FutureShutdown, AWaiterLeftAtShutdownUnwinds) {
  auto outcome = std::make_shared<std::atomic<int>>(0);
  weft::future<int> f;
  {
    weft::runtime rt(weft::runtime_options{.workers = 2});
    rt.spawn([](weft::future<int> g, std::shared_ptr<std::atomic<int>> out) -> weft::task<void> {
        try {
          (void)co_await g;
          out->store(1);
        } catch (const weft::cancelled_error&) {
          out->store(2);
        }
      }(f, outcome)).detach();
    const auto cap = std::chrono::steady_clock::now() + 10s;
    while (f.waiting() == 0 && std::chrono::steady_clock::now() < cap) {
      std::this_thread::sleep_for(1ms);
    }
  } // shutdown
  EXPECT_EQ(outcome->load(), 2);
  EXPECT_TRUE(f.cancelled());
}

} // namespace
