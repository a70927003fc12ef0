#pragma once
// The parts of a worker and of its scheduler that inline hot paths (spawn, join, yield)
// touch. Everything else about workers lives in runtime/worker.hpp.

#include "weft/detail/split_deque.hpp"
#include "weft/detail/config.hpp"

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <vector>

namespace weft::detail {

class scheduler;

/// State of a scheduler that every worker reads on hot paths and that changes rarely, so it
/// stays in every core's cache.
struct alignas(k_cache_line) scheduler_signals {
  // Number of workers between prepare_wait and the end of their wait. Written by workers
  // going to sleep and waking; read (as a hint) on every local push.
  std::atomic<std::uint32_t> sleepers{0};
  // True while a wake-up for locally pushed work is in flight, so that a burst of pushes
  // wakes one worker, not one per push.
  std::atomic<bool> wake_pending{false};
  // Set once shutdown begins: every weft suspension point then throws cancelled_error.
  std::atomic<bool> stopping{false};
};

/// Per-worker counters. Each is written by its worker only (load + store, no RMW) and read
/// by runtime::stats() from any thread; relaxed throughout because they are statistics
/// and order nothing.
struct alignas(k_cache_line) worker_counters {
  std::atomic<std::uint64_t> tasks_run{0};
  std::atomic<std::uint64_t> steals{0};
  std::atomic<std::uint64_t> failed_steals{0};
  std::atomic<std::uint64_t> parks{0};
  std::atomic<std::uint64_t> wakeups{0};
  std::atomic<std::uint64_t> injected_taken{0};
  std::atomic<std::uint64_t> io_waits{0};

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) noexcept {
    // relaxed: single writer, statistic only.
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

/// What a worker is doing, for runtime::dump(). Written by the worker at transitions only
/// (never per task), read from any thread.
enum class worker_activity : std::uint8_t { starting, running, searching, polling, parked, stopped };

/// How many tasks a worker runs between two looks at the reactor and the injection queue
/// (61: prime, as Go and Tokio use, so it does not beat with power-of-two patterns in the
/// workload). Counted by the worker loop and by gather chains alike.
inline constexpr std::uint32_t k_tasks_between_looks = 61;

struct worker_context {
  split_deque<void*> deque;
  // relaxed throughout: a report, it orders nothing.
  std::atomic<worker_activity> activity{worker_activity::starting};
  scheduler* sched = nullptr;
  scheduler_signals* signals = nullptr;
  unsigned index = 0;
  // True while this worker runs reactor handlers: the tasks they make runnable go to
  // reactor_ready, not to the deque, and wake nobody, since the worker runs them next (it
  // wakes a sleeper afterwards if it has more than one).
  bool in_reactor = false;
  // Tasks made runnable by one reactor run, in completion order (timers in deadline
  // order): the first in reactor_first, the rest in reactor_ready. The run then pushes
  // them so that the first completion is the newest item and runs first, as asyncio runs
  // callbacks; pushed one by one, a LIFO deque would run them last first. Owner only.
  void* reactor_first = nullptr;
  std::vector<void*> reactor_ready;
  // Tasks left to run (from the loop or a gather chain) before the next look at the
  // reactor and the injection queue. Owner only.
  std::uint32_t tasks_until_look = k_tasks_between_looks;
  // Set when this worker steals, cleared by the next search or by the first task this
  // worker hands off to a waiting one (hand_off_to below). Owner only.
  bool judging_steal = false;
  worker_counters counters;
};

/// The worker running on this thread, or null on threads outside every pool.
/// Read it afresh after each suspension: a coroutine may resume on another worker.
inline thread_local constinit worker_context* tl_worker = nullptr;

/// Records that the work a steal brought ended in a hand-off (see hand_off_to), then
/// returns next. Compiled.
std::coroutine_handle<> handoff_after_steal(worker_context& w, std::coroutine_handle<> next) noexcept;

/// Called where a finished task resumes a task that was waiting for it (the last gather
/// arrival, a join's waiter). After a steal, that is where the stolen work ends and the
/// waiter's begins: steal pacing judges the steal by the time up to here, so that a tiny
/// stolen task whose waiter then runs long on the thief does not count as worth stealing
/// (docs/design.md, "Parking and wake-up").
/// Returns next, the task to resume; the rare call is a tail call, so the common path of
/// a completion that ends here makes none.
[[gnu::always_inline]] inline std::coroutine_handle<> hand_off_to(std::coroutine_handle<> next) noexcept {
  if (worker_context* w = tl_worker; w != nullptr && WEFT_UNLIKELY(w->judging_steal)) {
    return handoff_after_steal(*w, next);
  }
  return next;
}

/// Wakes a sleeping worker because this worker pushed work it could share. Compiled.
void wake_for_local_work(worker_context& w) noexcept;

/// True when workers sleep and no wake-up for local work is already under way: a hint.
[[gnu::always_inline]] inline bool wake_for_local_work_wanted(const scheduler_signals& s) noexcept {
  // relaxed: a hint (see push_local); the sleeper's own re-check after prepare_wait is
  // the correctness path for work that only it could run.
  return s.sleepers.load(std::memory_order_relaxed) != 0 && !s.wake_pending.load(std::memory_order_relaxed);
}

/// After a push on w's own deque: wakes a sleeper when workers sleep and no wake-up is
/// already under way (reactor handlers wake nobody: the worker runs their tasks next).
[[gnu::always_inline]] inline void wake_after_local_push(worker_context& w) noexcept {
  if (WEFT_UNLIKELY(wake_for_local_work_wanted(*w.signals)) && !w.in_reactor) {
    wake_for_local_work(w);
  }
}

/// Pushes h onto this worker's deque and, when workers sleep and no wake-up is already
/// under way, wakes one. Missing a sleeper that is just going to sleep only costs
/// parallelism, never progress: the owner always drains its own deque before it sleeps.
[[gnu::always_inline]] inline void push_local(worker_context& w, std::coroutine_handle<> h) {
  w.deque.push(h.address());
  wake_after_local_push(w);
}

/// Pushes handle_at(0), ..., handle_at(n - 1) onto this worker's deque in one batch (the
/// last is the newest), then wakes a sleeper as push_local does. Throws std::bad_alloc
/// (nothing pushed) if the deque cannot grow.
template <class HandleAt>
[[gnu::always_inline]] inline void push_local_n(worker_context& w, std::int64_t n, HandleAt&& handle_at) {
  if (n == 1) {
    // One item: the inlined push rather than the batch loop, which g++ leaves out of line
    // (callgrind: 41 instructions less per gather of 2 children; against the same children
    // spawned and joined one by one, 1.33 -> 1.21-1.24 per child).
    push_local(w, handle_at(0));
    return;
  }
  w.deque.push_n(n, [&](std::int64_t i) { return handle_at(i).address(); });
  wake_after_local_push(w);
}

/// Makes h runnable from any thread: the local deque on a worker of sched, the injection
/// queue otherwise. Internal (never refused during shutdown). Compiled.
void schedule_internal(scheduler& sched, std::coroutine_handle<> h) noexcept;

/// Makes h runnable on the current worker if there is one (it must be a worker of the
/// scheduler that owns h), else aborts: only used for waiters released by a worker.
void schedule_from_worker(std::coroutine_handle<> h) noexcept;

} // namespace weft::detail
