#pragma once
// weft::condition (asyncio.Condition): wait for a notification while holding a mutex.

#include "weft/detail/sync_waiter.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/errors.hpp"
#include "weft/mutex.hpp"
#include "weft/task.hpp"

#include <coroutine>
#include <cstddef>
#include <exception>
#include <limits>
#include <mutex>
#include <utility>

namespace weft {

/// A condition variable for tasks, bound to a weft::mutex (its own, or one given).
/// Thread safety: any thread; wait() only from a task. notify() and wait() require the
/// mutex to be held (asyncio raises RuntimeError; weft throws usage_error).
/// asyncio: asyncio.Condition. Notified waiters are woken in arrival order.
class condition {
public:
  /// Uses a mutex of its own.
  condition() noexcept : m_mutex(&m_own) {}
  /// Uses m, which must outlive the condition.
  explicit condition(weft::mutex& m) noexcept : m_mutex(&m) {}
  condition(const condition&) = delete;
  condition& operator=(const condition&) = delete;
  ~condition() = default;

  /// The mutex that wait() releases and reacquires.
  [[nodiscard]] weft::mutex& mutex() noexcept { return *m_mutex; }

  /// Releases the mutex, suspends until notified, then reacquires the mutex.
  /// Requires: the mutex is held.
  /// Throws: usage_error if it is not; cancelled_error if cancelled while waiting for the
  /// notification, after the mutex has been reacquired (as asyncio does), so a guard
  /// around the wait stays correct.
  /// Resumes on: a pool worker.
  [[nodiscard]] task<void> wait() {
    if (!m_mutex->is_locked()) {
      throw usage_error("weft::condition::wait: the mutex is not held");
    }
    bool released = false;
    std::exception_ptr failure;
    try {
      co_await notify_awaiter{*this, released};
    } catch (...) {
      failure = std::current_exception();
    }
    if (released) {
      co_await m_mutex->lock_uninterruptible();
    }
    if (failure) {
      std::rethrow_exception(failure);
    }
  }

  /// Waits until pred() is true, checking it with the mutex held (asyncio: wait_for).
  template <class Predicate>
  [[nodiscard]] task<void> wait_until(Predicate pred) {
    while (!pred()) {
      co_await wait();
    }
  }

  /// Wakes up to n waiters (asyncio: notify(n)).
  /// Throws: usage_error if the mutex is not held.
  void notify(std::size_t n = 1) {
    if (!m_mutex->is_locked()) {
      throw usage_error("weft::condition::notify: the mutex is not held");
    }
    detail::wake_list wakes; // resumed after m_lock is released
    std::lock_guard g(m_lock);
    for (std::size_t i = 0; i < n && !m_waiters.empty(); ++i) {
      wakes.grant(m_waiters.pop_front());
    }
  }
  /// How many tasks wait now (a snapshot, for diagnostics and tests).
  [[nodiscard]] std::size_t waiting() const noexcept { return m_waiters.size_snapshot(); }
  /// Wakes every waiter.
  void notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

private:
  // Queues the task, then releases the mutex under the condition's lock, so a notify()
  // (which needs the mutex, then this lock) cannot slip in between and be missed.
  class notify_awaiter {
  public:
    notify_awaiter(condition& c, bool& released) noexcept
        : m_cond(&c), m_released(&released), m_op(this, config(c)) {}
    notify_awaiter(const notify_awaiter&) = delete;
    notify_awaiter& operator=(const notify_awaiter&) = delete;
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      return m_op.suspend(h, detail::cancellation_of(h));
    }
    void await_resume() { m_op.finish(); }

  private:
    static detail::sync_wait_op::config config(condition& c) noexcept {
      return {&c.m_lock, &c.m_waiters,
              [](void* self, detail::wake_list&) {
                auto* me = static_cast<notify_awaiter*>(self);
                me->m_cond->m_mutex->unlock();
                *me->m_released = true;
                return false; // always queue
              },
              nullptr, "weft::condition::wait", true};
    }
    condition* m_cond;
    bool* m_released;
    detail::sync_wait_op m_op;
  };

  weft::mutex m_own;
  weft::mutex* m_mutex;
  detail::spin_lock m_lock;
  detail::waiter_fifo m_waiters; // guarded by m_lock
};

} // namespace weft
