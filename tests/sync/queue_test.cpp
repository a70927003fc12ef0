#include <weft/queue.hpp>

#include <weft/gather.hpp>
#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>
#include <weft/yield.hpp>

#include "support.hpp"
#include "sync/sync_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;

class Queue : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, Queue, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(Queue, BoundedQueueKeepsOrderBetweenOneProducerAndOneConsumer) {
  auto body = []() -> weft::task<bool> {
    weft::queue<int> q(2);
    auto producer = weft::spawn([](weft::queue<int>& q) -> weft::task<void> {
      for (int i = 0; i < 5000; ++i) {
        co_await q.put(i);
        EXPECT_LE(q.size(), 2u);
      }
    }(q));
    bool in_order = true;
    for (int i = 0; i < 5000; ++i) {
      in_order = in_order && (co_await q.get() == i);
    }
    co_await producer;
    co_return in_order && q.empty();
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Queue, ManyProducersAndConsumersDeliverEveryItemOnce) {
  auto body = []() -> weft::task<std::vector<int>> {
    weft::queue<int> q(8);
    constexpr int producers = 4;
    constexpr int per_producer = 2000;
    std::vector<weft::task<void>> ps;
    for (int p = 0; p < producers; ++p) {
      ps.push_back([](weft::queue<int>& q, int p) -> weft::task<void> {
        for (int i = 0; i < per_producer; ++i) {
          co_await q.put(p * per_producer + i);
        }
      }(q, p));
    }
    std::vector<weft::task<std::vector<int>>> cs;
    for (int c = 0; c < 3; ++c) {
      cs.push_back([](weft::queue<int>& q) -> weft::task<std::vector<int>> {
        std::vector<int> got;
        for (;;) {
          const int v = co_await q.get();
          if (v < 0) {
            co_return got;
          }
          got.push_back(v);
        }
      }(q));
    }
    auto consumers = weft::spawn(
        [](std::vector<weft::task<std::vector<int>>> cs) -> weft::task<std::vector<std::vector<int>>> {
          co_return co_await weft::gather(std::move(cs));
        }(std::move(cs)));
    co_await weft::gather(std::move(ps));
    for (int c = 0; c < 3; ++c) {
      co_await q.put(-1);
    }
    std::vector<int> all;
    for (auto& got : co_await consumers) {
      all.insert(all.end(), got.begin(), got.end());
    }
    std::sort(all.begin(), all.end());
    co_return all;
  };
  std::vector<int> expected(4 * 2000);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    expected[i] = static_cast<int>(i);
  }
  EXPECT_EQ(weft::run(body(), options()), expected);
}

