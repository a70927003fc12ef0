#include <weft/detail/split_deque.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace {

using deque = weft::detail::split_deque<std::uintptr_t>;

TEST(SplitDeque, PopTakesNewestItem) {
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

TEST(SplitDeque, StealTakesOldestSharedItem) {
  deque d(4);
  for (std::uintptr_t i = 1; i <= 3; ++i) {
    d.push(i);
  }
  // The first push found nothing shared and shared its item; 2 and 3 are private.
  EXPECT_EQ(d.shared_approx(), 1);
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 1u);
  ASSERT_TRUE(d.pop(v));
  EXPECT_EQ(v, 3u);
  ASSERT_TRUE(d.pop(v));
  EXPECT_EQ(v, 2u);
  EXPECT_FALSE(d.pop(v));
  EXPECT_FALSE(d.steal(v));
}

TEST(SplitDeque, PushOntoAnEmptySharedPartSharesTheOlderHalf) {
  deque d(64);
  d.push(1); // nothing shared yet: shares it
  ASSERT_EQ(d.shared_approx(), 1);
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 1u);
  // Nothing shared again: a batch of 5 shares its older 3 (half, rounded up).
  d.push_n(5, [](std::int64_t i) { return static_cast<std::uintptr_t>(2 + i); });
  EXPECT_EQ(d.shared_approx(), 3);
  EXPECT_EQ(d.size_approx(), 5);
  for (std::uintptr_t want = 2; want <= 4; ++want) {
    ASSERT_TRUE(d.steal(v));
    EXPECT_EQ(v, want);
  }
  // Shared part empty again, 5 and 6 private: the next push shares 5 and 6 (half of 3,
  // rounded up) and keeps 7.
  d.push(7);
  EXPECT_EQ(d.shared_approx(), 2);
  ASSERT_TRUE(d.pop(v));
  EXPECT_EQ(v, 7u);
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 5u);
  ASSERT_TRUE(d.pop(v)); // the last shared item, taken back by the owner
  EXPECT_EQ(v, 6u);
  EXPECT_FALSE(d.pop(v));
  EXPECT_FALSE(d.steal(v));
}

TEST(SplitDeque, AThiefThatFindsNothingSharedIsAnsweredAtTheOwnersNextPop) {
  deque d(64);
  for (std::uintptr_t i = 1; i <= 9; ++i) {
    d.push(i); // 1 shared, 2..9 private
  }
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 1u);
  EXPECT_FALSE(d.steal(v)); // 8 items, none shared: asks the owner to share
  EXPECT_FALSE(d.steal(v)); // not answered yet
  ASSERT_TRUE(d.pop(v));    // answers: shares the older half, keeps its item private
  EXPECT_EQ(v, 9u);
  EXPECT_EQ(d.shared_approx(), 4);
  for (std::uintptr_t want = 2; want <= 5; ++want) {
    ASSERT_TRUE(d.steal(v));
    EXPECT_EQ(v, want);
  }
  EXPECT_FALSE(d.steal(v)); // asks again
  EXPECT_TRUE(d.pop_if_newest(8)); // answers too: 6 shared, 7 private
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 6u);
  EXPECT_FALSE(d.steal(v)); // asks; one private item is not split on a pop...
  ASSERT_TRUE(d.pop(v));
  EXPECT_EQ(v, 7u);
  d.push(10); // ...nor is anything left to share: 10 is shared by the push
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 10u);
  EXPECT_EQ(d.size_approx(), 0);
}

TEST(SplitDeque, AThiefThatFindsNothingSharedIsAnsweredAtTheOwnersNextPush) {
  deque d(64);
  d.push(1);
  d.push(2);
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 1u);
  EXPECT_FALSE(d.steal(v)); // 2 is private: asks
  d.push(3);                // answers: 2 shared, 3 private
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 2u);
  EXPECT_TRUE(d.pop_if_newest(3));
  EXPECT_FALSE(d.steal(v));
  EXPECT_FALSE(d.pop(v));
}

