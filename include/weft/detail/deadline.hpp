#pragma once
// A one-shot timer that calls a function from the reactor at a deadline, and that can
// be stopped with the guarantee that the function is not running and will never run once
// stop_deadline() returns. The building block of wait(timeout), as_completed(timeout),
// wait_for and timeout. Compiled in runtime/reactor.cpp.

#include <chrono>

namespace weft::detail {

struct deadline_callback {
  void (*fn)(deadline_callback* self) noexcept = nullptr;
};

struct deadline_op;

/// Arms a deadline on the current runtime's reactor; cb->fn runs on a worker running the
/// reactor at (or after) deadline unless stopped first. Throws: no_runtime_error off the pool;
/// std::bad_alloc.
[[nodiscard]] deadline_op* start_deadline(std::chrono::steady_clock::time_point deadline, deadline_callback* cb);

/// Stops and frees op. After it returns, cb->fn is not running and never will. Returns
/// whether the callback ran (the deadline passed) before the stop.
bool stop_deadline(deadline_op* op) noexcept;

} // namespace weft::detail
