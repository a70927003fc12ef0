#pragma once
// weft::to_thread (asyncio.to_thread): runs a blocking call on the runtime's blocking pool.

#include "weft/detail/blocking_job.hpp"
#include "weft/detail/cancel_state.hpp"
#include "weft/detail/pending_op.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/detail/task_result.hpp"
#include "weft/detail/worker_context.hpp"
#include "weft/errors.hpp"
#include "weft/task.hpp"

#include <atomic>
#include <coroutine>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace weft {

namespace detail {

/// Awaits call() on a blocking thread. Lives in the awaiting frame.
template <class Call>
class blocking_call_awaiter : private blocking_job {
  using result_type = std::invoke_result_t<Call&>;

public:
  explicit blocking_call_awaiter(Call call) noexcept(std::is_nothrow_move_constructible_v<Call>)
      : m_call(std::move(call)) {}
  blocking_call_awaiter(const blocking_call_awaiter&) = delete;
  blocking_call_awaiter& operator=(const blocking_call_awaiter&) = delete;

  bool await_ready() const noexcept { return false; }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    cancel_state* cancel = cancellation_of(h);
    if (cancel != nullptr && cancel->is_requested()) {
      throw cancelled_error("weft::to_thread: task cancelled");
    }
    worker_context* w = tl_worker;
    if (w == nullptr) {
      throw no_runtime_error("weft::to_thread awaited outside a runtime's worker");
    }
    m_sched = w->sched;
    m_handle = h;
    this->run = &blocking_call_awaiter::run_on_blocking_thread;
    m_shutdown_hook.self = this;
    m_shutdown_hook.cancel = [](pending_op_node* n) noexcept { static_cast<shutdown_hook*>(n)->self->cancel_job(); };
    m_shutdown_hook.what = "weft::to_thread";
    m_shutdown_hook.owner = cancel;
    if (!register_pending_op(*m_sched, m_shutdown_hook)) {
      throw cancelled_error("weft::to_thread: runtime is shutting down");
    }
    try {
      if (!submit_blocking(*m_sched, *this)) {
        throw cancelled_error("weft::to_thread: runtime is shutting down");
      }
    } catch (...) {
      unregister_pending_op(*m_sched, m_shutdown_hook);
      throw;
    }
    m_registered = true;
    // Two tickets, as in use_task: ours (the callback is installed) and the completion's
    // (the call ran, or the job was cancelled before it started); the last one resumes.
    if (cancel != nullptr) {
      m_cancel_hook.self = this;
      m_cancel_hook.fn = [](cancel_callback* c) noexcept { static_cast<cancel_hook*>(c)->self->cancel_job(); };
      if (cancel->install(&m_cancel_hook)) {
        m_cancel = cancel;
      } else {
        cancel_job();
      }
    }
    // acq_rel: orders our set-up before the resumption, and the outcome before our reading.
    return m_gate.fetch_sub(1, std::memory_order_acq_rel) != 1;
  }

  result_type await_resume() {
    if (m_cancel != nullptr) {
      m_cancel->remove(&m_cancel_hook);
    }
    if (m_registered) {
      unregister_pending_op(*m_sched, m_shutdown_hook);
    }
    // relaxed: written before the resumption, which ordered it.
    if (m_cancelled.load(std::memory_order_relaxed)) {
      throw cancelled_error("weft::to_thread: cancelled before the call started");
    }
    return m_result.take();
  }

private:
  struct cancel_hook : cancel_callback {
    blocking_call_awaiter* self = nullptr;
  };
  struct shutdown_hook : pending_op_node {
    blocking_call_awaiter* self = nullptr;
  };

  // A call that has started cannot be interrupted: it runs to its end and its outcome is
  // delivered. One still queued is taken out and never runs.
  void cancel_job() noexcept {
    if (cancel_blocking(*m_sched, *this)) {
      // relaxed: published by the gate's acq_rel below.
      m_cancelled.store(true, std::memory_order_relaxed);
      complete();
    }
  }

  void complete() noexcept {
    // acq_rel: see await_suspend().
    if (m_gate.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      schedule_internal(*m_sched, m_handle);
    }
  }

  static void run_on_blocking_thread(blocking_job* job) noexcept {
    auto* self = static_cast<blocking_call_awaiter*>(job);
    try {
      if constexpr (std::is_void_v<result_type>) {
        std::invoke(self->m_call);
        self->m_result.set_value();
      } else {
        self->m_result.set_value(std::invoke(self->m_call));
      }
    } catch (...) {
      self->m_result.set_exception(std::current_exception());
    }
    self->complete();
  }

  Call m_call;
  task_result<result_type> m_result;
  scheduler* m_sched = nullptr;
  std::coroutine_handle<> m_handle;
  cancel_hook m_cancel_hook;
  shutdown_hook m_shutdown_hook;
  cancel_state* m_cancel = nullptr;
  bool m_registered = false;
  std::atomic<bool> m_cancelled{false};
  std::atomic<int> m_gate{2};
};

} // namespace detail

/// Runs fn(args...) on the runtime's blocking pool, so a blocking call (file I/O, a
/// blocking library, a long computation) never holds up a worker; the task suspends
/// meanwhile. fn and args are moved into the task's frame.
/// Returns: what fn returns. Throws: what fn throws; cancelled_error if the task was
/// cancelled before the call started (then it never runs) or the runtime is shutting down.
/// Cancellation: a call that has started runs to its end and its result is delivered (C++
/// cannot interrupt a thread); asyncio instead raises CancelledError at once and lets the
/// thread run on unobserved, which here could leave it using a dead frame.
/// Resumes on: a pool worker (one hand-off back from the blocking thread).
/// The pool has runtime_options::max_blocking_threads threads at most; calls beyond that
/// wait in its FIFO queue.
template <class Fn, class... Args>
[[nodiscard]] task<std::invoke_result_t<std::decay_t<Fn>&, std::decay_t<Args>&...>> to_thread(Fn fn, Args... args) {
  auto call = [&fn, &args...]() -> decltype(auto) { return std::invoke(fn, args...); };
  co_return co_await detail::blocking_call_awaiter<decltype(call)>{call};
}

} // namespace weft
