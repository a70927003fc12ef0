#pragma once
// Bookkeeping for a combinator that registers completion listeners (living in the
// awaiting frame) in the listener slots of several spawned tasks and later takes back the
// ones that have not fired. A completer that took a listener is still running its
// notification when the combinator may want to return; the counts below let the
// combinator wait for exactly those, so no listener is touched after its frame moves on.
//
// Invariant: notifications still to come = registered - taken_back - notified.

#include "weft/detail/task_promise.hpp"

#include <atomic>
#include <cstddef>
#include <thread>

namespace weft::detail {

class listener_accounting {
public:
  /// Registers l on p. Returns false if p's task had already finished.
  bool add(promise_base& p, completion_listener& l) noexcept {
    if (!p.set_listener(&l)) {
      return false;
    }
    ++m_registered;
    return true;
  }

  /// Takes l back from p if it is still there (no-op if it never was, or if it fired).
  void remove(promise_base& p, completion_listener& l) noexcept {
    if (p.take_back_listener(&l)) {
      ++m_taken_back;
    }
  }

  /// For on_complete implementations: call last, after the final use of the combinator.
  void notified() noexcept {
    // release: our last accesses happen before wait_for_notifications() returns.
    m_notified.fetch_add(1, std::memory_order_release);
  }

  /// After remove() on every task: waits until every notification that fired has ended.
  /// Each is a few instructions, so the wait is short and bounded.
  void wait_for_notifications() const noexcept {
    const std::size_t expected = m_registered - m_taken_back;
    // acquire: pairs with notified().
    while (m_notified.load(std::memory_order_acquire) < expected) {
      std::this_thread::yield();
    }
  }

private:
  std::atomic<std::size_t> m_notified{0};
  std::size_t m_registered = 0; // owner only
  std::size_t m_taken_back = 0; // owner only
};

} // namespace weft::detail
