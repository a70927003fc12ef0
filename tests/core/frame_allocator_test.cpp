#include <weft/detail/frame_allocator.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
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

} // namespace
