#pragma once
// weft::wait (asyncio.wait).

#include "weft/detail/current_cancellation.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/listener_accounting.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/detail/worker_context.hpp"
#include "weft/errors.hpp"
#include "weft/join_handle.hpp"

#include <atomic>
#include <chrono>
#include <coroutine>
#include <optional>
#include <stdexcept>
#include <vector>

namespace weft {

/// When weft::wait returns (asyncio's FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED).
enum class return_when { first_completed, first_exception, all_completed };

/// What weft::wait gives back: the handles whose tasks have finished, and the others,
/// which keep running and can be waited on again.
template <class T>
struct wait_result {
  std::vector<join_handle<T>> done;
  std::vector<join_handle<T>> pending;
};

namespace detail {

template <class T>
class wait_awaitable : private completion_listener {
public:
  wait_awaitable(std::vector<join_handle<T>> handles, return_when when,
                 std::optional<std::chrono::steady_clock::time_point> deadline)
      : m_handles(std::move(handles)), m_when(when), m_deadline(deadline), m_on_cancel(wake_on_cancel{this}) {
    on_complete = &wait_awaitable::completed;
  }
  wait_awaitable(const wait_awaitable&) = delete;
  wait_awaitable& operator=(const wait_awaitable&) = delete;
  ~wait_awaitable() { release(); }

  bool await_ready() const {
    if (m_handles.empty()) {
      throw std::invalid_argument("weft::wait of an empty set of handles");
    }
    for (const auto& h : m_handles) {
      if (!h.valid()) {
        throw handle_consumed_error("weft::wait of an empty join_handle (moved-from, detached or consumed)");
      }
    }
    if (satisfied_now()) {
      return true;
    }
    return m_deadline && *m_deadline <= std::chrono::steady_clock::now(); // already expired
  }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) {
    cancel_state* cancel = cancellation_of(awaiting);
    if (cancel != nullptr && cancel->is_requested()) {
      throw cancelled_error("weft::wait: task cancelled");
    }
    m_awaiting = awaiting;
    m_sched = tl_worker != nullptr ? tl_worker->sched : nullptr;
    // Every handle accounts for exactly one completion event: through its listener, or
    // here if its task is already done (or finishes before the listener is in place).
    // relaxed: published to completers by the release of set_listener().
    m_remaining.store(m_handles.size(), std::memory_order_relaxed);
    m_registering = true;
    for (auto& h : m_handles) {
      if (h.is_done() || !m_accounting.add(h.handle().promise(), *this)) {
        on_task_done(h.handle().promise());
      }
    }
    if (m_deadline) {
      m_timer_cb.fn = &wait_awaitable::deadline_passed;
      m_timer_cb.op = this;
      m_timer = start_deadline(*m_deadline, &m_timer_cb);
    }
    m_on_cancel.install(cancel);
    m_cancel = cancel;
    // The gate: 2 = registering and not triggered. Registration done takes one; the
    // first trigger takes the other; whoever takes the last resumes the awaiter. If a
    // trigger came during registration, we continue without suspending.
    // acq_rel: orders registration before a completer's resume, and its trigger before ours.
    return m_gate.fetch_sub(1, std::memory_order_acq_rel) != 1;
  }

  wait_result<T> await_resume() {
    release();
    if (m_cancel != nullptr && m_cancel->is_requested()) {
      throw cancelled_error("weft::wait: task cancelled");
    }
    wait_result<T> r;
    for (auto& h : m_handles) {
      (h.is_done() ? r.done : r.pending).push_back(std::move(h));
    }
    m_handles.clear();
    return r;
  }

private:
  struct wake_on_cancel {
    wait_awaitable* self;
    void operator()() const noexcept { self->trigger(); }
  };

  bool satisfied_now() const noexcept {
    std::size_t done = 0;
    for (const auto& h : m_handles) {
      if (h.is_done()) {
        ++done;
        if (m_when == return_when::first_completed ||
            (m_when == return_when::first_exception && h.handle().promise().result().has_exception())) {
          return true;
        }
      }
    }
    return done == m_handles.size();
  }

