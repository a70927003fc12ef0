#pragma once
// FIFO of runnable coroutines submitted from outside the pool (other threads, the
// reactor). A mutex-protected ring: outside submission is not the fork-join hot path,
// and the size counter lets idle workers skip the lock when it is empty.

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>

namespace weft::detail {

class injection_queue {
public:
  /// Appends item. Throws std::bad_alloc.
  void push(void* item) {
    std::lock_guard lock(m_mutex);
    m_items.push_back(item);
    // seq_cst: the publisher's write in the Dekker pair with event_count::prepare_wait();
    // must be ordered before the caller's notify_one() load of the waiter count.
    m_size.fetch_add(1, std::memory_order_seq_cst);
  }

  /// Takes the oldest item, or null if there is none.
  void* try_pop() noexcept {
    // relaxed: a hint to skip the lock; a miss is caught by the parking re-check, which
    // uses non_empty().
    if (m_size.load(std::memory_order_relaxed) == 0) {
      return nullptr;
    }
    std::lock_guard lock(m_mutex);
    if (m_items.empty()) {
      return nullptr;
    }
    void* item = m_items.front();
    m_items.pop_front();
    // relaxed: the mutex orders the queue; the counter is only read as a hint or by
    // non_empty() (whose seq_cst pairing is with push's fetch_add).
    m_size.fetch_sub(1, std::memory_order_relaxed);
    return item;
  }

  /// The parking re-check: seq_cst read in the Dekker pair (see push()).
  [[nodiscard]] bool non_empty() const noexcept { return m_size.load(std::memory_order_seq_cst) != 0; }

  [[nodiscard]] std::size_t size_approx() const noexcept { return m_size.load(std::memory_order_relaxed); }

private:
  std::mutex m_mutex;
  std::deque<void*> m_items;
  std::atomic<std::size_t> m_size{0};
};

} // namespace weft::detail
