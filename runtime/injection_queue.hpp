#pragma once
// FIFO of runnable coroutines submitted from outside the pool (other threads, the
// reactor). A ring under a spin lock: outside submission is not the fork-join hot path,
// and the size counter lets idle workers skip the lock when it is empty. The critical
// sections are a few pointer moves; with a mutex, a producer that found a worker holding
// the lock slept on the futex (hundreds of ns to microseconds per submission). Workers
// take items in batches (take_batch), so a producer thread that submits many tasks meets
// a worker on the lock once per batch, not once per task.

#include "weft/detail/spin_lock.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>

namespace weft::detail {

class injection_queue {
public:
  /// Appends item. Throws std::bad_alloc.
  void push(void* item) {
    std::lock_guard lock(m_lock);
    push_locked(item);
  }

  /// Appends item unless close() was called; false if refused. Throws std::bad_alloc.
  bool push_if_open(void* item) {
    std::lock_guard lock(m_lock);
    if (m_closed) {
      return false;
    }
    push_locked(item);
    return true;
  }

  /// From now on push_if_open() refuses (push() still accepts: internal work).
  void close() noexcept {
    std::lock_guard lock(m_lock);
    m_closed = true;
  }

  /// Takes up to max of the oldest items into out (oldest first); returns how many. Callers
  /// first skip an empty queue with size_approx(), so this always takes the lock.
  std::size_t take_batch(void** out, std::size_t max) noexcept {
    std::lock_guard lock(m_lock);
    const std::size_t n = std::min(max, m_items.size());
    std::copy_n(m_items.begin(), n, out);
    m_items.erase(m_items.begin(), m_items.begin() + static_cast<std::ptrdiff_t>(n));
    // relaxed: the lock orders the queue; the counter is only read as a hint or by
    // non_empty() (whose seq_cst pairing is with push's fetch_add).
    m_size.fetch_sub(n, std::memory_order_relaxed);
    return n;
  }

  /// The parking re-check: seq_cst read in the Dekker pair (see push()).
  [[nodiscard]] bool non_empty() const noexcept { return m_size.load(std::memory_order_seq_cst) != 0; }

  /// relaxed: a hint, to skip the lock while the queue is empty; a miss is caught by the
  /// parking re-check, which uses non_empty().
  [[nodiscard]] std::size_t size_approx() const noexcept { return m_size.load(std::memory_order_relaxed); }

private:
  void push_locked(void* item) {
    m_items.push_back(item);
    // seq_cst: the publisher's write in the Dekker pair with event_count::prepare_wait();
    // must be ordered before the caller's notify_one() load of the waiter count.
    m_size.fetch_add(1, std::memory_order_seq_cst);
  }

  spin_lock m_lock;
  std::deque<void*> m_items; // guarded by m_lock
  bool m_closed = false;     // guarded by m_lock
  std::atomic<std::size_t> m_size{0};
};

} // namespace weft::detail
