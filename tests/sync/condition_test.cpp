#include <weft/condition.hpp>

#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/spawn.hpp>

#include "support.hpp"
#include "sync/sync_support.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace {

class Condition : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, Condition, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(Condition, ProducerAndConsumersHandOverEveryItem) {
  auto body = []() -> weft::task<long> {
    weft::condition cond;
    std::deque<int> items; // guarded by cond.mutex()
    bool finished = false;
    long sum = 0;
    std::vector<weft::join_handle<void>> consumers;
    for (int c = 0; c < 4; ++c) {
      consumers.push_back(weft::spawn(
          [](weft::condition& cv, std::deque<int>& q, bool& fin, long& total) -> weft::task<void> {
            for (;;) {
              auto guard = co_await cv.mutex().scoped_lock();
              co_await cv.wait_until([&] { return !q.empty() || fin; });
              if (q.empty()) {
                co_return;
              }
              total += q.front();
              q.pop_front();
            }
          }(cond, items, finished, sum)));
    }
    for (int i = 1; i <= 1000; ++i) {
      auto guard = co_await cond.mutex().scoped_lock();
      items.push_back(i);
      cond.notify();
    }
    {
      auto guard = co_await cond.mutex().scoped_lock();
      finished = true;
      cond.notify_all();
    }
    for (auto& c : consumers) {
      co_await c;
    }
    co_return sum;
  };
  EXPECT_EQ(weft::run(body(), options()), 1000L * 1001 / 2);
}

TEST_P(Condition, CancelledWaitReacquiresTheMutexBeforeThrowing) {
  auto body = []() -> weft::task<bool> {
    weft::mutex m;
    weft::condition cond(m);
    bool held_in_handler = false;
    auto h = weft::spawn([](weft::condition& cv, bool& held) -> weft::task<void> {
      auto guard = co_await cv.mutex().scoped_lock();
      try {
        co_await cv.wait();
      } catch (const weft::cancelled_error&) {
        held = cv.mutex().is_locked();
        throw;
      }
    }(cond, held_in_handler));
    co_await weft::test::eventually([&cond] { return cond.waiting() == 1; });
    h.cancel();
    EXPECT_THROW(co_await h, weft::cancelled_error);
    co_return held_in_handler && !m.is_locked();
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Condition, NotifyWithoutTheMutexThrows) {
  auto body = []() -> weft::task<bool> {
    weft::condition cond;
    EXPECT_THROW(cond.notify(), weft::usage_error);
    EXPECT_THROW(co_await cond.wait(), weft::usage_error);
    co_return true;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

} // namespace
