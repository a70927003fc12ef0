#pragma once
// weft::join_handle<T>: the handle to a spawned task (asyncio.Task).

#include "weft/detail/task_promise.hpp"
#include "weft/detail/worker_context.hpp"
#include "weft/errors.hpp"

#include <coroutine>
#include <utility>

namespace weft {

template <class T>
class task;

/// Owns a task that weft::spawn started on the pool; awaiting it gives the task's result.
///
/// Awaiting an unfinished handle on the worker whose deque still holds the task runs the
/// task right there (no atomic read-modify-write on that path); otherwise the awaiter
/// registers a node, living in its own frame, in the task's lock-free waiter list.
///
/// Throws: awaiting rethrows the task's exception; awaiting a handle a second time, or an
/// empty (moved-from, detached) handle, throws weft::handle_consumed_error.
/// Thread safety: one party owns a handle; do not await it from two tasks at once.
/// Resumes on: the worker that finished the task, or the awaiting worker if already done.
/// asyncio: a Task. Dropping a handle detaches the task (it runs on; an exception it
/// raises goes to the runtime's unhandled-exception hook), as dropping the last reference
/// to an asyncio Task does not cancel it.
template <class T>
class [[nodiscard]] join_handle {
public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  join_handle() noexcept = default;
  explicit join_handle(handle_type h) noexcept : m_handle(h) {}
  join_handle(join_handle&& other) noexcept
      : m_handle(std::exchange(other.m_handle, {})), m_consumed(other.m_consumed) {}
  join_handle& operator=(join_handle&& other) noexcept {
    if (this != &other) {
      detach();
      m_handle = std::exchange(other.m_handle, {});
      m_consumed = other.m_consumed;
    }
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  ~join_handle() { detach(); }

  /// True while the handle owns a task whose result has not been taken.
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(m_handle); }

  /// True once the task has finished (with a value or an exception). A task that an
  /// awaiter took back and is running inline reports false until it is awaited.
  [[nodiscard]] bool is_done() const noexcept {
    return m_handle && m_handle.promise().join().is_done();
  }

  /// Lets the task run on without an owner; it frees itself when it finishes. An
  /// exception it ends with goes to the runtime's unhandled-exception hook. No-op on an
  /// empty handle.
  void detach() noexcept {
    handle_type h = std::exchange(m_handle, {});
    if (!h) {
      return;
    }
    const std::uintptr_t prev = h.promise().join().detach();
    if (prev & detail::join_state::k_done) {
      if (h.promise().result().has_exception()) {
        detail::report_unhandled_exception(h.promise().result().exception());
      }
      h.destroy();
    }
  }

  class awaiter {
  public:
    explicit awaiter(join_handle& owner) noexcept : m_owner(owner) {}

    bool await_ready() const {
      if (!m_owner.m_handle) {
        throw handle_consumed_error(m_owner.m_consumed
                                        ? "weft::join_handle awaited twice (its result was already taken)"
                                        : "weft::join_handle awaited while empty (moved-from or detached)");
      }
      return m_owner.m_handle.promise().join().is_done();
    }

    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      const handle_type child = m_owner.m_handle;
      if (detail::worker_context* w = detail::tl_worker) {
        // Fast path: the task is still the newest item on our own deque. Take it back and
        // run it inline with us as its continuation; nobody else can reach it now.
        void* item = w->deque.peek_bottom();
        if (item == child.address() && w->deque.pop(item)) {
          WEFT_ASSERT(item == child.address());
          child.promise().set_continuation(awaiting);
          return child;
        }
      }
      m_node.handle = awaiting;
      if (child.promise().join().try_add_waiter(&m_node)) {
        return std::noop_coroutine();
      }
      return awaiting; // finished while we registered: continue at once
    }

    T await_resume() {
      const handle_type h = std::exchange(m_owner.m_handle, {});
      m_owner.m_consumed = true;
      struct frame_guard {
        handle_type h;
        ~frame_guard() { h.destroy(); }
      } guard{h};
      return h.promise().result().take();
    }

  private:
    join_handle& m_owner;
    detail::waiter_node m_node;
  };

  awaiter operator co_await() & noexcept { return awaiter{*this}; }
  awaiter operator co_await() && noexcept { return awaiter{*this}; }

private:
  handle_type m_handle;
  bool m_consumed = false;
};

} // namespace weft
