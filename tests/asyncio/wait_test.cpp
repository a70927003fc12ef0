#include <weft/wait.hpp>

#include <weft/as_completed.hpp>
#include <weft/run.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

class Wait : public weft::test::with_workers {};

INSTANTIATE_TEST_SUITE_P(Workers, Wait, weft::test::worker_counts(), weft::test::workers_name);

weft::task<int> after(std::chrono::milliseconds d, int v) {
  co_await weft::sleep(d);
  co_return v;
}

weft::task<int> fail_after(std::chrono::milliseconds d) {
  co_await weft::sleep(d);
  throw std::runtime_error("failed");
}

TEST_P(Wait, FirstCompletedReturnsAsSoonAsOneFinishes) {
  auto body = []() -> weft::task<std::string> {
    std::vector<weft::join_handle<int>> hs;
    hs.push_back(weft::spawn(after(300ms, 1)));
    hs.push_back(weft::spawn(after(1ms, 2)));
    auto [done, pending] = co_await weft::wait(std::move(hs), weft::return_when::first_completed);
    std::string r = std::to_string(done.size()) + "/" + std::to_string(pending.size());
    r += ":" + std::to_string(co_await done[0]);
    // The pending one keeps running and can be waited on again.
    auto [done2, pending2] = co_await weft::wait(std::move(pending));
    r += "," + std::to_string(done2.size()) + "/" + std::to_string(pending2.size());
    r += ":" + std::to_string(co_await done2[0]);
    co_return r;
  };
  EXPECT_EQ(weft::run(body(), options()), "1/1:2,1/0:1");
}

TEST_P(Wait, FirstExceptionStopsAtTheFailure) {
  auto body = []() -> weft::task<std::string> {
    std::vector<weft::join_handle<int>> hs;
    // The gaps leave room for a slow machine: timers due in the same reactor poll resume
    // their tasks in either order.
    hs.push_back(weft::spawn(after(600ms, 1)));
    hs.push_back(weft::spawn(fail_after(100ms)));
    hs.push_back(weft::spawn(after(1ms, 3)));
    auto [done, pending] = co_await weft::wait(std::move(hs), weft::return_when::first_exception);
    std::string r = std::to_string(done.size()) + "/" + std::to_string(pending.size());
    for (auto& h : pending) {
      h.cancel();
    }
    co_return r;
  };
  EXPECT_EQ(weft::run(body(), options()), "2/1");
}

TEST_P(Wait, AllCompletedWaitsForEveryTask) {
  auto body = []() -> weft::task<std::size_t> {
    std::vector<weft::join_handle<int>> hs;
    for (int i = 0; i < 20; ++i) {
      hs.push_back(weft::spawn(after(std::chrono::milliseconds(i % 4), i)));
    }
    auto r = co_await weft::wait(std::move(hs), weft::return_when::all_completed);
    co_return r.done.size() * 100 + r.pending.size();
  };
  EXPECT_EQ(weft::run(body(), options()), 2000u);
}

TEST_P(Wait, TimeoutReturnsPendingWorkThatLaterCompletes) {
  auto body = []() -> weft::task<std::string> {
    std::vector<weft::join_handle<int>> hs;
    hs.push_back(weft::spawn(after(50ms, 7)));
    auto [done, pending] = co_await weft::wait(std::move(hs), weft::return_when::all_completed, 1ms);
    std::string r = std::to_string(done.size()) + "/" + std::to_string(pending.size());
    r += ":" + std::to_string(co_await pending[0]);
    co_return r;
  };
  EXPECT_EQ(weft::run(body(), options()), "0/1:7");
}

TEST_P(Wait, ZeroOrNegativeTimeoutMeansAlreadyExpired) {
  auto body = []() -> weft::task<std::size_t> {
    std::vector<weft::join_handle<int>> hs;
    hs.push_back(weft::spawn(after(1h, 1)));
    auto r1 = co_await weft::wait(std::move(hs), weft::return_when::first_completed, 0s);
    auto r2 = co_await weft::wait(std::move(r1.pending), weft::return_when::first_completed, -5s);
    const std::size_t n = r2.pending.size();
    r2.pending[0].cancel();
    co_return n;
  };
  EXPECT_EQ(weft::run(body(), options()), 1u);
}

