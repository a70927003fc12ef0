#include <weft/detail/chase_lev_deque.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace {

using deque = weft::detail::chase_lev_deque<std::uintptr_t>;

TEST(ChaseLevDeque, PopTakesNewestItem) {
  deque d(4);
  for (std::uintptr_t i = 1; i <= 3; ++i) {
    d.push(i);
  }
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.pop(v));
  EXPECT_EQ(v, 3u);
  ASSERT_TRUE(d.pop(v));
  EXPECT_EQ(v, 2u);
}

TEST(ChaseLevDeque, StealTakesOldestItem) {
  deque d(4);
  for (std::uintptr_t i = 1; i <= 3; ++i) {
    d.push(i);
  }
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 1u);
  ASSERT_TRUE(d.pop(v));
  EXPECT_EQ(v, 3u);
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 2u);
  EXPECT_FALSE(d.pop(v));
  EXPECT_FALSE(d.steal(v));
}

TEST(ChaseLevDeque, PushNKeepsOrderAcrossGrowthAndBesideSingleItems) {
  deque d(2);
  d.push(1);
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.steal(v)); // top moves: the batch must fit around a non-zero top
  EXPECT_EQ(v, 1u);
  d.push(2);
  d.push_n(1'000, [](std::int64_t i) { return static_cast<std::uintptr_t>(3 + i); }); // 3..1002, grows
  d.push_n(0, [](std::int64_t) -> std::uintptr_t { return 0; });                     // nothing
  d.push(1'003);
  EXPECT_EQ(d.size_approx(), 1'002);
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 2u);
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 3u);
  for (std::uintptr_t want = 1'003; want >= 4; --want) {
    ASSERT_TRUE(d.pop(v));
    ASSERT_EQ(v, want);
  }
  EXPECT_FALSE(d.pop(v));
  EXPECT_FALSE(d.steal(v));
}

TEST(ChaseLevDeque, GrowsAndKeepsOrder) {
  deque d(2);
  for (std::uintptr_t i = 1; i <= 10'000; ++i) {
    d.push(i);
  }
  EXPECT_EQ(d.size_approx(), 10'000);
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 1u);
  for (std::uintptr_t i = 10'000; i >= 2; --i) {
    ASSERT_TRUE(d.pop(v));
    ASSERT_EQ(v, i);
  }
  EXPECT_FALSE(d.pop(v));
}

TEST(ChaseLevDeque, PopIfNewestTakesOnlyTheNewestItem) {
  deque d(4);
  EXPECT_FALSE(d.pop_if_newest(5)); // empty
  d.push(5);
  d.push(6);
  EXPECT_FALSE(d.pop_if_newest(5)); // 5 is not the newest
  EXPECT_EQ(d.size_approx(), 2);
  EXPECT_TRUE(d.pop_if_newest(6));
  EXPECT_EQ(d.size_approx(), 1);
  EXPECT_TRUE(d.pop_if_newest(5)); // the last item, through the top end
  EXPECT_EQ(d.size_approx(), 0);
  EXPECT_FALSE(d.pop_if_newest(5));
}

// A deque with no thieves (a pool of one worker) claims items with plain stores: it must
// still be an exact LIFO stack across growth, batches and pop_if_newest, which this checks
// against a vector over random operations.
TEST(ChaseLevDeque, WithoutThievesBehavesAsAStack) {
  deque d(2);
  d.declare_no_thieves();
  std::vector<std::uintptr_t> model;
  std::mt19937 rng(12345);
  std::uintptr_t next = 1;
  for (int op = 0; op < 100'000; ++op) {
    std::uintptr_t v = 0;
    switch (rng() % 4) {
    case 0:
      d.push(next);
      model.push_back(next++);
      break;
    case 1: {
      const auto n = static_cast<std::int64_t>(rng() % 5);
      d.push_n(n, [&](std::int64_t i) { return next + static_cast<std::uintptr_t>(i); });
      for (std::int64_t i = 0; i < n; ++i) {
        model.push_back(next++);
      }
      break;
    }
    case 2:
      ASSERT_EQ(d.pop(v), !model.empty());
      if (!model.empty()) {
        ASSERT_EQ(v, model.back());
        model.pop_back();
      }
      break;
    default: {
      // Alternately the newest item and one that is not.
      const std::uintptr_t want = model.empty() ? 0 : (op % 2 == 0 ? model.back() : model.back() + 1);
      const bool expect = !model.empty() && want == model.back();
      ASSERT_EQ(d.pop_if_newest(want), expect);
      if (expect) {
        model.pop_back();
      }
      break;
    }
    }
    ASSERT_EQ(d.size_approx(), static_cast<std::int64_t>(model.size()));
  }
  std::uintptr_t v = 0;
  while (!model.empty()) {
    ASSERT_TRUE(d.pop(v));
    ASSERT_EQ(v, model.back());
    model.pop_back();
  }
  EXPECT_FALSE(d.pop(v));
}

TEST(ChaseLevDeque, PopIfNewestLosesAnItemAThiefTook) {
  deque d(4);
  d.push(7);
  std::uintptr_t v = 0;
  std::thread thief([&] { EXPECT_TRUE(d.steal(v)); });
  thief.join();
  EXPECT_EQ(v, 7u);
  EXPECT_FALSE(d.pop_if_newest(7)); // the slot still holds 7, but it was stolen
  d.push(8);
  d.push(9);
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 8u);
  EXPECT_TRUE(d.pop_if_newest(9));
  EXPECT_FALSE(d.pop(v));
}

TEST(ChaseLevDeque, OwnerAndThievesTakeEveryItemExactlyOnce) {
  // Bounded concurrent check (the long version is in tests/stress): the owner pushes and
  // pops while three thieves steal; every item must be taken exactly once.
  constexpr std::uintptr_t k_items = 200'000;
  constexpr int k_thieves = 3;
  std::mt19937 rng(weft::test::test_seed("ChaseLevDeque.OwnerAndThieves"));
  deque d(8);
  std::vector<std::atomic<int>> taken(k_items + 1);
  std::atomic<bool> done{false};
  std::vector<std::thread> thieves;
  for (int t = 0; t < k_thieves; ++t) {
    thieves.emplace_back([&] {
      std::uintptr_t v = 0;
      while (!done.load(std::memory_order_acquire)) {
        if (d.steal(v)) {
          taken[v].fetch_add(1, std::memory_order_relaxed);
        }
      }
      while (d.steal(v)) {
        taken[v].fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::uintptr_t next = 1;
  std::uintptr_t v = 0;
  while (next <= k_items) {
    weft::test::push_burst(d, rng, next, k_items, static_cast<unsigned>(rng() % 16));
    const unsigned pops = rng() % 16;
    for (unsigned i = 0; i < pops; ++i) {
      if (d.pop(v)) {
        taken[v].fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  while (d.pop(v)) {
    taken[v].fetch_add(1, std::memory_order_relaxed);
  }
  done.store(true, std::memory_order_release);
  for (auto& t : thieves) {
    t.join();
  }
  for (std::uintptr_t i = 1; i <= k_items; ++i) {
    ASSERT_EQ(taken[i].load(), 1) << "item " << i;
  }
}

} // namespace
