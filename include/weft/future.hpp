#pragma once
// weft::future<T> (asyncio.Future): a result set once, from any thread, and awaited by any
// number of tasks. The bridge from callback-style code (another thread, a C library's
// completion callback) into weft tasks.

#include "weft/detail/spin_lock.hpp"
#include "weft/detail/sync_waiter.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/errors.hpp"

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace weft {

/// A result that is pending until set_result(), set_exception() or cancel() finishes it,
/// once. Copies share one result, as Python names share one Future object: hand a copy to
/// the code that completes it. Every awaiter gets a copy of the value, so T is void or
/// copy-constructible.
/// Thread safety: every member may be called from any thread, co_await only from a task.
/// asyncio: asyncio.Future (loop.create_future()). add_done_callback has no counterpart:
/// spawn a task that awaits the future instead.
template <class T>
class future {
  static_assert(std::is_void_v<T> || (std::is_copy_constructible_v<T> && !std::is_reference_v<T>),
                "weft::future<T>: every awaiter gets a copy of the result, so T must be void or a "
                "copy-constructible object type");

  enum class status : std::uint8_t { pending, value, exception, cancelled };
  struct empty {};
  using stored = std::conditional_t<std::is_void_v<T>, empty, T>;

  struct state {
    detail::spin_lock lock;
    detail::waiter_fifo waiters; // guarded by lock
    // Written under lock, once; value or exception before it (release), so a reader that
    // sees a final status (acquire) reads them without the lock: they never change again.
    std::atomic<status> st{status::pending};
    std::optional<stored> value;
    std::exception_ptr error;

    status load() const noexcept {
      // acquire: pairs with the release in finish_locked().
      return st.load(std::memory_order_acquire);
    }
    // Under lock: publishes s and grants every waiter (resumed by wakes after unlock).
    void finish_locked(status s, detail::wake_list& wakes) noexcept {
      // release: the value or exception written before is visible with the status.
      st.store(s, std::memory_order_release);
      while (detail::sync_waiter* w = waiters.pop_front()) {
        wakes.grant(w);
      }
    }
    // Under lock: whether the future is still pending.
    bool pending_locked() const noexcept {
      // relaxed: under the lock, which orders every status change.
      return st.load(std::memory_order_relaxed) == status::pending;
    }
    // The status of a finished future; throws for one that is pending or cancelled.
    status finished(const char* what) const {
      const status now = load();
      if (now == status::pending) {
        throw invalid_state_error(std::string(what) + ": the future is still pending");
      }
      if (now == status::cancelled) {
        throw cancelled_error(std::string(what) + ": the future was cancelled");
      }
      return now;
    }
  };

public:
  /// A pending future. Throws: std::bad_alloc.
  future() : m_state(std::make_shared<state>()) {}
  // Copying shares the result (no move: a moved-from future would be empty, so moves copy).
  future(const future&) = default;
  future& operator=(const future&) = default;
  ~future() = default;

  /// Finishes the future with a value (T built from `value`) and wakes every awaiter.
  /// Throws: invalid_state_error if it is finished already (set or cancelled).
  template <class U = T>
    requires(!std::is_void_v<T> && std::is_constructible_v<T, U &&>)
  void set_result(U&& value) {
    if (!try_set_result(std::forward<U>(value))) {
      throw invalid_state_error("weft::future::set_result: the future is already finished");
    }
  }
  void set_result()
    requires std::is_void_v<T>
  {
    if (!try_set_result()) {
      throw invalid_state_error("weft::future::set_result: the future is already finished");
    }
  }
  /// As set_result, but returns false (and changes nothing) if the future is finished:
  /// for completion code that may race a cancel() (asyncio code checks cancelled() first,
  /// which races on threads). Not in asyncio.
  template <class U = T>
    requires(!std::is_void_v<T> && std::is_constructible_v<T, U &&>)
  bool try_set_result(U&& value) {
    stored v(std::forward<U>(value)); // built outside the lock; only a move happens under it
    return finish_with([&](state& s) { s.value.emplace(std::move(v)); }, status::value);
  }
  bool try_set_result()
    requires std::is_void_v<T>
  {
    return finish_with([](state& s) { s.value.emplace(); }, status::value);
  }

  /// Finishes the future with an exception, rethrown to every awaiter.
  /// Throws: std::invalid_argument if e is null; invalid_state_error if finished already.
  void set_exception(std::exception_ptr e) {
    if (!try_set_exception(std::move(e))) {
      throw invalid_state_error("weft::future::set_exception: the future is already finished");
    }
  }
  /// As set_exception, but returns false if the future is finished. Not in asyncio.
  /// Throws: std::invalid_argument if e is null.
  bool try_set_exception(std::exception_ptr e) {
    if (!e) {
      throw std::invalid_argument("weft::future::set_exception: null exception_ptr");
    }
    return finish_with([&](state& s) { s.error = std::move(e); }, status::exception);
  }

  /// Cancels the future if it is pending: every awaiter gets cancelled_error. Returns
  /// false if it was finished already.
  bool cancel() noexcept {
    return finish_with([](state&) noexcept {}, status::cancelled);
  }

  /// True once set or cancelled.
  [[nodiscard]] bool done() const noexcept { return m_state->load() != status::pending; }
  [[nodiscard]] bool cancelled() const noexcept { return m_state->load() == status::cancelled; }

  /// The value (a copy), without waiting.
  /// Throws: the exception it was set with; cancelled_error if cancelled;
  /// invalid_state_error if still pending.
  T result() const { return result_of(*m_state, "weft::future::result"); }

  /// The exception it was set with, or null if it has a value, without waiting.
  /// Throws: cancelled_error if cancelled; invalid_state_error if still pending.
  [[nodiscard]] std::exception_ptr exception() const {
    return m_state->finished("weft::future::exception") == status::exception ? m_state->error : nullptr;
  }

  /// How many tasks wait now (a snapshot, for diagnostics and tests).
  [[nodiscard]] std::size_t waiting() const noexcept { return m_state->waiters.size_snapshot(); }

  class [[nodiscard]] awaiter {
  public:
    explicit awaiter(std::shared_ptr<state> s) noexcept : m_state(std::move(s)), m_op(this, config()) {}
    awaiter(awaiter&& other) noexcept : m_state(std::move(other.m_state)), m_op(this, config()) {}
    awaiter& operator=(awaiter&&) = delete;

    bool await_ready() const noexcept { return m_state->load() != status::pending; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      return m_op.suspend(h, detail::cancellation_of(h));
    }
    T await_resume() {
      m_op.finish();
      return result_of(*m_state, "weft::future: co_await");
    }

  private:
    detail::sync_wait_op::config config() noexcept {
      return {&m_state->lock, &m_state->waiters,
              [](void* self, detail::wake_list&) { return !static_cast<awaiter*>(self)->m_state->pending_locked(); },
              // A task cancelled while it waits cancels the future, as asyncio's
              // Task.cancel() cancels the future its task awaits; under the lock.
              [](void* self, detail::wake_list& wakes) noexcept {
                state& s = *static_cast<awaiter*>(self)->m_state;
                if (s.pending_locked()) {
                  s.finish_locked(status::cancelled, wakes);
                }
              },
              "weft::future: co_await", true};
    }
    std::shared_ptr<state> m_state;
    detail::sync_wait_op m_op;
  };

  /// `co_await f` suspends until the future is finished and gives its value.
  /// Throws: the exception it was set with; cancelled_error if it was cancelled, or if the
  /// awaiting task is cancelled while it waits (which cancels the future, as in asyncio).
  /// Resumes on: a pool worker.
  awaiter operator co_await() const noexcept { return awaiter{m_state}; }

private:
  template <class Fill>
  bool finish_with(Fill&& fill, status s) {
    detail::wake_list wakes; // resumed after lock is released (destroyed after g)
    std::lock_guard g(m_state->lock);
    if (!m_state->pending_locked()) {
      return false;
    }
    fill(*m_state); // a move at most: the value was built outside the lock
    m_state->finish_locked(s, wakes);
    return true;
  }

  static T result_of(const state& s, const char* what) {
    if (s.finished(what) == status::exception) {
      std::rethrow_exception(s.error);
    }
    if constexpr (!std::is_void_v<T>) {
      return *s.value;
    }
  }

  std::shared_ptr<state> m_state;
};

} // namespace weft