TEST_P(Wait, EmptySetThrowsInvalidArgument) {
  auto body = []() -> weft::task<void> { (void)co_await weft::wait(std::vector<weft::join_handle<int>>{}); };
  EXPECT_THROW(weft::run(body(), options()), std::invalid_argument);
}

TEST_P(Wait, LoopThatAddsTasksAsOthersFinish) {
  // The asyncio pattern: wait FIRST_COMPLETED, handle what is done, add new tasks.
  auto body = []() -> weft::task<int> {
    std::vector<weft::join_handle<int>> pending;
    int next = 0, finished = 0, sum = 0;
    for (; next < 4; ++next) {
      pending.push_back(weft::spawn(after(std::chrono::milliseconds(next % 3), next)));
    }
    while (!pending.empty()) {
      auto r = co_await weft::wait(std::move(pending), weft::return_when::first_completed);
      for (auto& h : r.done) {
        sum += co_await h;
        ++finished;
        if (next < 20) {
          r.pending.push_back(weft::spawn(after(std::chrono::milliseconds(next % 3), next)));
          ++next;
        }
      }
      pending = std::move(r.pending);
    }
    co_return finished * 1000 + sum;
  };
  EXPECT_EQ(weft::run(body(), options()), 20 * 1000 + 190);
}

TEST_P(Wait, AsCompletedYieldsInFinishOrder) {
  auto body = []() -> weft::task<std::vector<int>> {
    std::vector<weft::join_handle<int>> hs;
    hs.push_back(weft::spawn(after(60ms, 3)));
    hs.push_back(weft::spawn(after(1ms, 1)));
    hs.push_back(weft::spawn(after(30ms, 2)));
    std::vector<int> order;
    for (auto next : weft::as_completed(std::move(hs))) {
      order.push_back(co_await next);
    }
    co_return order;
  };
  EXPECT_EQ(weft::run(body(), options()), (std::vector<int>{1, 2, 3}));
}

TEST_P(Wait, AsCompletedRethrowsATasksException) {
  auto body = []() -> weft::task<std::string> {
    std::vector<weft::join_handle<int>> hs;
    hs.push_back(weft::spawn(fail_after(1ms)));
    hs.push_back(weft::spawn(after(20ms, 5)));
    std::string r;
    for (auto next : weft::as_completed(std::move(hs))) {
      try {
        r += std::to_string(co_await next);
      } catch (const std::runtime_error& e) {
        r += e.what();
      }
    }
    co_return r;
  };
  EXPECT_EQ(weft::run(body(), options()), "failed5");
}

TEST_P(Wait, AsCompletedTimeoutThrowsOnTheNextAwait) {
  auto body = []() -> weft::task<std::string> {
    std::vector<weft::join_handle<int>> hs;
    hs.push_back(weft::spawn(after(1ms, 1)));
    hs.push_back(weft::spawn(after(1h, 2)));
    std::string r;
    auto range = weft::as_completed(std::move(hs), 100ms);
    for (auto next : range) {
      try {
        r += std::to_string(co_await next);
      } catch (const weft::timeout_error&) {
        r += "T";
        break;
      }
    }
    co_return r;
  };
  EXPECT_EQ(weft::run(body(), options()), "1T");
}

TEST_P(Wait, AsCompletedOverManyHandles) {
  auto body = []() -> weft::task<long> {
    std::vector<weft::join_handle<int>> hs;
    for (int i = 0; i < 10'000; ++i) {
      hs.push_back(weft::spawn([](int v) -> weft::task<int> { co_return v; }(i)));
    }
    long sum = 0;
    for (auto next : weft::as_completed(std::move(hs))) {
      sum += co_await next;
    }
    co_return sum;
  };
  EXPECT_EQ(weft::run(body(), options()), 10'000L * 9'999 / 2);
}

} // namespace
