#pragma once
// weft::barrier (asyncio.Barrier): tasks wait until `parties` of them have arrived.

#include "weft/detail/sync_waiter.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/errors.hpp"

#include <coroutine>
#include <cstddef>
#include <limits>
#include <mutex>

namespace weft {

/// A cyclic barrier: the parties-th arrival releases everyone waiting, and the barrier is
/// ready for the next round.
/// Thread safety: any thread; wait() only from a task.
/// asyncio: asyncio.Barrier (abort(), reset(), broken_barrier_error for BrokenBarrierError).
class barrier {
public:
  /// Throws: usage_error if parties is 0 or above max_parties() (as a negative count
  /// converts to).
  explicit barrier(std::size_t parties) : m_parties(parties) {
    if (parties == 0 || parties > max_parties()) {
      throw usage_error("weft::barrier: parties must be between 1 and max_parties() (a negative count?)");
    }
  }
  static constexpr std::size_t max_parties() noexcept { return std::numeric_limits<std::size_t>::max() / 2; }
  barrier(const barrier&) = delete;
  barrier& operator=(const barrier&) = delete;
  ~barrier() = default;

  class [[nodiscard]] wait_awaiter {
  public:
    explicit wait_awaiter(barrier& b) noexcept : m_barrier(&b), m_op(this, config(b)) {}
    wait_awaiter(wait_awaiter&& other) noexcept : m_barrier(other.m_barrier), m_op(this, config(*m_barrier)) {}
    wait_awaiter& operator=(wait_awaiter&&) = delete;

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      return m_op.suspend(h, detail::cancellation_of(h));
    }
    std::size_t await_resume() {
      m_op.finish();
      if (m_broken) {
        throw broken_barrier_error();
      }
      return m_index;
    }

  private:
    static detail::sync_wait_op::config config(barrier& b) noexcept {
      return {&b.m_lock, &b.m_waiters,
              [](void* self, detail::wake_list& wakes) { return static_cast<wait_awaiter*>(self)->arrive(wakes); },
              [](void* self, detail::wake_list&) noexcept { --static_cast<wait_awaiter*>(self)->m_barrier->m_count; },
              "weft::barrier::wait", true};
    }
    // Under the barrier's lock.
    bool arrive(detail::wake_list& wakes) noexcept {
      barrier& b = *m_barrier;
      if (b.m_broken) {
        m_broken = true;
        return true;
      }
      m_index = b.m_count++;
      if (b.m_count < b.m_parties) {
        return false; // wait for the others
      }
      b.m_count = 0; // the next round starts empty
      while (detail::sync_waiter* w = b.m_waiters.pop_front()) {
        wakes.grant(w);
      }
      return true;
    }
    friend class barrier;
    barrier* m_barrier;
    std::size_t m_index = 0; // written under the lock before the grant
    bool m_broken = false;   // written under the lock before the grant
    detail::sync_wait_op m_op;
  };

  /// `auto i = co_await b.wait()`: suspends until parties tasks wait; gives this task's
  /// arrival index, 0 to parties - 1.
  /// Throws: broken_barrier_error if the barrier is or becomes broken; cancelled_error if
  /// the task is cancelled while waiting (it then no longer counts as arrived).
  /// Resumes on: a pool worker.
  wait_awaiter wait() noexcept { return wait_awaiter{*this}; }

  /// Breaks the barrier: current and future waiters get broken_barrier_error until reset().
  void abort() noexcept { break_all(true); }
  /// Returns to the empty state; tasks waiting now get broken_barrier_error.
  void reset() noexcept { break_all(false); }

  [[nodiscard]] std::size_t parties() const noexcept { return m_parties; }
  [[nodiscard]] bool broken() noexcept {
    std::lock_guard g(m_lock);
    return m_broken;
  }
  /// How many tasks wait now (asyncio: n_waiting).
  [[nodiscard]] std::size_t n_waiting() noexcept {
    std::lock_guard g(m_lock);
    return m_count;
  }

private:
  void break_all(bool stay_broken) noexcept {
    detail::wake_list wakes; // resumed after m_lock is released
    std::lock_guard g(m_lock);
    while (detail::sync_waiter* w = m_waiters.pop_front()) {
      static_cast<wait_awaiter*>(w->owner)->m_broken = true;
      wakes.grant(w);
    }
    m_count = 0;
    m_broken = stay_broken;
  }

  const std::size_t m_parties;
  detail::spin_lock m_lock;
  detail::waiter_fifo m_waiters; // guarded by m_lock
  std::size_t m_count = 0;       // arrivals this round; guarded by m_lock
  bool m_broken = false;         // guarded by m_lock
};

} // namespace weft