TEST_P(Queue, TryPutAndTryGetNeverWaitAndKeepAFailedItem) {
  auto body = []() -> weft::task<bool> {
    weft::queue<std::unique_ptr<int>> q(1);
    EXPECT_FALSE(q.try_get().has_value());
    EXPECT_TRUE(q.try_put(std::make_unique<int>(1)));
    auto second = std::make_unique<int>(2);
    EXPECT_FALSE(q.try_put(std::move(second)));
    EXPECT_TRUE(second != nullptr && *second == 2); // untouched on failure
    EXPECT_TRUE(q.full());
    auto got = q.try_get();
    co_return got.has_value() && **got == 1 && q.empty();
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Queue, JoinWaitsForEveryTaskDone) {
  auto body = []() -> weft::task<int> {
    weft::queue<int> q;
    int processed = 0;
    for (int i = 0; i < 10; ++i) {
      co_await q.put(i);
    }
    auto worker = weft::spawn([](weft::queue<int>& q, int& processed) -> weft::task<void> {
      for (int i = 0; i < 10; ++i) {
        (void)co_await q.get();
        co_await weft::sleep(100us);
        ++processed;
        q.task_done();
      }
    }(q, processed));
    co_await q.join();
    const int seen = processed; // join returned only after the 10th task_done
    co_await worker;
    EXPECT_THROW(q.task_done(), weft::usage_error);
    co_return seen;
  };
  EXPECT_EQ(weft::run(body(), options()), 10);
}

TEST_P(Queue, CancelledGetterTakesNoItem) {
  auto body = []() -> weft::task<int> {
    weft::queue<int> q;
    auto getter = weft::spawn([](weft::queue<int>& q) -> weft::task<int> { co_return co_await q.get(); }(q));
    co_await weft::test::eventually([&q] { return q.waiting_getters() == 1; });
    getter.cancel();
    EXPECT_THROW(co_await getter, weft::cancelled_error);
    co_await q.put(42);
    co_return co_await q.get(); // the item is still there
  };
  EXPECT_EQ(weft::run(body(), options()), 42);
}

TEST_P(Queue, CancelledPutterLeavesItsItemOut) {
  auto body = []() -> weft::task<std::vector<int>> {
    weft::queue<int> q(1);
    co_await q.put(1);
    auto putter = weft::spawn([](weft::queue<int>& q) -> weft::task<void> { co_await q.put(2); }(q));
    co_await weft::test::eventually([&q] { return q.waiting_putters() == 1; });
    putter.cancel();
    EXPECT_THROW(co_await putter, weft::cancelled_error);
    std::vector<int> out;
    out.push_back(co_await q.get());
    co_await q.put(3);
    out.push_back(co_await q.get()); // 3, not 2: the cancelled put never happened
    co_return out;
  };
  EXPECT_EQ(weft::run(body(), options()), (std::vector<int>{1, 3}));
}

TEST_P(Queue, LifoQueueGivesTheNewestItemFirst) {
  auto body = []() -> weft::task<std::vector<int>> {
    weft::lifo_queue<int> q;
    for (int i = 1; i <= 4; ++i) {
      co_await q.put(i);
    }
    std::vector<int> out;
    out.push_back(co_await q.get());
    co_await q.put(5);
    while (!q.empty()) {
      out.push_back(co_await q.get());
    }
    co_return out;
  };
  EXPECT_EQ(weft::run(body(), options()), (std::vector<int>{4, 5, 3, 2, 1}));
}

TEST_P(Queue, PriorityQueueGivesTheSmallestItemFirst) {
  auto body = []() -> weft::task<std::vector<int>> {
    weft::priority_queue<int> q;
    std::mt19937 rng(7);
    std::vector<int> in(200);
    std::iota(in.begin(), in.end(), 0);
    std::shuffle(in.begin(), in.end(), rng);
    for (int v : in) {
      co_await q.put(v);
    }
    std::vector<int> out;
    while (auto v = q.try_get()) {
      out.push_back(*v);
    }
    co_return out;
  };
  std::vector<int> want(200);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(weft::run(body(), options()), want);
}

TEST_P(Queue, PriorityQueueTakesACustomOrderAndPairsKeepArrivalOrderAmongEquals) {
  auto body = []() -> weft::task<std::vector<std::pair<int, int>>> {
    // (priority, sequence) as asyncio's documentation suggests; largest priority first.
    weft::priority_queue<std::pair<int, int>, std::greater<>> q;
    int seq = 0;
    for (int p : {1, 3, 2, 3, 1}) {
      co_await q.put({p, -seq++}); // -seq: among equal priorities, the earlier is larger
    }
    std::vector<std::pair<int, int>> out;
    while (!q.empty()) {
      out.push_back(co_await q.get());
    }
    co_return out;
  };
  EXPECT_EQ(weft::run(body(), options()),
            (std::vector<std::pair<int, int>>{{3, -1}, {3, -3}, {2, -2}, {1, 0}, {1, -4}}));
}

// A get from a full bounded queue with a putter waiting takes an item that was in the
// queue, not the putter's (asyncio: the putter puts only after the get freed room).
TEST_P(Queue, BoundedPriorityQueueGetIgnoresTheWaitingPuttersItem) {
  auto body = []() -> weft::task<std::vector<int>> {
    weft::priority_queue<int> q(2);
    co_await q.put(5);
    co_await q.put(7);
    auto putter = weft::spawn([](weft::priority_queue<int>& q) -> weft::task<void> { co_await q.put(1); }(q));
    co_await weft::test::eventually([&q] { return q.waiting_putters() == 1; });
    std::vector<int> out;
    out.push_back(co_await q.get()); // 5: the smallest of {5, 7}
    co_await putter;
    EXPECT_EQ(q.size(), 2u);
    out.push_back(co_await q.get()); // then 1, put in the room the first get freed
    out.push_back(co_await q.get());
    co_return out;
  };
  EXPECT_EQ(weft::run(body(), options()), (std::vector<int>{5, 1, 7}));
}

TEST_P(Queue, BoundedLifoQueueJoinAndCancellationBehaveAsTheFifoQueue) {
  auto body = []() -> weft::task<std::vector<int>> {
    weft::lifo_queue<int> q(1);
    co_await q.put(1);
    auto cancelled = weft::spawn([](weft::lifo_queue<int>& q) -> weft::task<void> { co_await q.put(2); }(q));
    co_await weft::test::eventually([&q] { return q.waiting_putters() == 1; });
    cancelled.cancel();
    EXPECT_THROW(co_await cancelled, weft::cancelled_error);
    auto waiting = weft::spawn([](weft::lifo_queue<int>& q) -> weft::task<void> { co_await q.put(3); }(q));
    co_await weft::test::eventually([&q] { return q.waiting_putters() == 1; });
    std::vector<int> out;
    out.push_back(co_await q.get());
    co_await waiting;
    out.push_back(co_await q.get());
    auto joiner = weft::spawn([](weft::lifo_queue<int>& q) -> weft::task<void> { co_await q.join(); }(q));
    co_await weft::sleep(5ms);
    EXPECT_FALSE(joiner.is_done()); // two items taken, none marked done
    q.task_done();
    q.task_done();
    co_await joiner;
    EXPECT_THROW(q.task_done(), weft::usage_error);
    co_return out;
  };
  EXPECT_EQ(weft::run(body(), options()), (std::vector<int>{1, 3}));
}

// Getters are cancelled at random while items flow: every item whose put() returned is
// received exactly once, by a getter that was not cancelled or by the final drain.
TEST_P(Queue, RandomCancellationsLoseNoItem) {
  const unsigned seed = weft::test::test_seed("Queue.RandomCancellationsLoseNoItem");
  auto body = [](unsigned seed) -> weft::task<bool> {
    std::mt19937 rng(seed);
    weft::queue<int> q(4);
    constexpr int items = 2000;
    std::vector<int> received;
    weft::queue<int> results; // getters report what they got
    std::vector<weft::join_handle<void>> getters;
    auto producer = weft::spawn([](weft::queue<int>& q) -> weft::task<void> {
      for (int i = 0; i < items; ++i) {
        co_await q.put(i);
      }
    }(q));
    for (int round = 0; round < 400; ++round) {
      getters.push_back(weft::spawn([](weft::queue<int>& q, weft::queue<int>& r) -> weft::task<void> {
        for (;;) {
          const int v = co_await q.get();
          co_await r.put(v); // unbounded: never suspends
        }
      }(q, results)));
      if (rng() % 2 == 0) {
        co_await weft::yield();
      }
      auto& victim = getters[rng() % getters.size()];
      victim.cancel();
    }
    co_await producer;
    for (auto& g : getters) {
      g.cancel();
      try {
        co_await g;
      } catch (const weft::cancelled_error&) {
      }
    }
    while (auto v = q.try_get()) {
      received.push_back(*v);
    }
    while (auto v = results.try_get()) {
      received.push_back(*v);
    }
    std::sort(received.begin(), received.end());
    bool ok = received.size() == static_cast<std::size_t>(items);
    for (std::size_t i = 0; ok && i < received.size(); ++i) {
      ok = received[i] == static_cast<int>(i);
    }
    co_return ok;
  };
  EXPECT_TRUE(weft::run(body(seed), options()));
}

} // namespace
