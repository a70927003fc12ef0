// Fault injection: a coroutine frame that cannot be allocated surfaces as std::bad_alloc
// where the task is made (in the awaiting task), and the runtime goes on working.
#include <weft/task.hpp>

#include <weft/gather.hpp>
#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/spawn.hpp>
#include <weft/yield.hpp>

#include "alloc/alloc_hooks.hpp"

#include <gtest/gtest.h>

#include <array>
#include <new>
#include <vector>

namespace {

using weft::test::g_fail_at_least;

// An index the optimizer cannot see through, so the array below must live in the frame
// (clang otherwise folds big[100] to a constant and the frame shrinks to a few words).
volatile std::size_t g_slot = 100;

// Its frame holds an 8 KiB array across a suspension: too big for the frame caches, so it
// comes from operator new, which the test makes fail. Not inlined: clang would otherwise
// place an awaited task's frame inside its awaiter's (coroutine allocation elision).
[[gnu::noinline]] weft::task<int> big_frame_task() {
  std::array<char, 8192> big{};
  big[g_slot] = 1;
  co_await weft::yield();
  co_return big[g_slot] + 41;
}

weft::task<int> small(int v) { co_return v; }

TEST(FrameAllocationFailure, SurfacesToTheAwaiterAndTheRuntimeGoesOn) {
  auto body = []() -> weft::task<bool> {
    g_fail_at_least.store(8192);
    bool awaited_failed = false;
    try {
      (void)co_await big_frame_task();
    } catch (const std::bad_alloc&) {
      awaited_failed = true;
    }
    bool spawn_failed = false;
    try {
      auto h = weft::spawn(big_frame_task());
      (void)co_await h;
    } catch (const std::bad_alloc&) {
      spawn_failed = true;
    }
    g_fail_at_least.store(0);
    const int again = co_await big_frame_task(); // memory is back: it works
    std::vector<weft::task<int>> ts;
    for (int i = 0; i < 100; ++i) {
      ts.push_back(small(i));
    }
    int sum = 0;
    for (int v : co_await weft::gather(std::move(ts))) {
      sum += v;
    }
    co_return awaited_failed && spawn_failed && again == 42 && sum == 4950;
  };
  EXPECT_TRUE(weft::run(body(), {.workers = 2}));
}

} // namespace
