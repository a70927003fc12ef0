#pragma once
// weft::semaphore and weft::bounded_semaphore (asyncio.Semaphore, asyncio.BoundedSemaphore).

#include "weft/detail/sync_waiter.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/errors.hpp"

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <limits>
#include <mutex>
#include <utility>

namespace weft {

class semaphore;

/// Holds one unit of a semaphore and releases it when destroyed (`async with sem:`).
class [[nodiscard]] semaphore_guard {
public:
  semaphore_guard() noexcept = default;
  explicit semaphore_guard(semaphore& s) noexcept : m_sem(&s) {}
  semaphore_guard(const semaphore_guard&) = delete;
  semaphore_guard& operator=(const semaphore_guard&) = delete;
  semaphore_guard(semaphore_guard&& other) noexcept : m_sem(std::exchange(other.m_sem, nullptr)) {}
  semaphore_guard& operator=(semaphore_guard&& other) noexcept {
    if (this != &other) {
      reset();
      m_sem = std::exchange(other.m_sem, nullptr);
    }
    return *this;
  }
  ~semaphore_guard() { reset(); }
  /// Releases now (idempotent).
  void reset() noexcept;

private:
  semaphore* m_sem = nullptr;
};

/// A counting semaphore for tasks. Waiters are served in arrival order: release() hands a
/// unit straight to the first waiter.
/// Thread safety: all members may be called from any thread; acquire() only from a task.
/// asyncio: asyncio.Semaphore.
class semaphore {
public:
  /// Throws: usage_error if initial > max_value() (as a negative count converts to).
  explicit semaphore(std::size_t initial = 1) : semaphore(initial, max_value()) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;
  ~semaphore() = default;

  class [[nodiscard]] acquire_awaiter;
  class [[nodiscard]] scoped_acquire_awaiter;

  /// `co_await s.acquire()` takes one unit, suspending while there is none.
  /// Throws: cancelled_error if the task is cancelled while waiting (it then holds no unit).
  /// Resumes on: a pool worker.
  acquire_awaiter acquire() noexcept;
  /// `auto guard = co_await s.scoped_acquire();` as acquire(), giving a guard that releases.
  scoped_acquire_awaiter scoped_acquire() noexcept;
  /// Takes one unit if one is free and nobody waits. Never suspends.
  [[nodiscard]] bool try_acquire() noexcept {
    std::lock_guard g(m_lock);
    return take_locked();
  }
  /// Returns n units: each goes to the first waiter, or back to the count.
  /// Throws: usage_error if that would raise a bounded_semaphore above its initial value
  /// (then nothing is released).
  void release(std::size_t n = 1);
  /// A snapshot of the free units (asyncio: `_value`); locked() is value() == 0.
  [[nodiscard]] std::size_t value() const noexcept {
    // relaxed: a snapshot; changes are made under m_lock.
    return m_value.load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool locked() const noexcept { return value() == 0; }

  /// How many tasks wait now (a snapshot, for diagnostics and tests).
  [[nodiscard]] std::size_t waiting() const noexcept { return m_waiters.size_snapshot(); }
  static constexpr std::size_t max_value() noexcept { return std::numeric_limits<std::size_t>::max() / 2; }

protected:
  semaphore(std::size_t initial, std::size_t bound) : m_value(initial), m_bound(bound) {
    // Above max_value() is most likely a negative count converted to size_t (asyncio
    // raises ValueError for a negative value).
    if (initial > bound || initial > max_value()) {
      throw usage_error("weft::semaphore: initial value above max_value() (a negative count?)");
    }
  }

private:
  bool take_locked() noexcept {
    // relaxed: guarded by m_lock (FIFO: nobody may overtake a waiter).
    const std::size_t v = m_value.load(std::memory_order_relaxed);
    if (v == 0 || !m_waiters.empty()) {
      return false;
    }
    m_value.store(v - 1, std::memory_order_relaxed);
    return true;
  }

  detail::spin_lock m_lock;
  detail::waiter_fifo m_waiters;     // guarded by m_lock
  std::atomic<std::size_t> m_value;  // written under m_lock
  const std::size_t m_bound;
};

/// A semaphore that refuses to be released above its initial value.
/// asyncio: asyncio.BoundedSemaphore (which raises ValueError; weft throws usage_error).
class bounded_semaphore : public semaphore {
public:
  /// Throws: usage_error if initial > max_value() (as a negative count converts to).
  explicit bounded_semaphore(std::size_t initial = 1) : semaphore(initial, initial) {}
};

class semaphore::acquire_awaiter {
public:
  explicit acquire_awaiter(semaphore& s) noexcept : m_sem(&s), m_op(this, config(s)) {}
  acquire_awaiter(acquire_awaiter&& other) noexcept : m_sem(other.m_sem), m_op(this, config(*m_sem)) {}
  acquire_awaiter& operator=(acquire_awaiter&&) = delete;

  bool await_ready() noexcept { return m_sem->try_acquire(); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return m_op.suspend(h, detail::cancellation_of(h));
  }
  void await_resume() { m_op.finish(); }

private:
  static detail::sync_wait_op::config config(semaphore& s) noexcept {
    return {&s.m_lock, &s.m_waiters,
            [](void* self, detail::wake_list&) { return static_cast<acquire_awaiter*>(self)->m_sem->take_locked(); },
            nullptr, "weft::semaphore::acquire", true};
  }

  semaphore* m_sem;
  detail::sync_wait_op m_op;
};

class semaphore::scoped_acquire_awaiter {
public:
  explicit scoped_acquire_awaiter(semaphore& s) noexcept : m_sem(&s), m_inner(s) {}
  bool await_ready() noexcept { return m_inner.await_ready(); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return m_inner.await_suspend(h);
  }
  semaphore_guard await_resume() {
    m_inner.await_resume();
    return semaphore_guard{*m_sem};
  }

private:
  semaphore* m_sem;
  acquire_awaiter m_inner;
};

inline semaphore::acquire_awaiter semaphore::acquire() noexcept { return acquire_awaiter{*this}; }
inline semaphore::scoped_acquire_awaiter semaphore::scoped_acquire() noexcept { return scoped_acquire_awaiter{*this}; }

inline void semaphore::release(std::size_t n) {
  detail::wake_list wakes; // resumed after m_lock is released
  std::lock_guard g(m_lock);
  // relaxed: guarded by m_lock.
  std::size_t v = m_value.load(std::memory_order_relaxed);
  // Waiters only exist while the count is 0, so units beyond them raise the count.
  std::size_t waiting = 0;
  for (detail::sync_waiter* w = m_waiters.front(); w != nullptr && waiting < n; w = w->next) {
    ++waiting;
  }
  if (n - waiting > m_bound - v) {
    throw usage_error("weft::bounded_semaphore::release: released more often than acquired");
  }
  for (std::size_t i = 0; i < waiting; ++i) {
    wakes.grant(m_waiters.pop_front());
  }
  m_value.store(v + (n - waiting), std::memory_order_relaxed);
}

inline void semaphore_guard::reset() noexcept {
  if (m_sem != nullptr) {
    try {
      std::exchange(m_sem, nullptr)->release();
    } catch (const usage_error&) {
      // Cannot happen for a unit this guard took; nothing to give back.
    }
  }
}

} // namespace weft
