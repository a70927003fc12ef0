#pragma once
// weft::wait_for, weft::timeout, weft::timeout_at (asyncio.wait_for, asyncio.timeout) and
// weft::shield (asyncio.shield).

#include "weft/detail/current_cancellation.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/errors.hpp"
#include "weft/join_handle.hpp"
#include "weft/spawn.hpp"
#include "weft/task.hpp"

#include <atomic>
#include <chrono>
#include <exception>

namespace weft {

namespace detail {

inline bool is_cancellation(const std::exception_ptr& e) noexcept {
  if (!e) {
    return false;
  }
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

template <class T>
task<T> run_with_deadline(task<T> t, std::chrono::steady_clock::time_point deadline) {
  if (!t.valid()) {
    throw invalid_task_error("weft::wait_for/timeout of an empty task (moved-from, spawned or awaited)");
  }
  join_handle<T> h = weft::spawn(std::move(t));
  std::atomic<bool> timed_out{false};

  // The deadline cancels the inner task (from the reactor) and remembers why.
  struct timer_callback : deadline_callback {
    join_handle<T>* handle = nullptr;
    std::atomic<bool>* flag = nullptr;
  } on_deadline;
  on_deadline.handle = &h;
  on_deadline.flag = &timed_out;
  on_deadline.fn = [](deadline_callback* cb) noexcept {
    auto* self = static_cast<timer_callback*>(cb);
    // release: read after stop_deadline(), which already orders it; spelled out.
    self->flag->store(true, std::memory_order_release);
    self->handle->cancel();
  };

  // Cancelling us cancels the inner task; we still wait for it to end.
  auto cancel_inner = [&h]() noexcept { h.cancel(); };
  scoped_cancel_callback<decltype(cancel_inner)> on_cancel{cancel_inner};
  on_cancel.install(co_await current_cancellation());

  deadline_op* timer = nullptr;
  if (deadline <= std::chrono::steady_clock::now()) {
    timed_out.store(true, std::memory_order_relaxed); // relaxed: this thread reads it
    h.cancel();
  } else {
    timer = start_deadline(deadline, &on_deadline);
  }
  co_await h.done();
  if (timer != nullptr) {
    stop_deadline(timer); // afterwards the callback is not running and never will
  }
  on_cancel.uninstall();
  // acquire: pairs with the callback's release store.
  if (timed_out.load(std::memory_order_acquire) && is_cancellation(h.finished_exception())) {
    try {
      (void)h.take_finished(); // frees the task; its cancelled_error becomes our timeout
    } catch (...) {
    }
    throw timeout_error("weft::wait_for: timed out");
  }
  co_return h.take_finished();
}

} // namespace detail

/// Runs t (spawned on the pool) and gives its result; if it has not finished after d, it is
/// cancelled, awaited, and timeout_error is thrown.
/// Throws: t's exception; timeout_error on timeout (if t ends with cancelled_error, as it
/// does unless it swallows the cancellation; if it swallows it and returns a value, that
/// value is returned, as in asyncio 3.12); cancelled_error if the awaiting task is
/// cancelled (t is cancelled too); invalid_task_error for an empty task.
/// A zero or negative d means "already expired": t is cancelled at once.
/// Cancellation: every suspension point inside t (and the lazy tasks it awaits) sees it.
/// asyncio: wait_for(aw, timeout). weft waits for the cancelled t to finish before it
/// throws, so t never outlives data it borrowed.
template <class T, class Rep, class Period>
[[nodiscard]] task<T> wait_for(task<T> t, std::chrono::duration<Rep, Period> d) {
  const auto now = std::chrono::steady_clock::now();
  return detail::run_with_deadline(std::move(t), now + std::chrono::ceil<std::chrono::steady_clock::duration>(d));
}

/// Runs body with an absolute deadline: every await inside body is bounded by it, and
/// reaching it cancels body and throws timeout_error. See wait_for.
/// asyncio: `async with asyncio.timeout_at(when): ...`, with the block as a task.
template <class T>
[[nodiscard]] task<T> timeout_at(std::chrono::steady_clock::time_point deadline, task<T> body) {
  return detail::run_with_deadline(std::move(body), deadline);
}

/// Runs body with a deadline d from now. See timeout_at.
/// asyncio: `async with asyncio.timeout(d): ...`, with the block as a task.
template <class T, class Rep, class Period>
[[nodiscard]] task<T> timeout(std::chrono::duration<Rep, Period> d, task<T> body) {
  return wait_for(std::move(body), d);
}

/// Runs t (spawned) so that cancelling the awaiting task does not cancel t.
/// Returns: t's result. Throws: t's exception; cancelled_error if the awaiting task was
/// cancelled meanwhile (t's result is then dropped).
/// asyncio: shield(aw). asyncio raises CancelledError at once and leaves the inner task
/// running; weft lets t finish first, so t never outlives data it borrowed.
template <class T>
[[nodiscard]] task<T> shield(task<T> t) {
  if (!t.valid()) {
    throw invalid_task_error("weft::shield of an empty task (moved-from, spawned or awaited)");
  }
  join_handle<T> h = weft::spawn(std::move(t));
  co_await h.done();
  detail::cancel_state* self = co_await detail::current_cancellation();
  if (self != nullptr && self->is_requested()) {
    try {
      (void)h.take_finished();
    } catch (...) {
    }
    throw cancelled_error("weft::shield: the awaiting task was cancelled (the shielded task ran to completion)");
  }
  co_return h.take_finished();
}

} // namespace weft
