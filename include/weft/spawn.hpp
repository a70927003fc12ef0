#pragma once
// weft::spawn (asyncio.create_task).

#include "weft/join_handle.hpp"
#include "weft/runtime.hpp"
#include "weft/source_location.hpp"
#include "weft/task.hpp"

namespace weft {

/// Starts t at once on the current runtime's pool and returns its handle.
///
/// On a worker the task is pushed on that worker's own deque (idle workers may steal it);
/// on another thread it goes through the injection queue of the current runtime.
/// Throws: invalid_task_error for an empty task; no_runtime_error on a thread with no
/// current runtime; shutdown_error from an outside thread once the runtime shuts down.
/// asyncio: create_task(coro). The task runs even if the handle is dropped (detached).
/// where: recorded for runtime::dump(); leave it defaulted.
// Always inlined: out of line (clang 14 leaves it so), the 24-byte location is passed in
// memory, copied with 16-byte loads from the 8- and 4-byte stores that built it just
// before; store-to-load forwarding fails on those and stalls the spawning loop (clang:
// spawn+join 19-20 ns against GCC's 12-13 with the same instruction count).
template <class T>
[[gnu::always_inline]] inline join_handle<T> spawn(task<T> t,
                                                  weft::source_location where = weft::source_location::current()) {
  auto h = t.release();
  if (!h) {
    throw invalid_task_error("weft::spawn of an empty task (moved-from, spawned or awaited)");
  }
  h.promise().own_cancellation().set_origin(where, detail::start_kind::spawned);
  if (detail::worker_context* w = detail::tl_worker) {
    try {
      detail::push_local(*w, h);
    } catch (...) {
      h.destroy();
      throw;
    }
  } else {
    runtime* rt = runtime::current();
    if (rt == nullptr) {
      h.destroy();
      throw no_runtime_error("weft::spawn called on a thread with no current runtime");
    }
    detail::start_spawned(rt->scheduler(), h);
  }
  return join_handle<T>{h};
}

} // namespace weft
