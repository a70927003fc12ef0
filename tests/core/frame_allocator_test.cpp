#include <weft/detail/frame_allocator.hpp>
#include <weft/gather.hpp>
#include <weft/run.hpp>
#include <weft/spawn.hpp>
#include <weft/task.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using weft::detail::allocate_frame;
using weft::detail::deallocate_frame;

TEST(FrameAllocator, ReusesFreedBlockOfSameClass) {
  void* a = allocate_frame(100);
  std::memset(a, 0xab, 100);
  deallocate_frame(a, 100);
  void* b = allocate_frame(120); // same 64-byte class (65..128)
#if !WEFT_ASAN
  EXPECT_EQ(a, b);
#endif
  deallocate_frame(b, 120);
}

// Out of line, so that no compiler elides the frame's allocation.
[[gnu::noinline]] weft::task<int> small_task(int v) { co_return v + 1; }

// A task with an int argument and no locals: its frame (resume and destroy pointers, the
// promise, the argument) fits the 128-byte class. Guards the size of the promise, which
// every task pays for: a field more and such frames take 192 bytes (a third more).
TEST(FrameAllocator, ASmallTasksFrameTakesA128ByteBlock) {
  void* block = allocate_frame(128);
  deallocate_frame(block, 128);
  weft::task<int> t = small_task(1);
#if !WEFT_ASAN
  EXPECT_EQ(t.handle().address(), block) << "a small task's frame no longer fits 128 bytes";
#endif
}

[[gnu::noinline]] weft::task<int> failing_small_task(int v) {
  if (v >= 0) {
    throw std::runtime_error("failing_small_task");
  }
  co_return v;
}
[[gnu::noinline]] weft::task<std::size_t> takes_string(std::string s) { co_return s.size(); }

// A finished task's frame is freed without an entry into its coroutine (destroy()) when
// the parameters' copies in it need no destructor; its promise says how.
TEST(FrameAllocator, OnlyTasksWhoseParametersNeedNoDestructorAreFreedDirectly) {
  weft::task<int> plain = small_task(1);
  weft::task<std::size_t> with_string = takes_string("a string long enough to live on the heap");
#if !WEFT_DIRECT_FRAME_FREE
  EXPECT_EQ(plain.handle().promise().direct_free_class(), 0) << "this compiler's frames go through destroy()";
#elif WEFT_ASAN
  EXPECT_EQ(plain.handle().promise().direct_free_class(), weft::detail::promise_base::k_direct_free_from_heap);
#else
  EXPECT_EQ(plain.handle().promise().direct_free_class(), 2) << "class 1 (65 to 128 bytes), plus one";
#endif
  EXPECT_EQ(with_string.handle().promise().direct_free_class(), 0);
}

// Every way a finished frame is freed puts its block back on the list of the thread that
// frees it, where the next frame of its class reuses it.
weft::task<int> count_reused_blocks() {
  int reused = 0;
  auto note_reuse_of = [&reused](void* frame) {
    void* next = allocate_frame(128);
    reused += next == frame ? 1 : 0;
    deallocate_frame(next, 128);
  };
  { // awaited
    weft::task<int> t = small_task(1);
    void* frame = t.handle().address();
    const int result = co_await std::move(t);
    EXPECT_EQ(result, 2);
    note_reuse_of(frame);
  }
  { // spawned, then joined
    weft::task<int> t = small_task(2);
    void* frame = t.handle().address();
    const int result = co_await weft::spawn(std::move(t));
    EXPECT_EQ(result, 3);
    note_reuse_of(frame);
  }
  { // failed
    weft::task<int> t = failing_small_task(1);
    void* frame = t.handle().address();
    bool threw = false;
    try {
      co_await std::move(t);
    } catch (const std::runtime_error&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    note_reuse_of(frame);
  }
  { // gathered
    std::vector<weft::task<int>> children;
    children.push_back(small_task(3));
    void* frame = children[0].handle().address();
    const std::vector<int> results = co_await weft::gather(std::move(children));
    EXPECT_EQ(results, std::vector<int>{4});
    note_reuse_of(frame);
  }
  co_return reused;
}

TEST(FrameAllocator, EveryWayAFinishedFrameIsFreedReturnsItsBlock) {
  const int reused = weft::run(count_reused_blocks(), {.workers = 1});
#if !WEFT_ASAN
  EXPECT_EQ(reused, 4);
#else
  (void)reused; // ASan builds take every frame from ::operator new: no reuse to see
#endif
}

TEST(FrameAllocator, BlocksAreAlignedAndUsable) {
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t n = 1; n < 5000; n += 37) {
    void* p = allocate_frame(n);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u);
    std::memset(p, 0x5a, n);
    blocks.emplace_back(p, n);
  }
  for (auto [p, n] : blocks) {
    deallocate_frame(p, n);
  }
}

TEST(FrameAllocator, FreeOnAnotherThreadIsSafe) {
  std::vector<void*> blocks;
  for (int i = 0; i < 10'000; ++i) {
    blocks.push_back(allocate_frame(200));
  }
  std::thread other([&] {
    for (void* p : blocks) {
      deallocate_frame(p, 200);
    }
  });
  other.join(); // the other thread's cache is emptied at its exit (checked by asan's leak check)
}

// One thread frees blocks (its full list moves batches to the depot) while another
// allocates (its empty list takes batches from it): run under TSan, this checks the
// hand-over; the blocks must all be distinct and writable.
TEST(FrameAllocator, BatchesMoveBetweenThreadsThroughTheDepot) {
  constexpr int k_blocks = 20'000;
  std::vector<void*> made;
  for (int i = 0; i < k_blocks; ++i) {
    made.push_back(allocate_frame(300));
  }
  std::vector<void*> taken;
  std::thread freer([&] {
    for (void* p : made) {
      deallocate_frame(p, 300);
    }
  });
  std::thread taker([&] {
    for (int i = 0; i < k_blocks; ++i) {
      void* p = allocate_frame(300);
      std::memset(p, 0x3c, 300);
      taken.push_back(p);
    }
    std::sort(taken.begin(), taken.end());
    EXPECT_EQ(std::adjacent_find(taken.begin(), taken.end()), taken.end()) << "a block was handed out twice";
    for (void* p : taken) {
      deallocate_frame(p, 300);
    }
  });
  freer.join();
  taker.join();
}

} // namespace
