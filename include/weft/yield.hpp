#pragma once
// co_await weft::yield() (asyncio.sleep(0)).

#include "weft/detail/task_promise.hpp"
#include "weft/errors.hpp"

#include <coroutine>

namespace weft {

namespace detail {
/// Queues h behind everything runnable on this worker (on the pool's shared queue when
/// other tasks wait here, see yield()). Throws cancelled_error during shutdown instead.
/// Compiled.
void schedule_yield(std::coroutine_handle<> h);
} // namespace detail

/// What `co_await weft::yield()` acts on.
class [[nodiscard]] yield_awaiter {
public:
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> h) const {
    if (detail::cancel_state* c = detail::cancellation_of(h); c != nullptr && c->is_requested()) {
      throw cancelled_error("weft::yield: task cancelled");
    }
    detail::schedule_yield(h);
  }
  void await_resume() const noexcept {}
};

/// Lets every other task that is runnable on this worker run before the caller continues.
/// Throws: cancelled_error if the task was cancelled or the runtime is shutting down.
/// Resumes on: the same worker when no other task waits on it; otherwise on whichever
/// worker takes it first from the pool's shared queue (so tasks that keep yielding spread
/// over the workers instead of staying where they started).
/// asyncio: await asyncio.sleep(0).
[[nodiscard]] inline yield_awaiter yield() noexcept { return {}; }

} // namespace weft
