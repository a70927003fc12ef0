#pragma once
// The alloc tests replace the global operator new and aligned_alloc (alloc_hooks.cpp) to
// count allocations, and operator new to make large ones fail on demand.

#include <atomic>
#include <cstddef>

namespace weft::test {

/// While true, every allocation is counted in g_allocations.
inline std::atomic<bool> g_counting{false};
inline std::atomic<long> g_allocations{0};
/// While nonzero, allocations of at least this many bytes throw std::bad_alloc.
inline std::atomic<std::size_t> g_fail_at_least{0};

} // namespace weft::test
