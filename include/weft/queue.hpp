#pragma once
// weft::queue<T> (asyncio.Queue), weft::lifo_queue<T> (asyncio.LifoQueue) and
// weft::priority_queue<T> (asyncio.PriorityQueue): queues between tasks, bounded or not.

#include "weft/detail/sync_waiter.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/errors.hpp"

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace weft {

namespace detail {

// Item stores: the order in which a queue hands its items out. Each offers push (strong
// guarantee), take (the next item; nothrow, never called when empty) and exchange (take
// the next item and push another in one step, strong guarantee: what a get does when a
// putter waits for the room it frees).

template <class T>
class fifo_store {
public:
  static constexpr const char* k_put = "weft::queue::put";
  static constexpr const char* k_get = "weft::queue::get";
  static constexpr const char* k_join = "weft::queue::join";

  [[nodiscard]] bool empty() const noexcept { return m_items.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return m_items.size(); }
  void push(T&& v) { m_items.push_back(std::move(v)); }
  T take() noexcept {
    T v(std::move(m_items.front()));
    m_items.pop_front();
    return v;
  }
  T exchange(T&& incoming) {
    // The incoming item goes behind the others, so appending first takes the same item
    // and leaves everything as it was if the append throws.
    m_items.push_back(std::move(incoming));
    return take();
  }

private:
  std::deque<T> m_items;
};

// The orders kept in a vector, where the next item is the last one: the newest, or the
// smallest under Compare once the vector is a heap.
struct newest_first {
  static constexpr const char* k_put = "weft::lifo_queue::put";
  static constexpr const char* k_get = "weft::lifo_queue::get";
  static constexpr const char* k_join = "weft::lifo_queue::join";
  template <class V>
  static void pushed(V&) noexcept {}
  template <class V>
  static void before_take(V&) noexcept {}
};

// Equal items come out in no set order. Compare must not throw.
template <class Compare>
struct smallest_first {
  static constexpr const char* k_put = "weft::priority_queue::put";
  static constexpr const char* k_get = "weft::priority_queue::get";
  static constexpr const char* k_join = "weft::priority_queue::join";
  template <class V>
  static void pushed(V& items) noexcept {
    std::push_heap(items.begin(), items.end(), greater<typename V::value_type>);
  }
  template <class V>
  static void before_take(V& items) noexcept {
    std::pop_heap(items.begin(), items.end(), greater<typename V::value_type>);
  }

private:
  // The standard heap keeps its largest element on top; reversed, the smallest.
  template <class T>
  static bool greater(const T& a, const T& b) {
    return Compare{}(b, a);
  }
};

template <class T, class Order>
class vector_store : public Order {
public:
  [[nodiscard]] bool empty() const noexcept { return m_items.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return m_items.size(); }
  void push(T&& v) {
    m_items.push_back(std::move(v));
    Order::pushed(m_items);
  }
  T take() noexcept {
    Order::before_take(m_items);
    T v(std::move(m_items.back()));
    m_items.pop_back();
    return v;
  }
  T exchange(T&& incoming) {
    m_items.reserve(m_items.size() + 1); // the only step that may throw
    T v = take();
    push(std::move(incoming));
    return v;
  }

private:
  std::vector<T> m_items;
};

} // namespace detail

/// A queue for tasks; Store sets the order of items (use the aliases queue, lifo_queue and
/// priority_queue below). put() suspends while a bounded queue is full, get() while it is
/// empty; both serve their waiters in arrival order, and an item put while getters wait
/// goes straight to the first of them.
/// Requires: T is nothrow-move-constructible (items move under the queue's lock).
/// Thread safety: any thread; put(), get() and join() only from a task.
/// Cancellation: a cancelled put() leaves its item out of the queue; a cancelled get()
/// takes none. An item handed to a getter is never lost, even if the getter is cancelled
/// at that moment: it receives the item and sees the cancellation at its next suspension.
/// asyncio: asyncio.Queue (try_put/try_get for put_nowait/get_nowait, which report
/// failure in their result instead of raising QueueFull/QueueEmpty).
template <class T, class Store>
class basic_queue {
  static_assert(std::is_nothrow_move_constructible_v<T>, "weft::queue<T> needs a nothrow-movable T");

public:
  /// maxsize 0: unbounded.
  explicit basic_queue(std::size_t maxsize = 0) noexcept : m_maxsize(maxsize) {}
  basic_queue(const basic_queue&) = delete;
  basic_queue& operator=(const basic_queue&) = delete;
  ~basic_queue() = default;

  class [[nodiscard]] put_awaiter;
  class [[nodiscard]] get_awaiter;
  class [[nodiscard]] join_awaiter;

  /// `co_await q.put(v)`: appends v, suspending while the queue is full.
  /// Throws: cancelled_error if cancelled while waiting (v is then not in the queue).
  put_awaiter put(T value) { return put_awaiter{*this, std::move(value)}; }
  /// `T v = co_await q.get()`: removes the next item (the oldest in a queue, the newest in
  /// a lifo_queue, the smallest in a priority_queue), suspending while there is none.
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
  /// Removes the next item if there is one.
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
      m_items.push(std::move(value)); // may throw bad_alloc: then nothing changed
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
    // The room this get frees goes to the first waiting putter, in one step with the take
    // (as asyncio, the getter gets an item that was in the queue before the putter's), so
    // that running out of memory leaves the queue as it was.
    if (detail::sync_waiter* putter = m_putters.front()) {
      out.emplace(m_items.exchange(std::move(*static_cast<put_awaiter*>(putter->owner)->m_item)));
      m_putters.pop_front();
      ++m_unfinished;
      wakes.grant(putter);
    } else {
      out.emplace(m_items.take());
    }
    publish_size();
    return true;
  }

  void publish_size() noexcept {
    // relaxed: snapshot for size(); see there.
    m_size.store(m_items.size(), std::memory_order_relaxed);
  }

  const std::size_t m_maxsize;
  detail::spin_lock m_lock;
  Store m_items;                      // guarded by m_lock
  detail::waiter_fifo m_getters;      // guarded by m_lock
  detail::waiter_fifo m_putters;      // guarded by m_lock
  detail::waiter_fifo m_joiners;      // guarded by m_lock
  std::size_t m_unfinished = 0;       // guarded by m_lock
  std::atomic<std::size_t> m_size{0}; // written under m_lock
};

