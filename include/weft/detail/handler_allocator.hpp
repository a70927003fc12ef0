#pragma once
// An allocator over the per-thread frame cache (frame_allocator.hpp), for the memory Asio
// allocates per operation. use_task's completion handler names it as its associated
// allocator, so an operation started by a task (on a worker, outside io_context::run, where
// Asio's own recycling cache is not reachable) costs no malloc and no free.

#include "weft/detail/frame_allocator.hpp"

#include <cstddef>

namespace weft::detail {

template <class T>
struct handler_allocator {
  using value_type = T;

  handler_allocator() noexcept = default;
  template <class U>
  handler_allocator(const handler_allocator<U>&) noexcept {} // NOLINT: converting, as allocators are

  T* allocate(std::size_t n) {
    // The cache's blocks come from ::operator new, aligned for any fundamental type.
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned handler memory");
    return static_cast<T*>(allocate_frame(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_frame(p, n * sizeof(T)); }

  template <class U>
  bool operator==(const handler_allocator<U>&) const noexcept {
    return true; // stateless: memory from one may be freed through any other
  }
};

} // namespace weft::detail
