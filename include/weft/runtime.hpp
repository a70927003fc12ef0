#pragma once
// weft::runtime: the work-stealing pool, its reactor, and the entry points bound to it.

#include "weft/detail/worker_context.hpp"
#include "weft/errors.hpp"
#include "weft/join_handle.hpp"
#include "weft/source_location.hpp"
#include "weft/task.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <vector>

namespace asio {
class io_context;
}

namespace weft {

/// How to build a runtime.
struct runtime_options {
  /// Worker threads; 0 means std::thread::hardware_concurrency(). More than max_workers
  /// throws weft::usage_error.
  unsigned workers = 0;
  static constexpr unsigned max_workers = 4096;
  /// Rounds of stealing an idle worker tries before it parks.
  unsigned spin_rounds = 64;
  /// Called with an exception that ended a detached task (never with cancelled_error).
  /// Default: print it to stderr and continue. It runs on the worker that finished the
  /// task and must not throw.
  std::function<void(std::exception_ptr)> on_unhandled_exception{};
  /// Threads of the blocking pool that runs weft::to_thread calls (started on demand);
  /// calls beyond it wait in a FIFO queue. 0 is taken as 1.
  std::size_t max_blocking_threads = 64;
  /// How long an idle blocking thread waits for work before it leaves.
  std::chrono::milliseconds blocking_keep_alive{10'000};
  /// Pins worker i to the (i mod k)-th of the k CPUs this process may run on (its affinity
  /// mask when the runtime starts): one worker per core and no migrations, for a server
  /// sized to its machine. Off by default (the OS places the workers).
  /// Throws (from the runtime's constructor): std::system_error if the OS refuses.
  bool pin_workers = false;
  /// How many of the newest tasks a worker may keep private on its deque. Private tasks
  /// are spawned and taken back by their joiner without a locked instruction; another worker gets them only when the owner
  /// shares them, at its next spawn, join, await or task switch (a worker that finds
  /// nothing to steal asks for them). A task that blocks its worker for long, or spins on
  /// other tasks' progress, leaves up to this many of the tasks it spawned last waiting.
  /// 0 makes every task stealable at once, as in a Chase-Lev deque, whose take-back costs
  /// a store-load fence (skynet at 2 workers: about 10% slower).
  unsigned private_tasks = 32;
  /// Called on each worker thread (concurrently) with the worker's index before the worker
  /// runs any task; the runtime's constructor returns only after every worker has run it.
  /// For per-thread set-up (thread-local state, a logger's thread name, a CPU-local
  /// resource). It runs outside the pool, so it must not spawn tasks or await. If it
  /// throws, the constructor stops the workers and rethrows the first exception.
  std::function<void(unsigned worker_index)> on_worker_start{};
  /// Called on each worker thread whose on_worker_start returned, after the worker ran its
  /// last task, when the runtime shuts down. Must not throw (std::terminate).
  std::function<void(unsigned worker_index)> on_worker_stop{};
};

namespace detail {
void print_unhandled_exception(std::exception_ptr e) noexcept; // compiled
} // namespace detail

/// An on_unhandled_exception hook that reports the exception like the default, then
/// calls std::terminate(): for programs where a failed detached task must stop everything.
inline void terminate_on_unhandled_exception(std::exception_ptr e) noexcept {
  detail::print_unhandled_exception(e);
  std::terminate();
}

/// Counters of one worker, for benchmarks and diagnostics.
struct worker_stats {
  std::uint64_t tasks_run = 0;      ///< tasks resumed by the worker loop (not inline joins)
  std::uint64_t steals = 0;         ///< tasks taken from another worker's deque
  std::uint64_t failed_steals = 0;  ///< steal attempts that found nothing or lost a race
  std::uint64_t parks = 0;          ///< times the worker went to sleep
  std::uint64_t wakeups = 0;        ///< times it woke from sleep
  std::uint64_t injected_taken = 0; ///< tasks taken from the injection queue
  std::uint64_t io_waits = 0;       ///< Asio operations awaited through use_task (trips through the reactor)
};

/// A pool of worker threads, each with a work-stealing deque, plus an injection queue for
/// outside threads and an Asio reactor for timers and I/O, which the workers run when
/// idle (and poll now and then when busy). The OS shows the worker threads as
/// "weft-w0", "weft-w1", ... and those of the blocking pool (to_thread) as "weft-blocking"
/// (top -H, gdb, perf).
///
/// The thread that constructs a runtime (when it is not a worker and has no current
/// runtime) makes it current, so weft::spawn and weft::sync_wait find it; the destructor
/// undoes that.
///
/// Shutdown (shutdown() or the destructor): new work from outside threads is refused
/// (weft::shutdown_error); pending timers are cancelled and from then on every weft
/// suspension point throws weft::cancelled_error, so every pending task unwinds with its
/// destructors run; the runtime waits until no task can run any more, then joins its
/// threads. Nothing is leaked. A task that never reaches a suspension point delays
/// shutdown until it returns.
///
/// Thread safety: all members may be called from any thread, except that shutdown() and
/// block_on() throw weft::blocking_call_error on a worker thread.
class runtime {
public:
  runtime();
  explicit runtime(runtime_options options);
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;
  ~runtime();

