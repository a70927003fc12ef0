#pragma once
// Per-thread size-class free lists for coroutine frames.
//
// A frame freed on another thread than the one that allocated it goes to the freeing
// thread's list: memory migrates between threads, which costs nothing here because every
// block of a class has the same size. The lists get their blocks from 64 KiB chunks, one
// class per chunk, every block on its own cache lines; each list is capped, and a thread
// that frees more than it allocates moves half of a full list to a shared depot, where a
// thread whose list is empty takes it; beyond the depot's cap, blocks go back to their
// chunks, which go back to the heap once all their blocks are back
// (runtime/frame_allocator.cpp). ASan builds bypass the lists so that a use of a freed
// frame is reported instead of hidden by reuse.
//
// Chosen over oneTBB's scalable_malloc by measurement: see bench/frame_alloc_bench.cpp
// and docs/design.md ("Frame allocation").

#include "weft/detail/config.hpp"

#include <cstddef>
#include <cstdint>
#include <new>

namespace weft::detail {

inline constexpr std::size_t k_frame_granule = 64;
inline constexpr std::size_t k_frame_classes = 32; // frames up to 2 KiB are cached
inline constexpr std::uint32_t k_frame_cache_limit = 4096; // blocks per class per thread

struct free_block {
  free_block* next;
};

// Trivially constructible and destructible, so that access from inline code needs no
// thread_local initialisation guard. `room` counts how many more blocks a class may cache;
// it starts at 0, so a thread's first free takes the slow path, which registers the
// thread-exit cleanup and opens the cache. The cleanup closes it again (room 0, still
// opened, so it is never reopened), and frees after it go back to their chunks. The fast
// path of a free thus tests one counter.
struct frame_cache {
  free_block* heads[k_frame_classes];
  std::uint32_t room[k_frame_classes];
  // The block a task's operator new took last, its class in the low bits (blocks are
  // aligned to k_frame_granule), for the promise's constructor (promise_base::claim_frame).
  std::uintptr_t newest_frame;
  bool opened;
};

inline thread_local constinit frame_cache tl_frame_cache{};

/// Slow path of allocate_frame, when the class's list is empty: refills the list with a
/// batch from the shared depot, else carves a block from this thread's chunk of that class
/// (runtime/frame_allocator.cpp). Throws std::bad_alloc.
void* allocate_frame_slow(std::size_t cls);

/// Slow path of deallocate_frame, when the class has no room: opens the cache on the
/// thread's first free (registering its thread-exit cleanup); else, the list being full,
/// moves p and half the list to the depot; during thread exit, gives p back to its chunk.
void deallocate_frame_slow(void* p, std::size_t cls) noexcept;

/// Allocates a coroutine frame of n bytes. Throws std::bad_alloc on exhaustion.
[[gnu::always_inline]] inline void* allocate_frame(std::size_t n) {
  const std::size_t cls = (n - 1) / k_frame_granule;
  if constexpr (!WEFT_ASAN) {
    if (WEFT_LIKELY(cls < k_frame_classes)) {
      frame_cache& cache = tl_frame_cache;
      if (free_block* block = cache.heads[cls]) {
        cache.heads[cls] = block->next;
        ++cache.room[cls];
        return block;
      }
      return allocate_frame_slow(cls);
    }
  }
  return ::operator new(n);
}

/// Frees a block of a cached class (below k_frame_classes) that allocate_frame returned.
[[gnu::always_inline]] inline void deallocate_cached_frame(void* p, std::size_t cls) noexcept {
  frame_cache& cache = tl_frame_cache;
  if (WEFT_LIKELY(cache.room[cls] != 0)) {
    auto* block = static_cast<free_block*>(p);
    block->next = cache.heads[cls];
    cache.heads[cls] = block;
    --cache.room[cls];
    return;
  }
  deallocate_frame_slow(p, cls);
}

/// Frees a frame allocated by allocate_frame with the same n.
[[gnu::always_inline]] inline void deallocate_frame(void* p, std::size_t n) noexcept {
  const std::size_t cls = (n - 1) / k_frame_granule;
  if constexpr (!WEFT_ASAN) {
    if (WEFT_LIKELY(cls < k_frame_classes)) {
      deallocate_cached_frame(p, cls);
      return;
    }
  }
  ::operator delete(p);
}

} // namespace weft::detail
