#pragma once
// weft::event (asyncio.Event): a flag that tasks can wait for.

#include "weft/detail/sync_waiter.hpp"
#include "weft/detail/task_promise.hpp"

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <mutex>

namespace weft {

/// A flag, initially clear. set() wakes every waiting task; wait() returns at once while
/// it is set.
/// Thread safety: all members may be called from any thread (set() from outside the pool
/// too); wait() only from a task.
/// asyncio: asyncio.Event.
class event {
public:
  event() noexcept = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;
  ~event() = default;

  class [[nodiscard]] wait_awaiter {
  public:
    explicit wait_awaiter(event& e) noexcept : m_event(&e), m_op(this, config(e)) {}
    wait_awaiter(wait_awaiter&& other) noexcept : m_event(other.m_event), m_op(this, config(*m_event)) {}
    wait_awaiter& operator=(wait_awaiter&&) = delete;

    bool await_ready() const noexcept { return m_event->is_set(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      return m_op.suspend(h, detail::cancellation_of(h));
    }
    void await_resume() { m_op.finish(); }

  private:
    static detail::sync_wait_op::config config(event& e) noexcept {
      return {&e.m_lock, &e.m_waiters,
              [](void* self, detail::wake_list&) { return static_cast<wait_awaiter*>(self)->m_event->is_set(); },
              nullptr, "weft::event::wait", true};
    }
    event* m_event;
    detail::sync_wait_op m_op;
  };

  /// `co_await e.wait()` suspends until the event is set.
  /// Throws: cancelled_error if the task is cancelled while waiting.
  /// Resumes on: a pool worker.
  wait_awaiter wait() noexcept { return wait_awaiter{*this}; }

  /// Sets the flag and wakes every waiter.
  void set() noexcept {
    detail::wake_list wakes; // resumed after m_lock is released
    std::lock_guard g(m_lock);
    // release: a task that sees the flag in await_ready also sees what preceded set().
    m_set.store(true, std::memory_order_release);
    while (detail::sync_waiter* w = m_waiters.pop_front()) {
      wakes.grant(w);
    }
  }
  /// Clears the flag; later wait()s suspend again.
  void clear() noexcept {
    std::lock_guard g(m_lock);
    // relaxed: ordered by m_lock for waiters; a snapshot for is_set().
    m_set.store(false, std::memory_order_relaxed);
  }
  /// How many tasks wait now (a snapshot, for diagnostics and tests).
  [[nodiscard]] std::size_t waiting() const noexcept { return m_waiters.size_snapshot(); }
  [[nodiscard]] bool is_set() const noexcept {
    // acquire: pairs with the release in set().
    return m_set.load(std::memory_order_acquire);
  }

private:
  detail::spin_lock m_lock;
  detail::waiter_fifo m_waiters; // guarded by m_lock
  std::atomic<bool> m_set{false}; // written under m_lock
};

} // namespace weft
