#pragma once
// weft::mutex (asyncio.Lock): a FIFO-fair lock for tasks; waiting suspends, never blocks.

#include "weft/detail/sync_waiter.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/errors.hpp"

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <mutex>
#include <utility>

namespace weft {

class mutex;

/// Holds a weft::mutex and unlocks it when destroyed (`async with lock:`).
class [[nodiscard]] mutex_guard {
public:
  mutex_guard() noexcept = default;
  explicit mutex_guard(mutex& m, std::adopt_lock_t) noexcept : m_mutex(&m) {}
  mutex_guard(const mutex_guard&) = delete;
  mutex_guard& operator=(const mutex_guard&) = delete;
  mutex_guard(mutex_guard&& other) noexcept : m_mutex(std::exchange(other.m_mutex, nullptr)) {}
  mutex_guard& operator=(mutex_guard&& other) noexcept {
    if (this != &other) {
      reset();
      m_mutex = std::exchange(other.m_mutex, nullptr);
    }
    return *this;
  }
  ~mutex_guard() { reset(); }

  /// Unlocks now (idempotent).
  void reset() noexcept;
  [[nodiscard]] bool owns_lock() const noexcept { return m_mutex != nullptr; }

private:
  mutex* m_mutex = nullptr;
};

/// A mutual-exclusion lock for tasks. Waiters are granted the lock in arrival order: unlock()
/// hands it straight to the first waiter, so a newcomer cannot barge in.
/// Thread safety: all members may be called from any thread; lock() only from a task.
/// asyncio: asyncio.Lock. The lock is not owned by a task: any task may unlock it, as in
/// asyncio.
class mutex {
public:
  mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;
  ~mutex() = default;

  class [[nodiscard]] lock_awaiter;
  class [[nodiscard]] scoped_lock_awaiter;

  /// `co_await m.lock()` suspends until the lock is this task's.
  /// Throws: cancelled_error if the task is cancelled while waiting (it then does not hold
  /// the lock, and the next waiter is not held up).
  /// Resumes on: a pool worker (the one that unlocked, or the awaiting one if free).
  lock_awaiter lock() noexcept;
  /// `auto guard = co_await m.scoped_lock();` as lock(), giving a guard that unlocks.
  scoped_lock_awaiter scoped_lock() noexcept;
  /// Takes the lock if it is free. Never suspends.
  [[nodiscard]] bool try_lock() noexcept {
    std::lock_guard g(m_lock);
    return take_locked();
  }
  /// Releases the lock, handing it to the first waiter if any.
  /// Throws: usage_error if the mutex is not locked.
  void unlock();
  /// A snapshot: true if some task holds the lock.
  [[nodiscard]] bool is_locked() const noexcept {
    // relaxed: a snapshot; changes are made under m_lock.
    return m_locked.load(std::memory_order_relaxed);
  }

  /// How many tasks wait now (a snapshot, for diagnostics and tests).
  [[nodiscard]] std::size_t waiting() const noexcept { return m_waiters.size_snapshot(); }
  /// Used by condition: waits for the lock ignoring cancellation (a condition wait must
  /// reacquire the lock before it reports its own cancellation).
  lock_awaiter lock_uninterruptible() noexcept;

private:
  friend class mutex_guard;

  bool take_locked() noexcept {
    // relaxed: guarded by m_lock; the atomic is only for is_locked() snapshots.
    if (m_locked.load(std::memory_order_relaxed)) {
      return false;
    }
    m_locked.store(true, std::memory_order_relaxed);
    return true;
  }
  /// unlock() for a mutex known to be locked; false if it was not.
  bool release() noexcept;

  detail::spin_lock m_lock;
  detail::waiter_fifo m_waiters;          // guarded by m_lock
  std::atomic<bool> m_locked{false};     // written under m_lock
};

class mutex::lock_awaiter {
public:
  lock_awaiter(mutex& m, bool interruptible) noexcept
      : m_mutex(&m), m_interruptible(interruptible), m_op(this, config(m, interruptible)) {}
  lock_awaiter(lock_awaiter&& other) noexcept
      : m_mutex(other.m_mutex), m_interruptible(other.m_interruptible),
        m_op(this, config(*m_mutex, m_interruptible)) {}
  lock_awaiter& operator=(lock_awaiter&&) = delete;

  bool await_ready() noexcept { return m_mutex->try_lock(); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return m_op.suspend(h, m_interruptible ? detail::cancellation_of(h) : nullptr);
  }
  void await_resume() { m_op.finish(); }

private:
  static detail::sync_wait_op::config config(mutex& m, bool interruptible) noexcept {
    return {&m.m_lock, &m.m_waiters,
            [](void* self, detail::wake_list&) { return static_cast<lock_awaiter*>(self)->m_mutex->take_locked(); },
            nullptr, "weft::mutex::lock", interruptible};
  }

  mutex* m_mutex;
  bool m_interruptible = true;
  detail::sync_wait_op m_op;
};

class mutex::scoped_lock_awaiter {
public:
  explicit scoped_lock_awaiter(mutex& m) noexcept : m_mutex(&m), m_inner(m, true) {}
  bool await_ready() noexcept { return m_inner.await_ready(); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return m_inner.await_suspend(h);
  }
  mutex_guard await_resume() {
    m_inner.await_resume();
    return mutex_guard{*m_mutex, std::adopt_lock};
  }

private:
  mutex* m_mutex;
  lock_awaiter m_inner;
};

inline mutex::lock_awaiter mutex::lock() noexcept { return lock_awaiter{*this, true}; }
inline mutex::lock_awaiter mutex::lock_uninterruptible() noexcept { return lock_awaiter{*this, false}; }
inline mutex::scoped_lock_awaiter mutex::scoped_lock() noexcept { return scoped_lock_awaiter{*this}; }

inline bool mutex::release() noexcept {
  detail::wake_list wakes; // resumed after m_lock is released
  std::lock_guard g(m_lock);
  // relaxed: guarded by m_lock.
  if (!m_locked.load(std::memory_order_relaxed)) {
    return false;
  }
  if (detail::sync_waiter* next = m_waiters.pop_front()) {
    wakes.grant(next); // ownership passes straight on: m_locked stays true
  } else {
    m_locked.store(false, std::memory_order_relaxed);
  }
  return true;
}

inline void mutex::unlock() {
  if (!release()) {
    throw usage_error("weft::mutex::unlock: mutex is not locked");
  }
}

inline void mutex_guard::reset() noexcept {
  if (m_mutex != nullptr) {
    std::exchange(m_mutex, nullptr)->release();
  }
}

} // namespace weft
