#include "alloc/alloc_hooks.hpp"

#include <malloc.h>

#include <cstdlib>
#include <new>

// Asio allocates an operation started outside io_context::run with std::aligned_alloc
// (through its recycling cache, which only serves threads inside run): counted as well.
extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  using namespace weft::test;
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  return memalign(alignment, size);
}

void* operator new(std::size_t n) {
  using namespace weft::test;
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  const std::size_t fail_at = g_fail_at_least.load(std::memory_order_relaxed);
  if (fail_at != 0 && n >= fail_at) {
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

void* operator new(std::size_t n, std::align_val_t alignment) {
  using namespace weft::test;
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = memalign(static_cast<std::size_t>(alignment), n == 0 ? 1 : n)) {
    g_aligned_live.fetch_add(1, std::memory_order_relaxed);
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p, std::align_val_t) noexcept {
  if (p != nullptr) {
    weft::test::g_aligned_live.fetch_sub(1, std::memory_order_relaxed);
  }
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t alignment) noexcept {
  operator delete(p, alignment);
}
