#pragma once
// Waiting on a synchronisation primitive (mutex, semaphore, event, condition, barrier,
// queue): an intrusive FIFO of waiter nodes that live in the awaiting frames, guarded by
// the primitive's spin_lock, and the awaiter protocol every primitive shares.
//
// Why a lock and not a lock-free list (as join handles use): FIFO fairness and removing a
// cancelled waiter from the middle of the queue both need a consistent view of the whole
// list; the critical sections are a few pointer updates. No allocation per wait.
//
// Protocol (docs/design.md, "Synchronisation primitives"), all under the primitive's lock:
// - a waiter is idle, then queued, then either granted (by the primitive: it now owns
//   what it waited for) or cancelled (by its task's cancellation or by shutdown);
// - only the thread that moves a waiter out of queued resumes it, after unlocking, so it
//   is resumed exactly once; a grant is never undone, so a late cancellation can lose
//   neither a wake-up nor an item (the task sees it at its next suspension point);
// - a cancellation that arrives before the waiter is queued marks it cancelled, and the
//   awaiter then does not suspend.

#include "weft/detail/cancel_state.hpp"
#include "weft/detail/pending_op.hpp"
#include "weft/detail/spin_lock.hpp"

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace weft::detail {

struct sync_waiter {
  enum class state : std::uint8_t { idle, queued, granted, cancelled };

  sync_waiter* prev = nullptr; // guarded by the primitive's lock
  sync_waiter* next = nullptr; // guarded by the primitive's lock; a wake_list link after
  state status = state::idle;  // guarded by the primitive's lock
  void* owner = nullptr;       // the awaiter this node belongs to (for primitive data)
  std::coroutine_handle<> handle;
  scheduler* sched = nullptr;
};

/// Intrusive doubly linked FIFO of waiters. Not thread-safe: guarded by its owner's lock.
class waiter_fifo {
public:
  [[nodiscard]] bool empty() const noexcept { return m_head == nullptr; }
  [[nodiscard]] sync_waiter* front() const noexcept { return m_head; }
  /// How many wait; readable without the lock (a snapshot for diagnostics and tests).
  [[nodiscard]] std::size_t size_snapshot() const noexcept {
    // relaxed: a snapshot; written under the owner's lock.
    return m_size.load(std::memory_order_relaxed);
  }

  void push_back(sync_waiter* w) noexcept {
    w->next = nullptr;
    w->prev = m_tail;
    if (m_tail != nullptr) {
      m_tail->next = w;
    } else {
      m_head = w;
    }
    m_tail = w;
    // relaxed: see size_snapshot().
    m_size.store(m_size.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  sync_waiter* pop_front() noexcept {
    sync_waiter* w = m_head;
    if (w != nullptr) {
      remove(w);
    }
    return w;
  }

  void remove(sync_waiter* w) noexcept {
    (w->prev != nullptr ? w->prev->next : m_head) = w->next;
    (w->next != nullptr ? w->next->prev : m_tail) = w->prev;
    w->prev = nullptr;
    w->next = nullptr;
    // relaxed: see size_snapshot().
    m_size.store(m_size.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }

private:
  sync_waiter* m_head = nullptr;
  sync_waiter* m_tail = nullptr;
  std::atomic<std::size_t> m_size{0}; // written under the owner's lock
};

/// Waiters granted under a lock, resumed after it is released.
class wake_list {
public:
  wake_list() noexcept = default;
  wake_list(const wake_list&) = delete;
  wake_list& operator=(const wake_list&) = delete;
  ~wake_list() { resume_all(); }

  /// Marks w granted (under the lock) and queues it for resumption.
  void grant(sync_waiter* w) noexcept {
    w->status = sync_waiter::state::granted;
    w->next = nullptr;
    (m_tail != nullptr ? m_tail->next : m_head) = w;
    m_tail = w;
  }

  /// Resumes every granted waiter. Call with the lock released.
  void resume_all() noexcept;

private:
  sync_waiter* m_head = nullptr;
  sync_waiter* m_tail = nullptr;
};

/// The part of a primitive's awaiter that queues, cancels and resumes. Lives in the
/// awaiting frame; movable only before it is awaited.
class sync_wait_op {
public:
  /// Under the lock: takes what the awaiter waits for now if it can (true), granting any
  /// waiters that this frees into wakes. May throw (then nothing was taken).
  using try_now_fn = bool (*)(void* owner, wake_list& wakes);
  /// Under the lock: a queued waiter leaves because it was cancelled.
  using on_leave_fn = void (*)(void* owner, wake_list& wakes) noexcept;

  struct config {
    spin_lock* lock;
    waiter_fifo* fifo;
    try_now_fn try_now;
    on_leave_fn on_leave; // may be null
    const char* what;     // for error messages, e.g. "weft::mutex::lock"
    bool interruptible;   // false: neither cancellation nor shutdown interrupts the wait
  };

  sync_wait_op(void* owner, const config& cfg) noexcept : m_cfg(cfg) { waiter.owner = owner; }
  sync_wait_op(const sync_wait_op&) = delete;
  sync_wait_op& operator=(const sync_wait_op&) = delete;
  ~sync_wait_op() = default;

  /// await_suspend's body: true if the task is now queued (and suspended). Compiled.
  /// Throws: cancelled_error if cancelled already or the runtime is shutting down;
  /// no_runtime_error outside a runtime's worker.
  bool suspend(std::coroutine_handle<> h, cancel_state* cancel);

  /// await_resume's body: undoes suspend()'s set-up. Compiled.
  /// Throws: cancelled_error if the wait was cancelled.
  void finish();

  [[nodiscard]] bool granted() const noexcept { return waiter.status == sync_waiter::state::granted; }

  sync_waiter waiter;

private:
  struct cancel_hook : cancel_callback {
    sync_wait_op* self = nullptr;
  };
  struct shutdown_hook : pending_op_node {
    sync_wait_op* self = nullptr;
  };

  void cancel_wait() noexcept;
  void undo_setup() noexcept;

  config m_cfg;
  cancel_hook m_cancel_hook;
  shutdown_hook m_shutdown_hook;
  cancel_state* m_cancel = nullptr;
  bool m_installed = false;
  bool m_registered = false;
};

} // namespace weft::detail
