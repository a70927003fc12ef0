#pragma once
// Platform and sanitizer detection, and the only macros weft defines.

#include <cstddef>
#include <cstdio>
#include <cstdlib>

#if defined(__SANITIZE_THREAD__)
#define WEFT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TSAN 1
#endif
#endif
#ifndef WEFT_TSAN
#define WEFT_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_ASAN 1
#endif
#endif
#ifndef WEFT_ASAN
#define WEFT_ASAN 0
#endif

// Whether a finished task's frame is freed without destroy() (detail::free_finished_frame).
// GCC enters a coroutine's body to destroy it (six registers saved and restored, the
// suspend-index jump table): skipping that made skynet 15-20% faster. Clang's destroy() is
// a small function of its own that frees a block of a class it knows at compile time, and
// the bookkeeping of the direct path cost it more (spawn+join +24%), so clang keeps it.
#if defined(__clang__)
#define WEFT_DIRECT_FRAME_FREE 0
#else
#define WEFT_DIRECT_FRAME_FREE 1
#endif

// WEFT_ASSERT checks internal invariants in debug and sanitizer builds only. It is never
// an optimizer assumption and never used on user input.
#if !defined(NDEBUG) || WEFT_TSAN || WEFT_ASAN
#define WEFT_ASSERT(cond)                                                                          \
  ((cond) ? static_cast<void>(0) : ::weft::detail::assert_failed(#cond, __FILE__, __LINE__))
#else
#define WEFT_ASSERT(cond) static_cast<void>(0)
#endif

#if defined(__GNUC__)
#define WEFT_LIKELY(x) __builtin_expect(!!(x), 1)
#define WEFT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define WEFT_LIKELY(x) (x)
#define WEFT_UNLIKELY(x) (x)
#endif

namespace weft::detail {

/// Size that keeps data written by different threads on different cache lines (two lines,
/// because adjacent-line prefetch on x86 pairs them).
inline constexpr std::size_t k_cache_line = 128;

[[noreturn]] inline void assert_failed(const char* cond, const char* file, int line) noexcept {
  std::fprintf(stderr, "weft: internal invariant violated: %s at %s:%d\n", cond, file, line);
  std::abort();
}

/// Tells the CPU that this thread is spinning (cheaper for the sibling hyper-thread).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

} // namespace weft::detail
