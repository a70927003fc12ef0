#pragma once
// The alloc tests replace the global operator new and aligned_alloc (alloc_hooks.cpp) to
// count allocations, and operator new to make large ones fail on demand; the aligned
// operator new and delete count the over-aligned blocks alive.

#include <atomic>
#include <cstddef>

namespace weft::test {

/// While true, every allocation is counted in g_allocations.
inline std::atomic<bool> g_counting{false};
inline std::atomic<long> g_allocations{0};
/// Over-aligned operator new allocations not yet deleted, counted always (the frame
/// allocator's chunks are the only ones weft makes).
inline std::atomic<long> g_aligned_live{0};
/// While nonzero, allocations of at least this many bytes throw std::bad_alloc.
inline std::atomic<std::size_t> g_fail_at_least{0};

} // namespace weft::test
