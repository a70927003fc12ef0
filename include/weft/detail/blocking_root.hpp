#pragma once
// The root coroutine of runtime::block_on: awaits the user's task on the pool, stores its
// outcome in a blocking_result that lives on the blocked thread's stack, and signals it.

#include "weft/detail/frame_allocator.hpp"
#include "weft/detail/task_result.hpp"
#include "weft/task.hpp"

#include <condition_variable>
#include <coroutine>
#include <exception>
#include <mutex>
#include <utility>

namespace weft::detail {

template <class T>
class blocking_result {
public:
  /// Blocks until set() or set_exception() has been called.
  void wait() {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return m_ready; });
  }

  template <class... U>
  void set(U&&... v) {
    m_result.set_value(std::forward<U>(v)...);
    signal();
  }
  void set_exception(std::exception_ptr e) noexcept {
    m_result.set_exception(std::move(e));
    signal();
  }

  T take() { return m_result.take(); }

private:
  void signal() noexcept {
    // Notify under the lock: the waiter cannot see m_ready, return and destroy *this
    // before notify_one() is done with m_cv.
    std::lock_guard lock(m_mutex);
    m_ready = true;
    m_cv.notify_one();
  }

  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_ready = false;
  task_result<T> m_result;
};

/// Coroutine type of the root: starts suspended, frees itself when it finishes.
class blocking_root {
public:
  struct promise_type {
    static void* operator new(std::size_t n) { return allocate_frame(n); }
    static void operator delete(void* p, std::size_t n) noexcept { deallocate_frame(p, n); }
    blocking_root get_return_object() noexcept {
      return blocking_root{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    // The body catches everything; nothing can reach here.
    void unhandled_exception() const noexcept { std::terminate(); }
  };

  blocking_root(blocking_root&& other) noexcept : m_handle(std::exchange(other.m_handle, {})) {}
  blocking_root(const blocking_root&) = delete;
  blocking_root& operator=(const blocking_root&) = delete;
  blocking_root& operator=(blocking_root&&) = delete;
  ~blocking_root() {
    if (m_handle) {
      m_handle.destroy();
    }
  }

  [[nodiscard]] std::coroutine_handle<> release() noexcept { return std::exchange(m_handle, {}); }

private:
  explicit blocking_root(std::coroutine_handle<promise_type> h) noexcept : m_handle(h) {}
  std::coroutine_handle<promise_type> m_handle;
};

template <class T>
blocking_root make_blocking_root(task<T> t, blocking_result<T>& out) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
      out.set();
    } else {
      out.set(co_await std::move(t));
    }
  } catch (...) {
    out.set_exception(std::current_exception());
  }
}

} // namespace weft::detail
