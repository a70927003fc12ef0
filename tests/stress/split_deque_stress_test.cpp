// The work-stealing deque alone, at length: the owner pushes and pops in random bursts
// while three thieves steal; 5,000,000 items pass (10,000,000 operations: a push and a
// take each; 1,000,000 items under the sanitizers, which run 10-50x slower). Every item
// must be taken exactly once. The seed is printed; WEFT_SEED replays.
#include <weft/detail/split_deque.hpp>

#include <weft/detail/config.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace {

using deque = weft::detail::split_deque<std::uintptr_t>;

constexpr std::uintptr_t k_items = (WEFT_TSAN || WEFT_ASAN) ? 1'000'000 : 5'000'000;

TEST(SplitDequeStress, TenMillionOperationsTakeEveryItemExactlyOnce) {
  constexpr int k_thieves = 3;
  std::mt19937 rng(weft::test::test_seed("SplitDequeStress.TenMillionOperations"));
  deque d(4); // small, so it grows under the thieves
  std::vector<std::atomic<std::uint8_t>> taken(k_items + 1);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> stolen{0};
  std::vector<std::thread> thieves;
  for (int t = 0; t < k_thieves; ++t) {
    thieves.emplace_back([&] {
      std::uintptr_t v = 0;
      std::uint64_t mine = 0;
      auto take = [&] {
        taken[v].fetch_add(1, std::memory_order_relaxed);
        ++mine;
      };
      while (!done.load(std::memory_order_acquire)) {
        if (d.steal(v)) {
          take();
        }
      }
      while (d.steal(v)) {
        take();
      }
      stolen.fetch_add(mine, std::memory_order_relaxed);
    });
  }
  std::uintptr_t next = 1;
  std::uintptr_t v = 0;
  while (next <= k_items) {
    weft::test::push_burst(d, rng, next, k_items, static_cast<unsigned>(rng() % 64));
    const unsigned pops = rng() % 64;
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
  std::uintptr_t wrong = 0;
  for (std::uintptr_t i = 1; i <= k_items; ++i) {
    wrong += taken[i].load(std::memory_order_relaxed) != 1 ? 1 : 0;
  }
  EXPECT_EQ(wrong, 0u) << "items not taken exactly once";
  std::printf("[ stats    ] %lu items, %lu stolen\n", static_cast<unsigned long>(k_items),
              static_cast<unsigned long>(stolen.load()));
}

} // namespace
