#pragma once
// co_await weft::sleep(duration) and weft::sleep_until(time_point) (asyncio.sleep).

#include "weft/detail/task_promise.hpp"

#include <chrono>
#include <cstdint>
#include <coroutine>

namespace weft {

namespace detail {
struct timer_op;
} // namespace detail

/// What `co_await weft::sleep(...)` acts on. Lives in the awaiting frame; the Asio timer
/// it arms is owned by it and released when it is destroyed.
class [[nodiscard]] sleep_awaiter {
public:
  explicit sleep_awaiter(std::chrono::steady_clock::time_point deadline) noexcept
      : m_deadline(deadline) {}

  /// A sleep whose caller already knows whether the deadline has passed (sleep(d) does:
  /// d <= 0 yields, d > 0 is in the future), so suspending reads no clock.
  sleep_awaiter(std::chrono::steady_clock::time_point deadline, bool already_expired) noexcept
      : m_deadline(deadline), m_expiry(already_expired ? expiry::passed : expiry::future) {}
  sleep_awaiter(const sleep_awaiter&) = delete;
  sleep_awaiter& operator=(const sleep_awaiter&) = delete;
  ~sleep_awaiter();

  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return suspend(h, detail::cancellation_of(h));
  }
  void await_resume();

private:
  // Compiled: arms the timer with a cancellation callback; false if cancelled meanwhile.
  bool suspend(std::coroutine_handle<> h, detail::cancel_state* cancel);

  std::chrono::steady_clock::time_point m_deadline;
  // What is known about m_deadline against the clock when the sleep was made: sleep(0),
  // asyncio's idiom for "yield", then costs a yield and no clock read.
  enum class expiry : std::uint8_t { unknown, passed, future };
  expiry m_expiry = expiry::unknown;
  bool m_awaited = false; // a sleep is awaited once (a second await throws usage_error)
  detail::timer_op* m_op = nullptr;
  detail::cancel_state* m_cancel = nullptr; // where our callback is installed
};

/// Suspends the calling task until deadline without blocking its worker. A deadline
/// already passed yields (as weft::yield()).
/// Throws: cancelled_error if the task is cancelled (the timer is cancelled at once) or
/// the runtime shuts down first.
/// Cancellation: interrupts the sleep.
/// Resumes on: a pool worker (the reactor hands the task over; one cross-thread hand-off).
/// asyncio: asyncio.sleep; never returns before deadline.
[[nodiscard]] inline sleep_awaiter sleep_until(std::chrono::steady_clock::time_point deadline) noexcept {
  return sleep_awaiter{deadline};
}

/// Suspends the calling task for at least d. Zero or negative d yields.
/// See sleep_until.
template <class Rep, class Period>
[[nodiscard]] sleep_awaiter sleep(std::chrono::duration<Rep, Period> d) noexcept {
  using clock = std::chrono::steady_clock;
  if (d <= std::chrono::duration<Rep, Period>::zero()) {
    return sleep_awaiter{clock::time_point::min(), true}; // a yield: no clock read
  }
  const auto now = clock::now();
  const auto limit = clock::time_point::max() - now;
  // Round up so the sleep is never shorter than asked; clamp instead of overflowing.
  if (std::chrono::duration<double>(d) >= std::chrono::duration<double>(limit)) {
    return sleep_awaiter{clock::time_point::max(), false};
  }
  return sleep_awaiter{now + std::chrono::ceil<clock::duration>(d), false};
}

} // namespace weft
