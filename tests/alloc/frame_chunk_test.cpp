// The frame allocator's chunks (runtime/frame_allocator.cpp) go back to the heap once all
// their blocks are back, whichever threads allocated and freed them: counted through the
// aligned operator new and delete that alloc_hooks.cpp replaces.
#include <weft/detail/frame_allocator.hpp>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "alloc/alloc_hooks.hpp"

namespace {

using weft::detail::allocate_frame;
using weft::detail::deallocate_frame;
using weft::test::g_aligned_live;

constexpr std::size_t k_frame_bytes = 200; // the 256-byte class: 255 blocks per chunk
constexpr int k_frames = 100'000;          // ~25 MB, about 400 chunks

// Blocks made on one thread and freed on another, both threads gone: at most the pool of
// empty chunks (64) stays; the rest went back to the heap.
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
  EXPECT_LE(g_aligned_live.load() - before, 64) << "chunks were kept after all their blocks came back";
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