/// A first-in first-out queue (asyncio.Queue).
template <class T>
using queue = basic_queue<T, detail::fifo_store<T>>;

/// A last-in first-out queue (asyncio.LifoQueue): get() takes the newest item.
template <class T>
using lifo_queue = basic_queue<T, detail::vector_store<T, detail::newest_first>>;

/// A priority queue (asyncio.PriorityQueue): get() takes the smallest item under Compare
/// (a default-constructed Compare is used). Equal items come out in no set order; put
/// (priority, sequence number) pairs for first-in first-out among equals, as in asyncio.
template <class T, class Compare = std::less<T>>
using priority_queue = basic_queue<T, detail::vector_store<T, detail::smallest_first<Compare>>>;

template <class T, class Store>
class basic_queue<T, Store>::put_awaiter {
public:
  put_awaiter(basic_queue& q, T&& value) noexcept : m_queue(&q), m_item(std::move(value)), m_op(this, config(q)) {}
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
  friend class basic_queue;
  static detail::sync_wait_op::config config(basic_queue& q) noexcept {
    return {&q.m_lock, &q.m_putters,
            [](void* self, detail::wake_list& wakes) {
              auto* me = static_cast<put_awaiter*>(self);
              return me->m_queue->put_locked(*me->m_item, wakes);
            },
            nullptr, Store::k_put, true};
  }
  basic_queue* m_queue;
  std::optional<T> m_item; // moved into the queue (or to a getter) when granted
  detail::sync_wait_op m_op;
};

template <class T, class Store>
class basic_queue<T, Store>::get_awaiter {
public:
  explicit get_awaiter(basic_queue& q) noexcept : m_queue(&q), m_op(this, config(q)) {}
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
  friend class basic_queue;
  static detail::sync_wait_op::config config(basic_queue& q) noexcept {
    return {&q.m_lock, &q.m_getters,
            [](void* self, detail::wake_list& wakes) {
              auto* me = static_cast<get_awaiter*>(self);
              return me->m_queue->get_locked(me->m_item, wakes);
            },
            nullptr, Store::k_get, true};
  }
  basic_queue* m_queue;
  std::optional<T> m_item; // filled under the lock before the grant
  detail::sync_wait_op m_op;
};

template <class T, class Store>
class basic_queue<T, Store>::join_awaiter {
public:
  explicit join_awaiter(basic_queue& q) noexcept : m_queue(&q), m_op(this, config(q)) {}
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
  static detail::sync_wait_op::config config(basic_queue& q) noexcept {
    return {&q.m_lock, &q.m_joiners,
            [](void* self, detail::wake_list&) { return static_cast<join_awaiter*>(self)->m_queue->m_unfinished == 0; },
            nullptr, Store::k_join, true};
  }
  basic_queue* m_queue;
  detail::sync_wait_op m_op;
};

} // namespace weft
