#pragma once
// The pool behind weft::runtime: workers with Chase-Lev deques, an injection queue, an
// event count to park idle workers, and the reactor they run between tasks. Protocols:
// docs/design.md.

#include "blocking_pool.hpp"
#include "event_count.hpp"
#include "injection_queue.hpp"
#include "reactor.hpp"

#include <weft/detail/worker_context.hpp>
#include <weft/runtime.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <iosfwd>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace weft::detail {

class scheduler;

/// The process-wide list behind runtime::dump_all() (runtime/dump.cpp).
void add_live_runtime(runtime& rt);
void remove_live_runtime(runtime& rt) noexcept;

class worker {
public:
  worker(scheduler& sched, unsigned index);

  void run() noexcept;                 // the thread's body
  worker_context& context() noexcept { return m_context; }
  [[nodiscard]] bool has_local_work() const noexcept {
    return !m_context.deque.empty_approx();
  }
  /// Whether other tasks wait for this worker's turn: on its deque or yield list, or in the
  /// pool's shared queue (which it also takes from). Owner only; hints.
  [[nodiscard]] bool others_waiting() const noexcept;

  /// For a gather chain on this worker (completion_counter.hpp): polls the reactor as the
  /// loop would; true if work from outside the pool is waiting.
  bool pause_chain() noexcept;

  /// See hand_off_to() in worker_context.hpp.
  void handoff_after_steal() noexcept;

  // Tasks that yielded: run after the deque is empty. Owner only.
  std::deque<void*> yielded;

private:
  void* next_task() noexcept;
  void* search() noexcept;
  void* search_or_exit() noexcept;
  void set_activity(worker_activity a) noexcept;
  void* try_steal() noexcept;
  // Takes a batch from the injection queue: returns the oldest item, the rest go on our
  // deque to run next in FIFO order (or be stolen). Null if the queue is empty.
  void* take_injected() noexcept;
  // 0 (steal every search round) up to k_max_steal_pacing (one round in 2^that), from
  // the run of futile steals.
  [[nodiscard]] unsigned steal_pacing() const noexcept;
  void* park_or_find() noexcept;
  // block: wait for a completion, for at most `limit` (idle workers never wait longer
  // than k_idle_recheck).
  std::size_t run_reactor(bool block, std::chrono::nanoseconds limit = {}) noexcept;
  // Pushes what the last reactor run made runnable, first completion newest.
  void push_reactor_ready() noexcept;
  // The second and later completions of a reactor run, under the first.
  void push_reactor_ready_rest() noexcept;
  void maybe_poll_io() noexcept;
  std::uint32_t next_random() noexcept;

  worker_context m_context;
  scheduler& m_sched;
  std::uint32_t m_rng;
  std::chrono::steady_clock::time_point m_last_io_poll{};
  // Steal pacing (docs/design.md, "Parking and wake-up"): when the last steal was taken,
  // and how many steals in a row brought less work than a steal costs. While that streak
  // lasts, a searching worker tries to steal on fewer of its rounds (it still polls the
  // injection queue and the reactor on each), so it stops pulling tiny tasks, and the
  // cache lines they sit on, away from a busy owner.
  std::chrono::steady_clock::time_point m_last_steal{};
  unsigned m_futile_steals = 0;
  // The last steal's work ended in a hand-off to a waiting task too soon to be worth it.
  bool m_handed_off_early = false;
  // Search rounds to let pass before the next steal attempt. Kept across searches, so that
  // a victim that always has work (a large gather of tiny children) is paced too.
  unsigned m_rounds_until_steal = 0;
  // The search round we are in (search_or_exit); a search after a futile steal goes on
  // from there instead of starting over.
  unsigned m_search_round = 0;
};

class scheduler {
public:
  explicit scheduler(runtime& owner, runtime_options options);
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;
  ~scheduler();

  [[nodiscard]] unsigned worker_count() const noexcept { return static_cast<unsigned>(m_workers.size()); }
  [[nodiscard]] runtime& owner() noexcept { return m_owner; }

  /// From outside threads: refused once shutdown began.
  void inject(void* item);
  /// From the reactor or a worker of another scheduler: never refused.
  void inject_internal(void* item) noexcept;

  /// Wakes one parked worker for work published with a seq_cst operation: one asleep on
  /// the event count, else the I/O poller. Returns false if no worker was parked.
  bool wake_one() noexcept;

  /// The I/O poller: at most one idle worker waits in the reactor (the others on the
  /// event count). Protocol: docs/design.md, "Reactor".
  [[nodiscard]] bool try_become_poller() noexcept;
  void arm_poller() noexcept;
  void stop_polling() noexcept;
  [[nodiscard]] bool poller_present() const noexcept {
    // relaxed: a hint for busy workers deciding whether to poll themselves.
    return m_poller_held.load(std::memory_order_relaxed);
  }

  void shutdown();
  [[nodiscard]] bool is_shutting_down() const noexcept {
    // acquire: pairs with the release in shutdown(); only a flag.
    return m_shutdown_started.load(std::memory_order_acquire);
  }

  std::vector<worker_stats> stats() const;
  void dump(std::ostream& out); // runtime/dump.cpp
  void report_unhandled(std::exception_ptr e) noexcept;

  scheduler_signals signals;
  injection_queue injection;
  event_count idle{signals.sleepers};
  reactor io;
  blocking_pool blocking;

  // Used by workers.
  worker& worker_at(unsigned i) noexcept { return *m_workers[i]; }
  [[nodiscard]] bool exit_requested() const noexcept {
    // acquire: pairs with the release store in shutdown() after quiescence.
    return m_exit.load(std::memory_order_acquire);
  }
  [[nodiscard]] unsigned spin_rounds() const noexcept { return m_options.spin_rounds; }
  void on_worker_parking() noexcept; // lets shutdown() re-check quiescence
  std::atomic<unsigned> parked{0};   // workers inside event_count::wait_for

  /// On worker thread `index`, before its loop: names the thread, pins it (pin_workers)
  /// and runs on_worker_start. False if that failed (the failure is kept for the
  /// constructor to rethrow); the worker then runs no task.
  bool start_worker_thread(unsigned index) noexcept;
  /// On a started worker thread, after its loop: runs on_worker_stop.
  void stop_worker_thread(unsigned index) noexcept;

private:
  [[nodiscard]] bool quiescent() noexcept;

  runtime& m_owner;
  runtime_options m_options;
  std::vector<std::unique_ptr<worker>> m_workers;
  std::vector<std::thread> m_threads;
  // Worker start-up (start_worker_thread): the CPUs workers are pinned to (empty unless
  // pin_workers), the count of workers still starting, and the first failure.
  std::vector<int> m_worker_cpus;
  std::latch m_starting;
  std::mutex m_start_mutex;
  std::exception_ptr m_start_failure; // guarded by m_start_mutex

  // A worker holds the poller role (waits in the reactor when idle).
  alignas(k_cache_line) std::atomic<bool> m_poller_held{false};
  // The poller is between its re-check and the end of its wait: a notifier that finds no
  // sleeper on the event count interrupts the reactor instead.
  std::atomic<bool> m_poller_armed{false};

  std::atomic<bool> m_shutdown_started{false};
  std::atomic<bool> m_exit{false};
  std::mutex m_shutdown_mutex;
  std::condition_variable m_shutdown_cv;
  bool m_shutdown_done = false; // guarded by m_shutdown_mutex
};

} // namespace weft::detail
