#pragma once
// weft::queue<T> (asyncio.Queue): a FIFO queue between tasks, bounded or not.

#include "weft/detail/sync_waiter.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/errors.hpp"

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace weft {

/// A first-in first-out queue for tasks. put() suspends while a bounded queue is full,
/// get() while it is empty; both serve their waiters in arrival order, and an item put
/// while getters wait goes straight to the first of them.
/// Requires: T is nothrow-move-constructible (items move under the queue's lock).
/// Thread safety: any thread; put(), get() and join() only from a task.
/// Cancellation: a cancelled put() leaves its item out of the queue; a cancelled get()
/// takes none. An item handed to a getter is never lost, even if the getter is cancelled
/// at that moment: it receives the item and sees the cancellation at its next suspension.
/// asyncio: asyncio.Queue (try_put/try_get for put_nowait/get_nowait, which report
/// failure in their result instead of raising QueueFull/QueueEmpty).
template <class T>
class queue {
  static_assert(std::is_nothrow_move_constructible_v<T>, "weft::queue<T> needs a nothrow-movable T");

public:
  /// maxsize 0: unbounded.
  explicit queue(std::size_t maxsize = 0) noexcept : m_maxsize(maxsize) {}
  queue(const queue&) = delete;
  queue& operator=(const queue&) = delete;
  ~queue() = default;

  class [[nodiscard]] put_awaiter;
  class [[nodiscard]] get_awaiter;
  class [[nodiscard]] join_awaiter;

  /// `co_await q.put(v)`: appends v, suspending while the queue is full.
  /// Throws: cancelled_error if cancelled while waiting (v is then not in the queue).
  put_awaiter put(T value) { return put_awaiter{*this, std::move(value)}; }
  /// `T v = co_await q.get()`: removes the oldest item, suspending while there is none.
  /// Throws: cancelled_error if cancelled while waiting (no item is taken).
  get_awaiter get() noexcept { return get_awaiter{*this}; }
  /// `co_await q.join()`: suspends until every item put has been marked task_done().
  join_awaiter join() noexcept { return join_awaiter{*this}; }

  /// Appends value if there is room (or a getter waits); on failure value is untouched.
  [[nodiscard]] bool try_put(T&& value) {
    detail::wake_list wakes;
    std::lock_guard g(m_lock);
    return put_locked(value, wakes);
  }
  [[nodiscard]] bool try_put(const T& value) {
    T copy(value);
    return try_put(std::move(copy));
  }
  /// Removes the oldest item if there is one.
  [[nodiscard]] std::optional<T> try_get() {
    detail::wake_list wakes;
    std::lock_guard g(m_lock);
    std::optional<T> out;
    get_locked(out, wakes);
    return out;
  }

  /// Marks one item taken by get() as processed; join() returns once all are.
  /// Throws: usage_error if called more often than items were put.
  void task_done() {
    detail::wake_list wakes;
    std::lock_guard g(m_lock);
    if (m_unfinished == 0) {
      throw usage_error("weft::queue::task_done: called more times than items were put");
    }
    if (--m_unfinished == 0) {
      while (detail::sync_waiter* w = m_joiners.pop_front()) {
        wakes.grant(w);
      }
    }
  }

  /// Snapshots.
  [[nodiscard]] std::size_t size() const noexcept {
    // relaxed: a snapshot; changes are made under m_lock.
    return m_size.load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] bool full() const noexcept { return m_maxsize != 0 && size() >= m_maxsize; }
  [[nodiscard]] std::size_t maxsize() const noexcept { return m_maxsize; }
  /// Tasks waiting in get() / put() now (snapshots, for diagnostics and tests).
  [[nodiscard]] std::size_t waiting_getters() const noexcept { return m_getters.size_snapshot(); }
  [[nodiscard]] std::size_t waiting_putters() const noexcept { return m_putters.size_snapshot(); }

private:
  // Under m_lock. Moves from value only on success.
  bool put_locked(T& value, detail::wake_list& wakes) {
    if (detail::sync_waiter* getter = m_getters.pop_front()) {
      static_cast<get_awaiter*>(getter->owner)->m_item.emplace(std::move(value));
      wakes.grant(getter);
    } else if (m_maxsize == 0 || m_items.size() < m_maxsize) {
      m_items.push_back(std::move(value)); // may throw bad_alloc: then nothing changed
      publish_size();
    } else {
      return false;
    }
    ++m_unfinished;
    return true;
  }

  // Under m_lock. On an exception (bad_alloc) nothing changed.
  bool get_locked(std::optional<T>& out, detail::wake_list& wakes) {
    if (m_items.empty()) {
      return false;
    }
    // The room this get frees goes to the first waiting putter; append its item first, so
    // that running out of memory leaves the queue as it was.
    if (detail::sync_waiter* putter = m_putters.front()) {
      m_items.push_back(std::move(*static_cast<put_awaiter*>(putter->owner)->m_item));
      m_putters.pop_front();
      ++m_unfinished;
      wakes.grant(putter);
    }
    out.emplace(std::move(m_items.front()));
    m_items.pop_front();
    publish_size();
    return true;
  }

  void publish_size() noexcept {
    // relaxed: snapshot for size(); see there.
    m_size.store(m_items.size(), std::memory_order_relaxed);
  }

  const std::size_t m_maxsize;
  detail::spin_lock m_lock;
  std::deque<T> m_items;              // guarded by m_lock
  detail::waiter_fifo m_getters;      // guarded by m_lock
  detail::waiter_fifo m_putters;      // guarded by m_lock
  detail::waiter_fifo m_joiners;      // guarded by m_lock
  std::size_t m_unfinished = 0;       // guarded by m_lock
  std::atomic<std::size_t> m_size{0}; // written under m_lock
};

template <class T>
class queue<T>::put_awaiter {
public:
  put_awaiter(queue& q, T&& value) noexcept : m_queue(&q), m_item(std::move(value)), m_op(this, config(q)) {}
  put_awaiter(put_awaiter&& other) noexcept
      : m_queue(other.m_queue), m_item(std::move(other.m_item)), m_op(this, config(*m_queue)) {}
  put_awaiter& operator=(put_awaiter&&) = delete;

  bool await_ready() {
    detail::wake_list wakes;
    std::lock_guard g(m_queue->m_lock);
    return m_queue->m_putters.empty() && m_queue->put_locked(*m_item, wakes);
  }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return m_op.suspend(h, detail::cancellation_of(h));
  }
  void await_resume() { m_op.finish(); }

private:
  friend class queue;
  static detail::sync_wait_op::config config(queue& q) noexcept {
    return {&q.m_lock, &q.m_putters,
            [](void* self, detail::wake_list& wakes) {
              auto* me = static_cast<put_awaiter*>(self);
              return me->m_queue->put_locked(*me->m_item, wakes);
            },
            nullptr, "weft::queue::put", true};
  }
  queue* m_queue;
  std::optional<T> m_item; // moved into the queue (or to a getter) when granted
  detail::sync_wait_op m_op;
};

