#pragma once
// Lets a coroutine body reach its own cancellation state, to install a callback for the
// span of several awaits (combinators written as coroutines use it).

#include "weft/detail/task_promise.hpp"

#include <coroutine>

namespace weft::detail {

/// `co_await current_cancellation()` gives the awaiting task's cancel_state (null outside
/// weft tasks) without suspending.
class current_cancellation {
public:
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
    m_state = cancellation_of(h);
    return false;
  }
  cancel_state* await_resume() const noexcept { return m_state; }

private:
  cancel_state* m_state = nullptr;
};

/// A cancel_callback that calls a member-less function object; installed for a scope.
template <class Fn>
class scoped_cancel_callback : public cancel_callback {
public:
  explicit scoped_cancel_callback(Fn fn) noexcept : m_fn(std::move(fn)) {
    this->fn = [](cancel_callback* self) noexcept { static_cast<scoped_cancel_callback*>(self)->m_fn(); };
  }
  scoped_cancel_callback(const scoped_cancel_callback&) = delete;
  scoped_cancel_callback& operator=(const scoped_cancel_callback&) = delete;
  ~scoped_cancel_callback() { uninstall(); }

  /// Installs on state (null: nothing to do). If cancellation was already requested, runs
  /// the function at once instead.
  void install(cancel_state* state) noexcept {
    if (state == nullptr) {
      return;
    }
    if (state->install(this)) {
      m_state = state;
    } else {
      m_fn();
    }
  }

  void uninstall() noexcept {
    if (m_state != nullptr) {
      m_state->remove(this);
      m_state = nullptr;
    }
  }

private:
  Fn m_fn;
  cancel_state* m_state = nullptr;
};

} // namespace weft::detail
