#pragma once
// co_await weft::yield() (asyncio.sleep(0)).

#include <coroutine>

namespace weft {

namespace detail {
/// Queues h behind everything runnable on this worker. Throws cancelled_error during
/// shutdown instead. Compiled.
void schedule_yield(std::coroutine_handle<> h);
} // namespace detail

/// What `co_await weft::yield()` acts on.
class [[nodiscard]] yield_awaiter {
public:
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { detail::schedule_yield(h); }
  void await_resume() const noexcept {}
};

/// Lets every other task that is runnable on this worker run before the caller continues.
/// Throws: cancelled_error once the runtime is shutting down.
/// Resumes on: the same worker (yielded tasks are not stolen).
/// asyncio: await asyncio.sleep(0).
[[nodiscard]] inline yield_awaiter yield() noexcept { return {}; }

} // namespace weft
