#include <weft/semaphore.hpp>

#include <weft/gather.hpp>
#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>

#include "support.hpp"
#include "sync/sync_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

namespace {

using namespace std::chrono_literals;

class Semaphore : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, Semaphore, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(Semaphore, NeverAdmitsMoreThanItsValue) {
  auto body = []() -> weft::task<int> {
    weft::semaphore sem(3);
    std::atomic<int> inside{0};
    std::atomic<int> max_inside{0};
    std::vector<weft::task<void>> tasks;
    for (int t = 0; t < 40; ++t) {
      tasks.push_back([](weft::semaphore& s, std::atomic<int>& in, std::atomic<int>& mx) -> weft::task<void> {
        auto unit = co_await s.scoped_acquire();
        const int now = in.fetch_add(1) + 1;
        int seen = mx.load();
        while (now > seen && !mx.compare_exchange_weak(seen, now)) {
        }
        co_await weft::sleep(100us);
        in.fetch_sub(1);
      }(sem, inside, max_inside));
    }
    co_await weft::gather(std::move(tasks));
    EXPECT_EQ(sem.value(), 3u);
    co_return max_inside.load();
  };
  const int max_inside = weft::run(body(), options());
  EXPECT_GE(max_inside, 1);
  EXPECT_LE(max_inside, 3);
}

TEST_P(Semaphore, CancelledWaiterTakesNoUnit) {
  auto body = []() -> weft::task<std::size_t> {
    weft::semaphore sem(1);
    co_await sem.acquire();
    auto waiter = weft::spawn([](weft::semaphore& s) -> weft::task<void> { co_await s.acquire(); }(sem));
    co_await weft::test::eventually([&sem] { return sem.waiting() == 1; });
    waiter.cancel();
    EXPECT_THROW(co_await waiter, weft::cancelled_error);
    sem.release();
    co_return sem.value();
  };
  EXPECT_EQ(weft::run(body(), options()), 1u);
}

TEST_P(Semaphore, ReleaseHandsUnitsToWaitersInOrder) {
  auto body = []() -> weft::task<std::vector<int>> {
    weft::semaphore sem(0);
    std::vector<int> order; // written by one waiter at a time (see below)
    std::atomic<int> recorded{0};
    std::vector<weft::join_handle<void>> hs;
    for (int i = 0; i < 5; ++i) {
      hs.push_back(weft::spawn([](weft::semaphore& s, std::vector<int>& o, std::atomic<int>& rec, int i) -> weft::task<void> {
        co_await s.acquire();
        o.push_back(i);
        rec.fetch_add(1, std::memory_order_release);
      }(sem, order, recorded, i)));
      co_await weft::test::eventually([&sem, i] { return sem.waiting() == static_cast<std::size_t>(i + 1); });
    }
    for (int i = 0; i < 5; ++i) {
      sem.release(); // one at a time: the next waiter only after the previous recorded
      co_await weft::test::eventually([&recorded, i] { return recorded.load(std::memory_order_acquire) == i + 1; });
    }
    for (auto& h : hs) {
      co_await h;
    }
    co_return order;
  };
  EXPECT_EQ(weft::run(body(), options()), (std::vector<int>{0, 1, 2, 3, 4}));
}

// asyncio raises ValueError for a negative initial value; converted to size_t it was
// taken as a bounded_semaphore with 2^64 - 1 units.
TEST(SemaphoreMisuse, ANegativeInitialValueThrows) {
  const int initial = -1;
  EXPECT_THROW(weft::semaphore(static_cast<std::size_t>(initial)), weft::usage_error);
  EXPECT_THROW(weft::bounded_semaphore(static_cast<std::size_t>(initial)), weft::usage_error);
  EXPECT_NO_THROW(weft::bounded_semaphore largest(weft::semaphore::max_value()));
}

TEST(SemaphoreMisuse, BoundedSemaphoreRefusesOverRelease) {
  weft::bounded_semaphore sem(2);
  EXPECT_TRUE(sem.try_acquire());
  sem.release();
  EXPECT_THROW(sem.release(), weft::usage_error);
  EXPECT_EQ(sem.value(), 2u);
  weft::semaphore unbounded(0);
  unbounded.release(5);
  EXPECT_EQ(unbounded.value(), 5u);
}

} // namespace
