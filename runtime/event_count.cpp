#include "event_count.hpp"

#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace weft::detail {
namespace {

// std::atomic<uint32_t> is a plain 32-bit word, which is what the futex syscall takes.
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

void futex_wait(std::atomic<std::uint32_t>* addr, std::uint32_t expected, const timespec* timeout = nullptr) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

/// Returns how many sleepers it woke.
long futex_wake(std::atomic<std::uint32_t>* addr, int count) noexcept {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

} // namespace

void event_count::wait(std::uint32_t key) noexcept { sleep(key, nullptr); }

void event_count::wait_for(std::uint32_t key, std::chrono::nanoseconds timeout) noexcept {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  sleep(key, &deadline);
}

void event_count::sleep(std::uint32_t key, const std::chrono::steady_clock::time_point* deadline) noexcept {
  // seq_cst: the sleeper's write in the Dekker pair with notify_one()'s read of m_on_futex
  // after its epoch bump: either it sees us and calls futex_wake, or our futex_wait,
  // which compares the epoch after this, sees the new epoch and returns at once.
  m_on_futex.fetch_add(1, std::memory_order_seq_cst);
  // acquire: pairs with the notifier's seq_cst bump of the epoch; spurious returns from
  // the futex (signals, EAGAIN) and timeouts loop back here.
  while (m_epoch.load(std::memory_order_acquire) == key) {
    if (deadline == nullptr) {
      futex_wait(&m_epoch, key);
      continue;
    }
    const auto left = *deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) {
      break;
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    futex_wait(&m_epoch, key, &ts);
  }
  // relaxed: only counts; the epoch change above is what we synchronised on.
  m_on_futex.fetch_sub(1, std::memory_order_relaxed);
  m_waiters.fetch_sub(1, std::memory_order_relaxed);
}

event_count::notify_result event_count::notify_one() noexcept {
  // seq_cst: the notifier's read in the Dekker pair; pairs with the seq_cst fetch_add in
  // prepare_wait() (the caller published its work with a seq_cst operation before this).
  if (m_waiters.load(std::memory_order_seq_cst) == 0) {
    return notify_result::nobody_waiting;
  }
  // seq_cst: a waiter that read the old epoch in prepare_wait() sees it change.
  m_epoch.fetch_add(1, std::memory_order_seq_cst);
  // seq_cst: our read in the Dekker pair with wait()'s increment. The announced waiters
  // may all be elsewhere (the I/O poller, or on their way to the futex, where they will
  // see the new epoch): then no system call. A burst of outside submissions while the
  // poller is in the reactor made one futex_wake per submission.
  if (m_on_futex.load(std::memory_order_seq_cst) == 0) {
    return notify_result::woke_nobody;
  }
  return futex_wake(&m_epoch, 1) > 0 ? notify_result::woke_sleeper : notify_result::woke_nobody;
}

void event_count::notify_all() noexcept {
  // seq_cst: as in notify_one(); here we wake unconditionally.
  m_epoch.fetch_add(1, std::memory_order_seq_cst);
  futex_wake(&m_epoch, INT_MAX);
}

} // namespace weft::detail
