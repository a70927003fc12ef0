#pragma once
// An event count (as in Folly's EventCount and libfork's event_count) over a Linux futex:
// lets a worker sleep until "something changed" without a lost wake-up.
//
// Waiter:   key = prepare_wait();  re-check for work;  found ? cancel_wait() : wait(key);
// Notifier: publish work with a seq_cst operation;  notify_one() / notify_all().
//
// Invariant: a notifier that published work before its seq_cst load of the waiter count
// either sees the waiter (and bumps the epoch, so wait(key) returns) or the waiter's
// seq_cst re-check after prepare_wait() sees the work. This is the Dekker pattern: each
// side does a seq_cst write then a seq_cst read of the other side's variable.
//
// The waiter count is kept in scheduler_signals::sleepers, where inline code reads it.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace weft::detail {

class event_count {
public:
  explicit event_count(std::atomic<std::uint32_t>& waiters) noexcept : m_waiters(waiters) {}

  /// Announces a waiter and returns the key to wait on.
  [[nodiscard]] std::uint32_t prepare_wait() noexcept {
    // seq_cst: the waiter's write in the Dekker pair; must precede the caller's re-check
    // loads of the work queues (pairs with the notifier's seq_cst load in notify_one()).
    m_waiters.fetch_add(1, std::memory_order_seq_cst);
    // seq_cst: read the epoch after announcing, so a notify after this point changes it.
    return m_epoch.load(std::memory_order_seq_cst);
  }

  /// Withdraws a prepare_wait() whose re-check found work.
  void cancel_wait() noexcept {
    // relaxed: a notifier that still counts us wakes nobody or a spurious waiter, which
    // re-checks; no data is published by this decrement.
    m_waiters.fetch_sub(1, std::memory_order_relaxed);
  }

  /// Sleeps until the epoch moves past key (returns at once if it already has). The
  /// workers use wait_for(); this one is the same code without a deadline.
  void wait(std::uint32_t key) noexcept;

  /// As wait(), but returns after `timeout` at the latest.
  void wait_for(std::uint32_t key, std::chrono::nanoseconds timeout) noexcept;

  /// For a waiter that waited elsewhere (the I/O poller, in the reactor): ends the wait
  /// that prepare_wait() announced.
  void finish_wait() noexcept {
    // relaxed: only a count, as at the end of wait().
    m_waiters.fetch_sub(1, std::memory_order_relaxed);
  }

  /// True if the epoch has moved past key: a notify came after the prepare_wait() that
  /// returned key. The poller's re-check (it does not sleep on the futex).
  [[nodiscard]] bool notified_since(std::uint32_t key) const noexcept {
    // seq_cst: read after the poller's seq_cst arming, in the Dekker pair with notify_one().
    return m_epoch.load(std::memory_order_seq_cst) != key;
  }

  enum class notify_result { nobody_waiting, woke_sleeper, woke_nobody };

  /// Wakes one waiter if any is announced. woke_nobody: waiters were announced but none
  /// slept on the futex; they are either about to (and will see the new epoch) or waiting
  /// elsewhere (the I/O poller), which the caller must then interrupt itself.
  notify_result notify_one() noexcept;

  /// Wakes every announced waiter.
  void notify_all() noexcept;

private:
  // wait() and wait_for(): no deadline when it is null.
  void sleep(std::uint32_t key, const std::chrono::steady_clock::time_point* deadline) noexcept;

  std::atomic<std::uint32_t>& m_waiters;
  std::atomic<std::uint32_t> m_epoch{0};
  // Waiters inside wait() / wait_for(), on or about to reach the futex; the announced
  // waiters beyond them wait elsewhere (the poller) or are still re-checking.
  std::atomic<std::uint32_t> m_on_futex{0};
};

} // namespace weft::detail