template <class T>
class queue<T>::get_awaiter {
public:
  explicit get_awaiter(queue& q) noexcept : m_queue(&q), m_op(this, config(q)) {}
  get_awaiter(get_awaiter&& other) noexcept : m_queue(other.m_queue), m_op(this, config(*m_queue)) {}
  get_awaiter& operator=(get_awaiter&&) = delete;

  bool await_ready() {
    detail::wake_list wakes;
    std::lock_guard g(m_queue->m_lock);
    return m_queue->get_locked(m_item, wakes);
  }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return m_op.suspend(h, detail::cancellation_of(h));
  }
  T await_resume() {
    m_op.finish();
    return std::move(*m_item);
  }

private:
  friend class queue;
  static detail::sync_wait_op::config config(queue& q) noexcept {
    return {&q.m_lock, &q.m_getters,
            [](void* self, detail::wake_list& wakes) {
              auto* me = static_cast<get_awaiter*>(self);
              return me->m_queue->get_locked(me->m_item, wakes);
            },
            nullptr, "weft::queue::get", true};
  }
  queue* m_queue;
  std::optional<T> m_item; // filled under the lock before the grant
  detail::sync_wait_op m_op;
};

template <class T>
class queue<T>::join_awaiter {
public:
  explicit join_awaiter(queue& q) noexcept : m_queue(&q), m_op(this, config(q)) {}
  join_awaiter(join_awaiter&& other) noexcept : m_queue(other.m_queue), m_op(this, config(*m_queue)) {}
  join_awaiter& operator=(join_awaiter&&) = delete;

  bool await_ready() {
    std::lock_guard g(m_queue->m_lock);
    return m_queue->m_unfinished == 0;
  }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return m_op.suspend(h, detail::cancellation_of(h));
  }
  void await_resume() { m_op.finish(); }

private:
  static detail::sync_wait_op::config config(queue& q) noexcept {
    return {&q.m_lock, &q.m_joiners,
            [](void* self, detail::wake_list&) { return static_cast<join_awaiter*>(self)->m_queue->m_unfinished == 0; },
            nullptr, "weft::queue::join", true};
  }
  queue* m_queue;
  detail::sync_wait_op m_op;
};

} // namespace weft