  /// Number of worker threads.
  [[nodiscard]] unsigned worker_count() const noexcept;

  /// Starts t on this runtime's pool at once. On one of its workers the task goes on that
  /// worker's deque (where a thief may take it); elsewhere, through the injection queue.
  /// Throws: invalid_task_error for an empty task; shutdown_error once shut down (from
  /// outside threads).
  /// where: recorded for dump(); leave it defaulted.
  template <class T>
  join_handle<T> spawn(task<T> t, weft::source_location where = weft::source_location::current());

  /// Runs t on the pool and blocks the calling thread until it finishes.
  /// Returns: t's value. Throws: t's exception; blocking_call_error on a worker thread;
  /// shutdown_error once shut down.
  template <class T>
  T block_on(task<T> t, weft::source_location where = weft::source_location::current());

  /// Stops the runtime as described above. Idempotent; safe to call from any non-worker
  /// thread. Throws: blocking_call_error on a worker thread.
  void shutdown();

  /// True once shutdown() has begun.
  [[nodiscard]] bool is_shutting_down() const noexcept;

  /// A snapshot of every worker's counters, indexed by worker.
  [[nodiscard]] std::vector<worker_stats> stats() const;

  /// Writes a snapshot for people: each worker's activity and deque length, the injection
  /// queue, the blocking pool, and every task waiting on a timer, an I/O operation, a
  /// synchronisation primitive or to_thread, with where that task was started (file:line).
  /// Safe from any thread, a worker included; it takes the runtime's registry locks
  /// briefly, so not from a signal handler (see examples/http_server.cpp for a trigger).
  void dump(std::ostream& out) const;

  /// dump() for every runtime alive in the process (what a watchdog prints).
  static void dump_all(std::ostream& out);

  /// The runtime's io_context (Asio objects bound to the runtime use it). Its handlers run
  /// on the pool's workers, between tasks: a handler must not block.
  [[nodiscard]] asio::io_context& io_context() noexcept;

  /// The runtime of the calling worker, else the one current on this thread, else null.
  [[nodiscard]] static runtime* current() noexcept;

  /// As current(), but throws no_runtime_error when there is none.
  [[nodiscard]] static runtime& current_or_throw();

  /// For weft's own headers.
  [[nodiscard]] detail::scheduler& scheduler() noexcept { return *m_scheduler; }

private:
  std::unique_ptr<detail::scheduler> m_scheduler;
  runtime* m_previous_current = nullptr;
  bool m_made_current = false;
};

/// Index of the worker running the caller, or std::nullopt outside every pool.
[[nodiscard]] std::optional<unsigned> this_worker_index() noexcept;

namespace detail {

/// Queues h on sched from a thread that is not one of its workers.
/// Throws: shutdown_error if sched no longer accepts work; std::bad_alloc.
void inject_from_outside(scheduler& sched, std::coroutine_handle<> h);

/// Throws blocking_call_error if the calling thread is a worker thread; what says which
/// call would have blocked.
void check_not_on_worker(const char* what);

/// Starts h (a spawned task) on sched; destroys h if that fails, then rethrows.
inline void start_spawned(scheduler& sched, std::coroutine_handle<> h) {
  try {
    worker_context* w = tl_worker;
    if (w != nullptr && w->sched == &sched) {
      push_local(*w, h);
    } else {
      inject_from_outside(sched, h);
    }
  } catch (...) {
    h.destroy();
    throw;
  }
}

} // namespace detail
} // namespace weft

#include "weft/detail/blocking_root.hpp"

namespace weft {

template <class T>
join_handle<T> runtime::spawn(task<T> t, weft::source_location where) {
  auto h = t.release();
  if (!h) {
    throw invalid_task_error("weft::spawn of an empty task (moved-from, spawned or awaited)");
  }
  h.promise().own_cancellation().set_origin(where, detail::start_kind::spawned);
  detail::start_spawned(*m_scheduler, h);
  return join_handle<T>{h};
}

template <class T>
T runtime::block_on(task<T> t, weft::source_location where) {
  detail::check_not_on_worker("weft::runtime::block_on (sync_wait)");
  if (!t.valid()) {
    throw invalid_task_error("weft::sync_wait of an empty task (moved-from, spawned or awaited)");
  }
  t.handle().promise().own_cancellation().set_origin(where, detail::start_kind::block_on);
  detail::blocking_result<T> result;
  const std::coroutine_handle<> root = detail::make_blocking_root(std::move(t), result).release();
  try {
    detail::inject_from_outside(*m_scheduler, root);
  } catch (...) {
    root.destroy();
    throw;
  }
  result.wait();
  return result.take();
}

} // namespace weft
