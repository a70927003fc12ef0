#pragma once
// Completion state of a spawned task: one atomic word holding a "done" bit, a "detached"
// bit and the head of an intrusive, lock-free list of waiter nodes. The nodes live in the
// awaiting frames, so waiting allocates nothing.
//
// Protocol (docs/design.md, "Joining a spawned task"):
// - A waiter pushes its node with a CAS unless the done bit is set, in which case it does
//   not suspend.
// - The task, when it finishes, sets the done bit with one fetch_or and so takes the whole
//   list; it resumes every node on it. No node is added after that.
// - detach() sets the detached bit; whichever of detach() and completion comes second
//   destroys the frame.

#include "weft/detail/config.hpp"

#include <atomic>
#include <coroutine>
#include <cstdint>

namespace weft::detail {

struct alignas(8) waiter_node { // 8-aligned: the low bits of the word are flags
  waiter_node* next = nullptr;
  std::coroutine_handle<> handle;
};

class join_state {
public:
  static constexpr std::uintptr_t k_done = 1;
  static constexpr std::uintptr_t k_detached = 2;
  static constexpr std::uintptr_t k_flags = 3;

  [[nodiscard]] bool is_done() const noexcept {
    // acquire: pairs with the release of complete(), so the result is visible.
    return (m_word.load(std::memory_order_acquire) & k_done) != 0;
  }

  /// Whether anything was ever written to the word: the done bit, or a waiter that
  /// registered (done() on the handle). After a task that its joiner took back and ran
  /// inline finished through its continuation (without complete()), a nonzero word means
  /// waiters still to wake (wake_unwoken_waiters); one test on the joiner's fast path.
  [[nodiscard]] bool touched() const noexcept {
    // relaxed: read after the task ended, on the thread it ended on; a registration that
    // happened before that is seen (coherence), and complete() then acquires the nodes'
    // fields. One that races the end races the joiner's freeing of the task, which
    // done()'s contract forbids.
    return m_word.load(std::memory_order_relaxed) != 0;
  }

  /// Adds node to the waiters; false if the task is already done (then node is unused).
  bool try_add_waiter(waiter_node* node) noexcept {
    // acquire: if we see done, the result written before complete() is visible.
    std::uintptr_t word = m_word.load(std::memory_order_acquire);
    for (;;) {
      if (word & k_done) {
        return false;
      }
      node->next = reinterpret_cast<waiter_node*>(word & ~k_flags);
      // release on success: publishes node's fields to complete(), which acquires.
      // acquire on failure: as for the first load.
      if (m_word.compare_exchange_weak(word, reinterpret_cast<std::uintptr_t>(node) | (word & k_flags),
                                       std::memory_order_release, std::memory_order_acquire)) {
        return true;
      }
    }
  }

  /// Marks the task done. Returns the previous word: its waiter list and flags.
  std::uintptr_t complete() noexcept {
    // acq_rel: release publishes the result to waiters and to detach(); acquire makes the
    // pushed nodes' fields visible to us.
    return m_word.fetch_or(k_done, std::memory_order_acq_rel);
  }

  /// Marks the task detached. Returns the previous word (done bit: destroy now).
  std::uintptr_t detach() noexcept {
    // acq_rel: acquire sees the result (for reporting an exception) if done; release
    // orders our last use of the handle before the task's self-destruction.
    return m_word.fetch_or(k_detached, std::memory_order_acq_rel);
  }

  static waiter_node* list_of(std::uintptr_t word) noexcept {
    return reinterpret_cast<waiter_node*>(word & ~k_flags);
  }

private:
  std::atomic<std::uintptr_t> m_word{0};
};

} // namespace weft::detail