  static void completed(completion_listener* self, promise_base& finished) noexcept {
    auto* op = static_cast<wait_awaitable*>(self);
    op->on_task_done(finished);
    op->m_accounting.notified(); // last use of *op
  }

  void on_task_done(promise_base& finished) noexcept {
    const bool failed = static_cast<task_promise<T>&>(finished).result().has_exception();
    if (m_when == return_when::first_completed || (m_when == return_when::first_exception && failed)) {
      trigger();
      return;
    }
    // acq_rel: the last completion triggers after seeing every other's.
    if (m_remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      trigger();
    }
  }

  struct timer_callback : deadline_callback {
    wait_awaitable* op = nullptr;
  };

  static void deadline_passed(deadline_callback* cb) noexcept { static_cast<timer_callback*>(cb)->op->trigger(); }

  void trigger() noexcept {
    // acq_rel: exactly one trigger proceeds.
    if (m_triggered.exchange(true, std::memory_order_acq_rel)) {
      return;
    }
    if (m_gate.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      schedule_internal(*m_sched, m_awaiting);
    }
  }

  // Stops the timer and the cancel callback and takes every listener back; afterwards no
  // other thread touches *this.
  void release() noexcept {
    if (m_timer != nullptr) {
      stop_deadline(m_timer);
      m_timer = nullptr;
    }
    m_on_cancel.uninstall();
    if (m_registering) {
      for (auto& h : m_handles) {
        if (h.valid()) {
          m_accounting.remove(h.handle().promise(), *this);
        }
      }
      m_accounting.wait_for_notifications();
      m_registering = false;
    }
  }

  std::vector<join_handle<T>> m_handles;
  return_when m_when;
  std::optional<std::chrono::steady_clock::time_point> m_deadline;
  std::coroutine_handle<> m_awaiting;
  scheduler* m_sched = nullptr;
  std::atomic<std::size_t> m_remaining{0};
  std::atomic<bool> m_triggered{false};
  std::atomic<int> m_gate{2};
  bool m_registering = false;
  listener_accounting m_accounting;
  timer_callback m_timer_cb;
  deadline_op* m_timer = nullptr;
  scoped_cancel_callback<wake_on_cancel> m_on_cancel;
  cancel_state* m_cancel = nullptr;
};

} // namespace detail

/// Waits until the condition `when` holds for the tasks behind handles, or until timeout
/// passes, and gives back {done, pending}. The tasks are not cancelled: the pending ones
/// keep running and their handles can be waited on or awaited again.
///
/// One listener per handle, registered in the task's own listener slot (no allocation, no
/// lock) and taken back when wait resumes.
/// Requires: no other wait/as_completed is waiting on the same handle at the same time.
/// Throws: std::invalid_argument for an empty set (asyncio raises ValueError);
/// handle_consumed_error for an empty handle; cancelled_error if the waiting task is
/// cancelled (the tasks keep running, detached).
/// A zero or negative timeout means "already expired": wait returns at once.
/// asyncio: wait(aws, timeout, return_when); handles instead of a set of tasks.
template <class T>
[[nodiscard]] detail::wait_awaitable<T> wait(std::vector<join_handle<T>> handles,
                                             return_when when = return_when::all_completed) {
  return detail::wait_awaitable<T>{std::move(handles), when, std::nullopt};
}

/// As wait(handles, when), giving up after timeout.
template <class T, class Rep, class Period>
[[nodiscard]] detail::wait_awaitable<T> wait(std::vector<join_handle<T>> handles, return_when when,
                                             std::chrono::duration<Rep, Period> timeout) {
  const auto now = std::chrono::steady_clock::now();
  return detail::wait_awaitable<T>{std::move(handles), when,
                                   now + std::chrono::ceil<std::chrono::steady_clock::duration>(timeout)};
}

} // namespace weft
