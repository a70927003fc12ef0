#pragma once
// weft::task<T>: a lazy coroutine task.

#include "weft/detail/task_promise.hpp"
#include "weft/errors.hpp"

#include <coroutine>
#include <utility>

namespace weft {

/// A lazy coroutine that produces a T (void, a reference or a move-only type allowed).
///
/// Nothing runs until the task is awaited (then it runs on the awaiting worker, and the
/// awaiter continues by symmetric transfer when it finishes, so arbitrarily deep chains of
/// awaits use no stack) or spawned (weft::spawn). An exception thrown in the body is
/// rethrown to whoever awaits it.
///
/// Throws: awaiting an empty (moved-from, spawned or already awaited) task throws
/// weft::invalid_task_error.
/// Thread safety: a task is owned by one party at a time; move it to hand it over.
/// asyncio: a coroutine object; `co_await t` is `await coro`.
template <class T = void>
class [[nodiscard]] task {
public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;
  using handle_type = std::coroutine_handle<promise_type>;

  task() noexcept = default;
  task(task&& other) noexcept : m_handle(std::exchange(other.m_handle, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      destroy();
      m_handle = std::exchange(other.m_handle, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { destroy(); }

  /// True if the task holds a coroutine (not moved-from, not spawned).
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(m_handle); }

  /// Awaiting runs the task and consumes it: the result is taken and the frame freed as
  /// the awaiter resumes, and the task is empty from then on (as a Python coroutine
  /// cannot be awaited twice).
  class awaiter {
  public:
    explicit awaiter(task& owner) noexcept : m_owner(owner) {}
    bool await_ready() const {
      if (!m_owner.m_handle) {
        throw invalid_task_error("weft::task awaited while empty (moved-from, spawned or already awaited)");
      }
      return false;
    }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
      const handle_type h = m_owner.m_handle;
      // A lazy task is part of its awaiter's thread of control: it shares its cancellation.
      if (detail::cancel_state* c = detail::cancellation_of(awaiting)) {
        h.promise().share_cancellation(*c);
      }
      h.promise().set_continuation(awaiting);
      return h;
    }
    T await_resume() { return detail::take_result_and_destroy(std::exchange(m_owner.m_handle, {})); }

  private:
    task& m_owner;
  };

  awaiter operator co_await() & noexcept { return awaiter{*this}; }
  awaiter operator co_await() && noexcept { return awaiter{*this}; }

  /// The coroutine, still owned by the task. For weft's combinators.
  [[nodiscard]] handle_type handle() const noexcept { return m_handle; }

  /// Gives up ownership of the coroutine. For the runtime's use.
  [[nodiscard]] handle_type release() noexcept { return std::exchange(m_handle, {}); }

private:
  friend promise_type;
  explicit task(handle_type h) noexcept : m_handle(h) {}

  void destroy() noexcept {
    if (m_handle) {
      m_handle.destroy();
      m_handle = {};
    }
  }

  handle_type m_handle;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}

template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept {
  return task<T&>{std::coroutine_handle<task_promise<T&>>::from_promise(*this)};
}

inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}

} // namespace detail
} // namespace weft
