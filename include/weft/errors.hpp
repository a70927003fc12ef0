#pragma once
// The exception types weft throws. Every message says what was done to what.

#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace weft {

/// Base of every exception weft throws for misuse or runtime conditions.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Thrown when an empty (moved-from, already spawned or already awaited) task is awaited,
/// spawned or gathered.
class invalid_task_error : public error {
public:
  using error::error;
};

/// Thrown when a join_handle whose result was already taken (or that is empty) is awaited.
class handle_consumed_error : public error {
public:
  using error::error;
};

/// Thrown when work is submitted to a runtime that is shutting down or has shut down.
class shutdown_error : public error {
public:
  using error::error;
};

/// Thrown when an operation needs a current runtime and the calling thread has none.
class no_runtime_error : public error {
public:
  using error::error;
};

/// Thrown when a blocking call (sync_wait, shutdown) is made on a worker thread, where it
/// would block the pool that has to make progress for it to return.
class blocking_call_error : public error {
public:
  using error::error;
};

/// A synchronisation primitive was misused: unlocking a mutex that is not locked,
/// releasing a bounded_semaphore more often than it was acquired, queue::task_done() called
/// more often than items were put (asyncio raises RuntimeError or ValueError); or a
/// one-shot awaitable (a gather, a sleep) was awaited a second time (asyncio: RuntimeError,
/// "cannot reuse already awaited coroutine").
class usage_error : public error {
public:
  using error::error;
};

/// A weft::future was asked for its result before it had one, or was set after it
/// finished (asyncio.InvalidStateError).
class invalid_state_error : public error {
public:
  using error::error;
};

/// A barrier was aborted or reset while a task waited on it (asyncio.BrokenBarrierError).
class broken_barrier_error : public error {
public:
  broken_barrier_error() : error("weft::barrier: barrier is broken") {}
  using error::error;
};

/// Thrown at a suspension point of a task that was cancelled (asyncio.CancelledError).
/// During shutdown every suspension point throws it, so pending tasks unwind with RAII.
class cancelled_error : public error {
public:
  cancelled_error() : error("task cancelled") {}
  using error::error;
};

/// An I/O operation failed: carries the error code and what was being done.
class io_error : public std::system_error {
public:
  io_error(std::error_code ec, const std::string& what) : std::system_error(ec, what) {}
};

/// Thrown by weft::wait_for, weft::timeout and as_completed when their time runs out
/// (asyncio.TimeoutError).
class timeout_error : public error {
public:
  timeout_error() : error("weft: timed out") {}
  using error::error;
};

/// Every failure of a task group's tasks, in the order they happened (asyncio's
/// ExceptionGroup raised by TaskGroup).
class exception_group : public error {
public:
  explicit exception_group(std::vector<std::exception_ptr> exceptions)
      : error(describe(exceptions)), m_exceptions(std::move(exceptions)) {}

  [[nodiscard]] const std::vector<std::exception_ptr>& exceptions() const noexcept { return m_exceptions; }

private:
  static std::string describe(const std::vector<std::exception_ptr>& exceptions) {
    std::string what = "weft::task_group: " + std::to_string(exceptions.size()) + " task(s) failed";
    for (const auto& e : exceptions) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        what += "; ";
        what += ex.what();
      } catch (...) {
        what += "; (unknown exception)";
      }
    }
    return what;
  }

  std::vector<std::exception_ptr> m_exceptions;
};

} // namespace weft
