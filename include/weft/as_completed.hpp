#pragma once
// weft::as_completed (asyncio.as_completed).

#include "weft/detail/current_cancellation.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/listener_accounting.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/detail/worker_context.hpp"
#include "weft/errors.hpp"
#include "weft/join_handle.hpp"

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace weft {

/// The range weft::as_completed returns; see there. Not movable: the tasks' listeners
/// point at it.
template <class T>
class as_completed_range {
  static constexpr std::size_t k_empty = static_cast<std::size_t>(-1);

  // One listener per handle (one allocation per as_completed call, for all of them).
  struct node : detail::completion_listener {
    as_completed_range* owner = nullptr;
    std::size_t index = 0;
  };

public:
  class next_awaitable;

  as_completed_range(std::vector<join_handle<T>> handles, std::optional<std::chrono::steady_clock::time_point> deadline)
      : m_handles(std::move(handles)), m_nodes(m_handles.size()),
        m_ready(std::make_unique<std::atomic<std::size_t>[]>(m_handles.size())), m_on_cancel(wake{this}) {
    for (std::size_t i = 0; i < m_handles.size(); ++i) {
      if (!m_handles[i].valid()) {
        throw handle_consumed_error("weft::as_completed of an empty join_handle (moved-from, detached or consumed)");
      }
      // relaxed: published by the release of set_listener() / of the slot stores.
      m_ready[i].store(k_empty, std::memory_order_relaxed);
    }
    if (deadline) {
      if (*deadline <= std::chrono::steady_clock::now()) {
        // relaxed: nothing is waiting yet; the consumer reads it on this thread.
        m_timed_out.store(true, std::memory_order_relaxed);
      } else {
        m_timer_cb.fn = &as_completed_range::deadline_passed;
        m_timer_cb.owner = this;
        m_timer = detail::start_deadline(*deadline, &m_timer_cb);
      }
    }
    // Nothing below throws: once a listener is registered, the destructor must run.
    m_sched = detail::tl_worker != nullptr ? detail::tl_worker->sched : nullptr;
    for (std::size_t i = 0; i < m_handles.size(); ++i) {
      m_nodes[i].on_complete = &as_completed_range::completed;
      m_nodes[i].owner = this;
      m_nodes[i].index = i;
      if (!m_accounting.add(m_handles[i].handle().promise(), m_nodes[i])) {
        publish(i); // already finished
      }
    }
  }
  as_completed_range(const as_completed_range&) = delete;
  as_completed_range& operator=(const as_completed_range&) = delete;

  /// Takes the listeners back; the tasks whose results were not taken keep running,
  /// detached.
  ~as_completed_range() {
    if (m_timer != nullptr) {
      detail::stop_deadline(m_timer);
    }
    for (std::size_t i = 0; i < m_handles.size(); ++i) {
      if (m_handles[i].valid()) {
        m_accounting.remove(m_handles[i].handle().promise(), m_nodes[i]);
      }
    }
    m_accounting.wait_for_notifications();
  }

  /// Awaiting it gives the result of the next task to finish (or rethrows its exception).
  class next_awaitable {
  public:
    explicit next_awaitable(as_completed_range& r) noexcept : m_range(&r) {}

    bool await_ready() const noexcept { return m_range->ready_or_timed_out(); }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
      detail::cancel_state* cancel = detail::cancellation_of(awaiting);
      if (cancel != nullptr && cancel->is_requested()) {
        throw cancelled_error("weft::as_completed: task cancelled");
      }
      m_range->m_on_cancel.install(cancel);
      m_cancel = cancel;
      return m_range->park(awaiting);
    }

    T await_resume() {
      m_range->m_on_cancel.uninstall();
      return m_range->take_next(m_cancel);
    }

  private:
    as_completed_range* m_range;
    detail::cancel_state* m_cancel = nullptr;
  };

  class iterator {
  public:
    using difference_type = std::ptrdiff_t;
    using value_type = next_awaitable;
    iterator() = default;
    iterator(as_completed_range* r, std::size_t i) noexcept : m_range(r), m_index(i) {}
    next_awaitable operator*() const noexcept { return next_awaitable{*m_range}; }
    iterator& operator++() noexcept {
      ++m_index;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++m_index;
      return old;
    }
    bool operator==(const iterator& other) const noexcept { return m_index == other.m_index; }

  private:
    as_completed_range* m_range = nullptr;
    std::size_t m_index = 0;
  };

  iterator begin() noexcept { return iterator{this, 0}; }
  iterator end() noexcept { return iterator{this, m_handles.size()}; }
  [[nodiscard]] std::size_t size() const noexcept { return m_handles.size(); }

private:
  struct wake {
    as_completed_range* self;
    void operator()() const noexcept {
      // seq_cst: as the other wake-up reasons (see wake_consumer()).
      self->m_cancel_woken.store(true, std::memory_order_seq_cst);
      self->wake_consumer();
    }
  };
  struct timer_callback : detail::deadline_callback {
    as_completed_range* owner = nullptr;
  };

  static void completed(detail::completion_listener* self, detail::promise_base&) noexcept {
    node* n = static_cast<node*>(self);
    as_completed_range* r = n->owner;
    r->publish(n->index);
    r->m_accounting.notified(); // last use of *r
  }

  static void deadline_passed(detail::deadline_callback* cb) noexcept {
    as_completed_range* r = static_cast<timer_callback*>(cb)->owner;
    // seq_cst: Dekker pair with park() (flag store, then waiter exchange).
    r->m_timed_out.store(true, std::memory_order_seq_cst);
    r->wake_consumer();
  }

  // Appends index i in completion order and wakes the consumer if it waits for it.
  void publish(std::size_t i) noexcept {
    // relaxed: the position only has to be unique; the slot store below publishes.
    const std::size_t pos = m_write.fetch_add(1, std::memory_order_relaxed);
    // seq_cst: Dekker pair with park(): slot store then read of m_read / the waiter, against
    // the consumer's waiter store then slot read.
    m_ready[pos].store(i, std::memory_order_seq_cst);
    if (pos == m_read.load(std::memory_order_seq_cst)) {
      wake_consumer();
    }
  }

  // Resumes the consumer if what it waits for (its next slot, the deadline or a cancel)
  // is there. A publisher of a later slot may get here first; it then hands the wait back,
  // with the same store-then-check as park(), so the right publisher still finds it.
  void wake_consumer() noexcept {
    // seq_cst: see publish(); whoever takes the waiter decides, exactly once.
    void* w = m_waiter.exchange(nullptr, std::memory_order_seq_cst);
    while (w != nullptr) {
      if (ready_now_seq_cst()) {
        // The park gate: park() may still be running on the consumer's thread; the last of
        // us to pass resumes the consumer (see park()). Nothing of *this is touched after.
        // acq_rel: orders park()'s last reads before the consumer's resumption.
        if (m_park_gate.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          detail::schedule_internal(*m_sched, std::coroutine_handle<>::from_address(w));
        }
        return;
      }
      m_waiter.store(w, std::memory_order_seq_cst);
      if (!ready_now_seq_cst()) {
        return;
      }
      w = m_waiter.exchange(nullptr, std::memory_order_seq_cst);
    }
  }

  bool ready_or_timed_out() const noexcept {
    const std::size_t r = m_read.load(std::memory_order_relaxed); // relaxed: only the consumer writes it
    return (r < m_handles.size() && m_ready[r].load(std::memory_order_acquire) != k_empty) ||
           m_timed_out.load(std::memory_order_acquire) || r >= m_handles.size();
  }

  // Returns false if there is no need to suspend after all. Once the waiter is published
  // a waker may resume the consumer elsewhere, which may then destroy *this; the two-ticket
  // gate keeps that from happening before park() has finished reading.
  bool park(std::coroutine_handle<> awaiting) noexcept {
    if (m_sched == nullptr && detail::tl_worker != nullptr) {
      m_sched = detail::tl_worker->sched;
    }
    // relaxed: published by the seq_cst store of the waiter below.
    m_park_gate.store(2, std::memory_order_relaxed);
    // seq_cst: the consumer's store in the Dekker pair with publish() and deadline_passed().
    m_waiter.store(awaiting.address(), std::memory_order_seq_cst);
    if (ready_now_seq_cst() && m_waiter.exchange(nullptr, std::memory_order_seq_cst) != nullptr) {
      return false; // took the waiter back: nobody else will resume us
    }
    // acq_rel: see wake_consumer().
    return m_park_gate.fetch_sub(1, std::memory_order_acq_rel) != 1;
  }

  bool ready_now_seq_cst() const noexcept {
    // seq_cst: the consumer publishes m_read with seq_cst before it parks again.
    const std::size_t r = m_read.load(std::memory_order_seq_cst);
    return (r < m_handles.size() && m_ready[r].load(std::memory_order_seq_cst) != k_empty) ||
           m_timed_out.load(std::memory_order_seq_cst) || m_cancel_woken.load(std::memory_order_seq_cst);
  }

  T take_next(detail::cancel_state* cancel) {
    const std::size_t r = m_read.load(std::memory_order_relaxed); // relaxed: consumer-owned
    if (r >= m_handles.size()) {
      throw error("weft::as_completed: awaited more results than there are handles");
    }
    // acquire: pairs with the seq_cst store in publish(); the task's result is visible.
    const std::size_t i = m_ready[r].load(std::memory_order_acquire);
    if (i == k_empty) {
      if (cancel != nullptr && cancel->is_requested()) {
        throw cancelled_error("weft::as_completed: task cancelled");
      }
      throw timeout_error("weft::as_completed: timed out");
    }
    // seq_cst: publish() compares its position with this; a store with the Dekker order.
    m_read.store(r + 1, std::memory_order_seq_cst);
    return m_handles[i].take_finished();
  }

  std::vector<join_handle<T>> m_handles;
  std::vector<node> m_nodes;
  std::unique_ptr<std::atomic<std::size_t>[]> m_ready;
  std::atomic<std::size_t> m_write{0};
  std::atomic<std::size_t> m_read{0};
  std::atomic<void*> m_waiter{nullptr};
  std::atomic<int> m_park_gate{2};
  std::atomic<bool> m_timed_out{false};
  std::atomic<bool> m_cancel_woken{false};
  detail::scheduler* m_sched = nullptr;
  detail::listener_accounting m_accounting;
  timer_callback m_timer_cb;
  detail::deadline_op* m_timer = nullptr;
  detail::scoped_cancel_callback<wake> m_on_cancel;
};

