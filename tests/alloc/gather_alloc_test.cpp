// Counts global heap allocations while a gather runs: beyond the children's own frames
// (which come from the frame allocator, or are made before the count starts), gather
// must not allocate per child.
#include <weft/gather.hpp>

#include <weft/run.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "alloc/alloc_hooks.hpp"

namespace {

using weft::test::g_allocations;
using weft::test::g_counting;

weft::task<int> leaf(int v) { co_return v; }

weft::task<long> gather_counted(int n, long& allocations) {
  std::vector<weft::task<int>> ts;
  ts.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ts.push_back(leaf(i)); // frames made before counting starts
  }
  auto op = weft::gather(std::move(ts));
  g_allocations.store(0);
  g_counting.store(true);
  auto results = co_await op;
  g_counting.store(false);
  allocations = g_allocations.load();
  long sum = 0;
  for (int v : results) {
    sum += v;
  }
  co_return sum;
}

TEST(GatherAllocations, NoHeapAllocationPerChild) {
  for (int n : {1'000, 10'000}) {
    long allocations = -1;
    const long sum = weft::run(gather_counted(n, allocations), {.workers = 1});
    EXPECT_EQ(sum, static_cast<long>(n) * (n - 1) / 2);
    // The results vector, and the deque growing once per doubling: a constant, not n.
    EXPECT_LE(allocations, 16) << "n = " << n;
  }
}

} // namespace
