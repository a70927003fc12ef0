#pragma once
// The reactor: the runtime's asio::io_context, run by the workers themselves. An idle
// worker waits for I/O in it (the poller), busy workers poll it now and then, and a
// completion pushes the waiting coroutine onto the deque of the worker that ran it: no
// thread of its own, no cross-thread hand-off. Protocol: docs/design.md, "Reactor".

#include <weft/detail/cancel_state.hpp>
#include <weft/detail/config.hpp>
#include <weft/detail/pending_op.hpp>
#include <weft/detail/spin_lock.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <mutex>
#include <optional>

namespace weft::detail {

class scheduler;

struct timer_op;

struct timer_cancel_callback : cancel_callback {
  timer_op* op = nullptr;
};

struct timer_op {
  timer_op(asio::io_context& io, std::chrono::steady_clock::time_point due, std::coroutine_handle<> h,
           scheduler& s, const cancel_state* sleeper);

  asio::steady_timer timer;
  // A copy of the timer's expiry for dump(), which runs on other threads: Asio does not
  // promise that reading a timer is safe beside the reactor's use of it.
  std::chrono::steady_clock::time_point deadline;
  std::coroutine_handle<> handle;
  scheduler& sched;
  const cancel_state* owner; // the sleeping task's, for dump(); may be null
  // Installed in the task's cancel_state while it sleeps; cancels the timer.
  timer_cancel_callback on_cancel;
  // Written by the timer's handler before it hands the task back; read by the task after
  // it resumes (ordered by the deque or injection queue that carried it).
  bool aborted = false;
  // Guarded by reactor::m_timers_mutex.
  bool cancel_requested = false;
  bool armed = false;
  timer_op* prev = nullptr;
  timer_op* next = nullptr;
};

class reactor {
public:
  explicit reactor(scheduler& sched);
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;
  ~reactor();

  /// Keeps the io_context running while it has no operation (a work guard).
  void start();
  /// Stops the io_context: every wait returns, and handlers still queued are destroyed
  /// without running when the reactor is.
  void stop() noexcept;

  asio::io_context& context() noexcept { return m_io; }

  /// Runs the handlers that are ready, without blocking. Returns how many ran.
  std::size_t poll() noexcept;
  /// Blocks until a handler has run (an I/O or timer completion, or interrupt()), or for
  /// `timeout` at most, then runs the others that are ready. Returns how many ran.
  std::size_t wait_and_poll_for(std::chrono::nanoseconds timeout) noexcept;
  /// Makes a blocked wait_and_poll_for() return (posts an empty handler).
  void interrupt() noexcept;

  /// Creates an unarmed timer that will resume h. Throws: std::bad_alloc.
  timer_op* create_timer(std::chrono::steady_clock::time_point deadline, std::coroutine_handle<> h,
                         const cancel_state* sleeper);
  /// Arms op. Returns false, leaving it unarmed, if it was cancelled already or the
  /// reactor is closed (then op->aborted is set).
  bool arm_timer(timer_op* op);
  /// Cancels op: now if armed (its task resumes with op->aborted), or prevents arming.
  void cancel_timer(timer_op* op) noexcept;
  /// Frees a timer whose task has resumed (or never suspended).
  void release_timer(timer_op* op) noexcept;
  /// Refuses new timers and cancels the armed ones (their tasks see cancelled_error).
  void close_timers() noexcept;
  [[nodiscard]] std::size_t armed_timers() noexcept;

  /// The registry of suspended operations that shutdown must cancel: Asio operations
  /// awaited through weft::use_task, tasks queued on synchronisation primitives.
  bool register_pending_op(pending_op_node& node);
  bool register_started_op(pending_op_node& node) noexcept;
  void unregister_pending_op(pending_op_node& node) noexcept;
  /// Refuses new operations and cancels the registered ones.
  void close_pending_ops() noexcept;
  [[nodiscard]] std::size_t pending_ops() noexcept;

  /// For dump(): calls f(const timer_op&) for each armed timer, then g(const
  /// pending_op_node&) for each registered operation, each list under its lock (so the
  /// waiting tasks' frames stay alive meanwhile). f and g must not call into the reactor.
  template <class F, class G>
  void visit_waits(F&& f, G&& g) {
    {
      std::lock_guard lock(m_timers_mutex);
      for (const timer_op* op = m_timers; op != nullptr; op = op->next) {
        f(*op);
      }
    }
    for (op_shard& shard : m_op_shards) {
      std::lock_guard lock(shard.lock);
      for (const pending_op_node* n = shard.head; n != nullptr; n = n->next) {
        g(*n);
      }
    }
  }

private:
  // The registry is split in shards, one per worker index (modulo), each on its own cache
  // line: an operation registers on the shard of the worker that starts it, so workers
  // doing I/O at once neither share a lock nor bounce its line. The node remembers its
  // shard, since it may resume (and unregister) on another worker.
  static constexpr unsigned k_op_shards = 16;
  struct alignas(k_cache_line) op_shard {
    spin_lock lock;                    // held for a few pointer updates (or by shutdown's cancel pass)
    pending_op_node* head = nullptr;   // guarded by lock
    std::size_t count = 0;             // guarded by lock
    bool closed = false;               // guarded by lock
  };
  op_shard& shard_for_new_op(pending_op_node& node) noexcept;
  static void link_op(op_shard& shard, pending_op_node& node) noexcept; // shard.lock held

  // Runs run(m_io), reporting an exception a user's handler throws.
  template <class Run>
  std::size_t run_guarded(Run run) noexcept;

  scheduler& m_sched;
  // Default concurrency hint: several workers run it, and Asio must wake another of them
  // when one finds more handlers than it runs.
  asio::io_context m_io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> m_guard;

  std::mutex m_timers_mutex;
  timer_op* m_timers = nullptr; // guarded by m_timers_mutex
  std::size_t m_armed = 0;      // guarded by m_timers_mutex
  bool m_closed = false;        // guarded by m_timers_mutex

  std::array<op_shard, k_op_shards> m_op_shards;
};

} // namespace weft::detail
