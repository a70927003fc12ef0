#pragma once
// weft::run (asyncio.run) and weft::sync_wait.

#include "weft/runtime.hpp"
#include "weft/source_location.hpp"
#include "weft/task.hpp"

#include <utility>

namespace weft {

/// Builds a runtime, runs t on it to completion, shuts the runtime down and returns t's
/// value (or rethrows its exception).
/// Throws: blocking_call_error on a worker thread (use co_await there).
/// asyncio: asyncio.run(coro). Tasks still pending when t returns are cancelled at their
/// next suspension point, as asyncio.run cancels the remaining tasks.
template <class T>
T run(task<T> t, runtime_options options = {}, weft::source_location where = weft::source_location::current()) {
  detail::check_not_on_worker("weft::run");
  runtime rt(std::move(options));
  return rt.block_on(std::move(t), where);
}

/// Blocks the calling thread until t, run on the current runtime, finishes; with no
/// current runtime, behaves as weft::run(t).
/// Returns: t's value. Throws: t's exception; blocking_call_error on a worker thread.
template <class T>
T sync_wait(task<T> t, weft::source_location where = weft::source_location::current()) {
  detail::check_not_on_worker("weft::sync_wait");
  if (runtime* rt = runtime::current()) {
    return rt->block_on(std::move(t), where);
  }
  return run(std::move(t), {}, where);
}

} // namespace weft