TEST(SplitDeque, ARequestStaysRaisedUntilAPushOrPopCanAnswerIt) {
  deque d(64);
  d.push(1);
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 1u);
  EXPECT_FALSE(d.steal(v)); // the owner holds nothing: asks all the same
  d.push(2);                // onto an empty shared part: shared; the request stays raised
  EXPECT_EQ(d.shared_approx(), 1);
  d.push(3); // the pending request is answered: 3 is shared too (half of one, rounded up)
  EXPECT_EQ(d.shared_approx(), 2);
  d.push(4); // answered, so lowered: 4 stays private
  EXPECT_EQ(d.shared_approx(), 2);
  EXPECT_EQ(d.size_approx(), 3);
  for (std::uintptr_t want = 2; want <= 3; ++want) {
    ASSERT_TRUE(d.steal(v));
    EXPECT_EQ(v, want);
  }
  ASSERT_TRUE(d.pop(v));
  EXPECT_EQ(v, 4u);
  EXPECT_FALSE(d.pop(v));
}

TEST(SplitDeque, PushNKeepsOrderAcrossGrowthAndBesideSingleItems) {
  constexpr auto k_private = deque::k_default_private;
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
  // All but the newest k_default_private are shared.
  EXPECT_EQ(d.shared_approx(), 1'002 - k_private);
  const auto first_private = static_cast<std::uintptr_t>(1'004 - k_private);
  for (std::uintptr_t want = 2; want < first_private; ++want) {
    ASSERT_TRUE(d.steal(v));
    ASSERT_EQ(v, want);
  }
  EXPECT_FALSE(d.steal(v)); // the rest is private: asks
  ASSERT_TRUE(d.pop(v));    // answers with the older half of the rest
  EXPECT_EQ(v, 1'003u);
  const auto answered = static_cast<std::uintptr_t>(k_private / 2);
  EXPECT_EQ(d.shared_approx(), static_cast<std::int64_t>(answered));
  for (std::uintptr_t want = first_private; want < first_private + answered; ++want) {
    ASSERT_TRUE(d.steal(v));
    ASSERT_EQ(v, want);
  }
  for (std::uintptr_t want = 1'002; want >= first_private + answered; --want) {
    ASSERT_TRUE(d.pop(v));
    ASSERT_EQ(v, want);
  }
  EXPECT_FALSE(d.pop(v));
  EXPECT_FALSE(d.steal(v));
}

TEST(SplitDeque, APrivateLimitOfZeroSharesEveryPush) {
  deque d(64);
  d.set_private_limit(0);
  std::uintptr_t v = 0;
  for (std::uintptr_t i = 1; i <= 5; ++i) {
    d.push(i);
    ASSERT_EQ(d.shared_approx(), static_cast<std::int64_t>(i));
  }
  d.push_n(3, [](std::int64_t i) { return static_cast<std::uintptr_t>(6 + i); });
  EXPECT_EQ(d.shared_approx(), 8);
  ASSERT_TRUE(d.pop(v)); // a shared take-back
  EXPECT_EQ(v, 8u);
  EXPECT_TRUE(d.pop_if_newest(7));
  for (std::uintptr_t want = 1; want <= 6; ++want) {
    ASSERT_TRUE(d.steal(v));
    EXPECT_EQ(v, want);
  }
  EXPECT_FALSE(d.pop(v));
}

TEST(SplitDeque, PushNSharedSharesEverything) {
  deque d(64);
  d.push(1);
  d.push(2); // private
  EXPECT_EQ(d.shared_approx(), 1);
  d.push_n_shared(3, [](std::int64_t i) { return static_cast<std::uintptr_t>(3 + i); });
  EXPECT_EQ(d.shared_approx(), 5);
  std::uintptr_t v = 0;
  for (std::uintptr_t want = 1; want <= 5; ++want) {
    ASSERT_TRUE(d.steal(v));
    EXPECT_EQ(v, want);
  }
  EXPECT_FALSE(d.pop(v));
}

TEST(SplitDeque, GrowsAndKeepsOrder) {
  deque d(2);
  for (std::uintptr_t i = 1; i <= 10'000; ++i) {
    d.push(i);
  }
  EXPECT_EQ(d.size_approx(), 10'000);
  EXPECT_EQ(d.shared_approx(), 10'000 - deque::k_default_private);
  std::uintptr_t v = 0;
  ASSERT_TRUE(d.steal(v));
  EXPECT_EQ(v, 1u);
  for (std::uintptr_t i = 10'000; i >= 2; --i) {
    ASSERT_TRUE(d.pop(v));
    ASSERT_EQ(v, i);
  }
  EXPECT_FALSE(d.pop(v));
}

TEST(SplitDeque, PopIfNewestTakesOnlyTheNewestItem) {
  deque d(4);
  EXPECT_FALSE(d.pop_if_newest(5)); // empty
  d.push(5); // shared
  d.push(6); // private
  EXPECT_FALSE(d.pop_if_newest(5)); // 5 is not the newest
  EXPECT_EQ(d.size_approx(), 2);
  EXPECT_TRUE(d.pop_if_newest(6));
  EXPECT_EQ(d.size_approx(), 1);
  EXPECT_TRUE(d.pop_if_newest(5)); // the last shared item, through the top end
  EXPECT_EQ(d.size_approx(), 0);
  EXPECT_FALSE(d.pop_if_newest(5));
}

// A deque with no thieves (a pool of one worker) claims items with plain stores: it must
// still be an exact LIFO stack across growth, batches and pop_if_newest, which this checks
// against a vector over random operations.
TEST(SplitDeque, WithoutThievesBehavesAsAStack) {
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

TEST(SplitDeque, PopIfNewestLosesAnItemAThiefTook) {
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

TEST(SplitDeque, OwnerAndThievesTakeEveryItemExactlyOnce) {
  // Bounded concurrent check (the long version is in tests/stress): the owner pushes and
  // pops while three thieves steal; every item must be taken exactly once.
  constexpr std::uintptr_t k_items = 200'000;
  constexpr int k_thieves = 3;
  std::mt19937 rng(weft::test::test_seed("SplitDeque.OwnerAndThieves"));
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

namespace {

// The pattern of spawn then join: the owner pushes a burst and takes its items back newest
// first with pop_if_newest while thieves steal the shared ones and ask for more. A take-back
// fails only for an item a thief took, and then every older item of the burst is gone too
// (thieves take the oldest first), so the owner stops there. Every item is taken once.
TEST(SplitDeque, TakeBacksRacingThievesTakeEveryItemExactlyOnce) {
  constexpr std::uintptr_t k_items = 200'000;
  constexpr int k_thieves = 2;
  std::mt19937 rng(weft::test::test_seed("SplitDeque.TakeBacksRacingThieves"));
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
    });
  }
  std::uintptr_t next = 1;
  std::uint64_t lost_races = 0;
  while (next <= k_items) {
    const auto n = static_cast<std::uintptr_t>(std::min<std::uintptr_t>(1 + rng() % 12, k_items + 1 - next));
    const std::uintptr_t first = next;
    for (std::uintptr_t i = 0; i < n; ++i) {
      d.push(next++);
    }
    for (std::uintptr_t item = first + n - 1; item >= first; --item) {
      if (!d.pop_if_newest(item)) {
        ++lost_races;
        break;
      }
      taken[item].fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::uintptr_t v = 0;
  EXPECT_FALSE(d.pop(v)); // every burst ended empty
  done.store(true, std::memory_order_release);
  for (auto& t : thieves) {
    t.join();
  }
  for (std::uintptr_t i = 1; i <= k_items; ++i) {
    ASSERT_EQ(taken[i].load(), 1) << "item " << i;
  }
  std::printf("[ stats    ] %lu bursts ended by a thief\n", static_cast<unsigned long>(lost_races));
}

} // namespace
