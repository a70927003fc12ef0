// The frame allocator's chunks (runtime/frame_allocator.cpp) go back to the heap once all
// their blocks are back, whichever threads allocated and freed them: counted through the
// aligned operator new and delete that alloc_hooks.cpp replaces.
#include <weft/detail/frame_allocator.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "alloc/alloc_hooks.hpp"

namespace {

using weft::detail::allocate_frame;
using weft::detail::deallocate_frame;
using weft::test::g_aligned_live;

constexpr std::size_t k_frame_bytes = 200; // the 256-byte class: 255 blocks per chunk
constexpr int k_frames = 200'000;          // ~50 MB, about 800 chunks

// Blocks made on one thread and freed on another, both threads gone: what stays is the
// pool of empty chunks (64) and the chunks holding the depot's blocks (at most 4 MiB and
// a batch, 72 chunks, plus those at the batches' ends); the rest went back to the heap.
TEST(FrameChunks, GoBackWhenTheirBlocksAreFreedOnAnotherThread) {
  const long before = g_aligned_live.load();
  std::vector<void*> blocks;
  long peak = 0;
  std::thread maker([&] {
    for (int i = 0; i < k_frames; ++i) {
      blocks.push_back(allocate_frame(k_frame_bytes));
    }
    peak = g_aligned_live.load() - before;
  });
  maker.join();
  std::thread freer([&] {
    for (void* p : blocks) {
      deallocate_frame(p, k_frame_bytes);
    }
  });
  freer.join();
#if !WEFT_ASAN // ASan builds bypass the caches and chunks
  EXPECT_GE(peak, k_frames / 255);
#endif
  EXPECT_LE(g_aligned_live.load() - before, 64 + 72 + 10) << "chunks were kept after all their blocks came back";
}

// A steady flow of frames made on one thread and freed on another, with one frame in 100
// kept alive (as a server's connection tasks outlive its request tasks): the freed
// frames must be reused. Before the depot, the freeing thread's surplus went back to the
// chunks, which the long-lived frames pinned, and the making thread carved a new chunk for
// every 255 frames, for ever.
TEST(FrameChunks, FramesFreedOnAnotherThreadAreReusedUnderChurn) {
#if WEFT_ASAN
  GTEST_SKIP() << "ASan builds bypass the caches and chunks";
#else
  constexpr int k_rounds = 400;
  constexpr int k_per_round = 1000; // 400,000 frames, 100 MB if none were reused
  std::vector<void*> kept;
  std::vector<void*> handed;
  std::mutex lock;
  std::condition_variable changed;
  bool full = false;
  bool done = false;
  std::thread freer([&] {
    std::unique_lock guard(lock);
    for (;;) {
      changed.wait(guard, [&] { return full || done; });
      if (!full) {
        return;
      }
      for (void* p : handed) {
        deallocate_frame(p, k_frame_bytes);
      }
      handed.clear();
      full = false;
      changed.notify_all();
    }
  });
  const long before = g_aligned_live.load();
  std::thread maker([&] {
    for (int r = 0; r < k_rounds; ++r) {
      std::vector<void*> made;
      for (int i = 0; i < k_per_round; ++i) {
        void* p = allocate_frame(k_frame_bytes);
        (i % 100 == 0 ? kept : made).push_back(p);
      }
      std::unique_lock guard(lock);
      changed.wait(guard, [&] { return !full; });
      handed = std::move(made);
      full = true;
      changed.notify_all();
    }
  });
  maker.join();
  {
    std::unique_lock guard(lock);
    changed.wait(guard, [&] { return !full; });
  }
  const long grown = g_aligned_live.load() - before;
  {
    std::lock_guard guard(lock);
    done = true;
  }
  changed.notify_all();
  freer.join();
  for (void* p : kept) {
    deallocate_frame(p, k_frame_bytes);
  }
  // 4,000 kept frames need 16 chunks; the caches and the depot hold a few dozen more.
  EXPECT_LE(grown, 200) << "chunks carved for frames that were freed and not reused";
#endif
}

// Every cached block starts on a cache line, so two frames never share one.
TEST(FrameChunks, BlocksStartOnACacheLine) {
#if WEFT_ASAN
  GTEST_SKIP() << "ASan builds bypass the caches and chunks";
#else
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t n = 1; n <= 32 * weft::detail::k_frame_granule; n += 29) {
    for (int i = 0; i < 3; ++i) {
      void* p = allocate_frame(n);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u) << n << " bytes";
      blocks.emplace_back(p, n);
    }
  }
  for (auto [p, n] : blocks) {
    deallocate_frame(p, n);
  }
#endif
}

} // namespace
