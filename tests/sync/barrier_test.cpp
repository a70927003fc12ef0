#include <weft/barrier.hpp>

#include <weft/gather.hpp>
#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/spawn.hpp>

#include "support.hpp"
#include "sync/sync_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace {

class Barrier : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, Barrier, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(Barrier, ReleasesEachRoundTogetherWithDistinctIndexes) {
  auto body = []() -> weft::task<bool> {
    constexpr int parties = 5;
    constexpr int rounds = 20;
    weft::barrier b(parties);
    std::atomic<int> arrived{0};
    std::vector<weft::task<std::vector<std::size_t>>> tasks;
    for (int p = 0; p < parties; ++p) {
      tasks.push_back([](weft::barrier& b, std::atomic<int>& arrived) -> weft::task<std::vector<std::size_t>> {
        std::vector<std::size_t> indexes;
        for (int r = 0; r < rounds; ++r) {
          arrived.fetch_add(1);
          indexes.push_back(co_await b.wait());
          // Everyone of this round has arrived before anyone passes.
          EXPECT_GE(arrived.load(), (r + 1) * parties);
        }
        co_return indexes;
      }(b, arrived));
    }
    auto all = co_await weft::gather(std::move(tasks));
    for (int r = 0; r < rounds; ++r) {
      std::vector<std::size_t> round;
      for (auto& per_task : all) {
        round.push_back(per_task[static_cast<std::size_t>(r)]);
      }
      std::sort(round.begin(), round.end());
      for (std::size_t i = 0; i < round.size(); ++i) {
        EXPECT_EQ(round[i], i);
      }
    }
    co_return b.n_waiting() == 0;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Barrier, AbortBreaksWaitersAndLaterArrivals) {
  auto body = []() -> weft::task<bool> {
    weft::barrier b(3);
    auto h = weft::spawn([](weft::barrier& b) -> weft::task<void> { (void)co_await b.wait(); }(b));
    co_await weft::test::eventually([&b] { return b.n_waiting() == 1; });
    b.abort();
    EXPECT_THROW(co_await h, weft::broken_barrier_error);
    EXPECT_THROW((void)co_await b.wait(), weft::broken_barrier_error);
    b.reset();
    co_return !b.broken();
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Barrier, CancelledWaiterNoLongerCounts) {
  auto body = []() -> weft::task<bool> {
    weft::barrier b(2);
    auto leaver = weft::spawn([](weft::barrier& b) -> weft::task<void> { (void)co_await b.wait(); }(b));
    co_await weft::test::eventually([&b] { return b.n_waiting() == 1; });
    leaver.cancel();
    EXPECT_THROW(co_await leaver, weft::cancelled_error);
    EXPECT_EQ(b.n_waiting(), 0u);
    auto other = weft::spawn([](weft::barrier& b) -> weft::task<std::size_t> { co_return co_await b.wait(); }(b));
    const std::size_t mine = co_await b.wait();
    const std::size_t theirs = co_await other;
    co_return mine + theirs == 1;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST(BarrierMisuse, ZeroPartiesThrows) { EXPECT_THROW(weft::barrier(0), weft::usage_error); }

// A negative count converted to size_t made a barrier that never trips.
TEST(BarrierMisuse, ANegativeCountThrows) {
  const int parties = -2;
  EXPECT_THROW(weft::barrier(static_cast<std::size_t>(parties)), weft::usage_error);
  EXPECT_NO_THROW(weft::barrier largest(weft::barrier::max_parties()));
}

} // namespace