/// Yields the results of the tasks behind handles in the order they finish:
/// `for (auto next : weft::as_completed(std::move(hs))) { auto v = co_await next; }`.
///
/// Each handle gets one listener node; a finished task appends its index to a lock-free
/// ready ring in completion order and wakes the consumer if it is waiting for exactly that
/// position. Awaiting `next` takes that task's result (consuming its handle) or rethrows
/// its exception.
/// Throws: handle_consumed_error for an empty handle; on the next await after timeout has
/// passed, timeout_error; cancelled_error if the awaiting task is cancelled.
/// Requires: the range is consumed from one task at a time.
/// asyncio: as_completed(aws, timeout). Handles whose results were not taken (after a
/// timeout, or when the loop is left early) keep running, detached.
template <class T>
[[nodiscard]] as_completed_range<T> as_completed(std::vector<join_handle<T>> handles) {
  return as_completed_range<T>{std::move(handles), std::nullopt};
}

/// As as_completed(handles), with a deadline timeout from now for the whole iteration.
template <class T, class Rep, class Period>
[[nodiscard]] as_completed_range<T> as_completed(std::vector<join_handle<T>> handles,
                                                 std::chrono::duration<Rep, Period> timeout) {
  return as_completed_range<T>{std::move(handles), std::chrono::steady_clock::now() +
                                                       std::chrono::ceil<std::chrono::steady_clock::duration>(timeout)};
}

} // namespace weft
