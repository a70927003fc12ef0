// Counts global heap allocations while a task awaits Asio operations through use_task:
// once the per-thread frame cache is warm, an operation's memory (Asio's own, through the
// completion handler's associated allocator, and use_task's shared state) comes from the
// cache, so a steady stream of operations allocates nothing.
#include <weft/run.hpp>
#include <weft/runtime.hpp>
#include <weft/use_task.hpp>

#include <asio/post.hpp>
#include <gtest/gtest.h>

#include "alloc/alloc_hooks.hpp"

namespace {

using weft::test::g_allocations;
using weft::test::g_counting;

weft::task<long> posts_counted(int warm_up, int n, long& allocations) {
  asio::io_context& io = weft::runtime::current()->io_context();
  for (int i = 0; i < warm_up; ++i) {
    co_await asio::post(io, weft::use_task);
  }
  g_allocations.store(0);
  g_counting.store(true);
  long done = 0;
  for (int i = 0; i < n; ++i) {
    co_await asio::post(io, weft::use_task);
    ++done;
  }
  g_counting.store(false);
  allocations = g_allocations.load();
  co_return done;
}

TEST(IoAllocations, AnAwaitedAsioOperationAllocatesNothingOnceTheCacheIsWarm) {
  long allocations = -1;
  const int n = 10'000;
  // One worker: the operation is started and completed on the same thread, so its memory
  // goes back to the cache it came from.
  EXPECT_EQ(weft::run(posts_counted(16, n, allocations), {.workers = 1}), n);
  // Without the associated allocator: one per operation (Asio's op); before use_task's
  // state came from the cache too, two.
  EXPECT_LE(allocations, 4);
}

} // namespace
