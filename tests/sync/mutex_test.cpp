#include <weft/mutex.hpp>

#include <weft/gather.hpp>
#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/spawn.hpp>
#include <weft/yield.hpp>

#include "support.hpp"
#include "sync/sync_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace {

class Mutex : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, Mutex, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(Mutex, ExcludesUnderContention) {
  auto body = []() -> weft::task<int> {
    weft::mutex m;
    int counter = 0; // plain int: the mutex is what makes this safe
    std::atomic<int> inside{0};
    std::atomic<int> max_inside{0};
    std::vector<weft::task<void>> tasks;
    for (int t = 0; t < 32; ++t) {
      tasks.push_back([](weft::mutex& m, int& c, std::atomic<int>& in, std::atomic<int>& mx) -> weft::task<void> {
        for (int i = 0; i < 300; ++i) {
          auto guard = co_await m.scoped_lock();
          const int now = in.fetch_add(1) + 1;
          int seen = mx.load();
          while (now > seen && !mx.compare_exchange_weak(seen, now)) {
          }
          ++c;
          if (i % 7 == 0) {
            co_await weft::yield(); // hold the lock across a suspension
          }
          in.fetch_sub(1);
        }
      }(m, counter, inside, max_inside));
    }
    co_await weft::gather(std::move(tasks));
    EXPECT_EQ(max_inside.load(), 1);
    EXPECT_FALSE(m.is_locked());
    co_return counter;
  };
  EXPECT_EQ(weft::run(body(), options()), 32 * 300);
}

TEST_P(Mutex, GrantsTheLockInArrivalOrder) {
  auto body = []() -> weft::task<std::vector<int>> {
    weft::mutex m;
    co_await m.lock();
    std::vector<int> order;
    std::vector<weft::join_handle<void>> waiters;
    for (int i = 0; i < 8; ++i) {
      waiters.push_back(weft::spawn([](weft::mutex& m, std::vector<int>& order, int i) -> weft::task<void> {
        co_await m.lock();
        order.push_back(i); // under the lock
        m.unlock();
      }(m, order, i)));
      co_await weft::test::eventually([&m, i] { return m.waiting() == static_cast<std::size_t>(i + 1); });
    }
    m.unlock();
    for (auto& w : waiters) {
      co_await w;
    }
    co_return order;
  };
  EXPECT_EQ(weft::run(body(), options()), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_P(Mutex, CancelledWaiterLeavesTheQueueWithoutLosingTheHandOver) {
  auto body = []() -> weft::task<bool> {
    weft::mutex m;
    co_await m.lock();
    auto locker = [](weft::mutex& m) -> weft::task<void> {
      co_await m.lock();
      m.unlock();
    };
    auto first = weft::spawn(locker(m));
    co_await weft::test::eventually([&m] { return m.waiting() == 1; });
    auto second = weft::spawn(locker(m));
    co_await weft::test::eventually([&m] { return m.waiting() == 2; });
    EXPECT_TRUE(first.cancel());
    bool first_cancelled = false;
    try {
      co_await first;
    } catch (const weft::cancelled_error&) {
      first_cancelled = true;
    }
    EXPECT_EQ(m.waiting(), 1u);
    m.unlock(); // must reach the second waiter
    co_await second;
    co_return first_cancelled && !m.is_locked();
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Mutex, TryLockAndGuard) {
  auto body = []() -> weft::task<bool> {
    weft::mutex m;
    EXPECT_TRUE(m.try_lock());
    EXPECT_FALSE(m.try_lock());
    m.unlock();
    {
      auto guard = co_await m.scoped_lock();
      EXPECT_TRUE(guard.owns_lock());
      EXPECT_TRUE(m.is_locked());
    }
    co_return !m.is_locked();
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST(MutexMisuse, UnlockingAnUnlockedMutexThrows) {
  weft::mutex m;
  EXPECT_THROW(m.unlock(), weft::usage_error);
}

} // namespace
