#include "reactor.hpp"

#include "scheduler.hpp"

#include <weft/errors.hpp>
#include <weft/sleep.hpp>
#include <weft/detail/deadline.hpp>
#include <weft/use_task.hpp>
#include <weft/yield.hpp>

#include <cstddef>
#include <system_error>
#include <thread>
#include <utility>

namespace weft::detail {

reactor::reactor(scheduler& sched) : m_sched(sched) {}

reactor::~reactor() { stop(); }

void reactor::start() { m_guard.emplace(m_io.get_executor()); }

void reactor::stop() noexcept {
  m_guard.reset();
  m_io.stop();
}

template <class Run>
std::size_t reactor::run_guarded(Run run) noexcept {
  try {
    return run(m_io);
  } catch (...) {
    // Only a handler posted by a user can throw (weft's own do not). Report it as an
    // exception escaping a detached task would be, and go on.
    m_sched.report_unhandled(std::current_exception());
    return 1;
  }
}

std::size_t reactor::poll() noexcept {
  return run_guarded([](asio::io_context& io) { return io.poll(); });
}

std::size_t reactor::wait_and_poll_for(std::chrono::nanoseconds timeout) noexcept {
  const std::size_t ran = run_guarded([timeout](asio::io_context& io) { return io.run_one_for(timeout); });
  return ran + poll();
}

void reactor::interrupt() noexcept {
  try {
    asio::post(m_io, [] {});
  } catch (...) {
    // Out of memory: the poller wakes at its next I/O event or timer instead.
  }
}

timer_op::timer_op(asio::io_context& io, std::chrono::steady_clock::time_point due, std::coroutine_handle<> h,
                   scheduler& s, const cancel_state* sleeper)
    : timer(io, due), deadline(due), handle(h), sched(s), owner(sleeper) {
  on_cancel.op = this;
  on_cancel.fn = [](cancel_callback* cb) noexcept {
    timer_op* op = static_cast<timer_cancel_callback*>(cb)->op;
    op->sched.io.cancel_timer(op);
  };
}

timer_op* reactor::create_timer(std::chrono::steady_clock::time_point deadline, std::coroutine_handle<> h,
                                const cancel_state* sleeper) {
  return new timer_op(m_io, deadline, h, m_sched, sleeper);
}

bool reactor::arm_timer(timer_op* op) {
  std::lock_guard lock(m_timers_mutex);
  if (m_closed) {
    op->aborted = true;
    return false;
  }
  if (op->cancel_requested) {
    return false;
  }
  op->next = m_timers;
  if (m_timers != nullptr) {
    m_timers->prev = op;
  }
  m_timers = op;
  ++m_armed;
  op->armed = true;
  op->timer.async_wait([op](const std::error_code& ec) {
    op->aborted = (ec == asio::error::operation_aborted);
    schedule_internal(op->sched, op->handle); // onto this worker's deque
  });
  return true;
}

void reactor::cancel_timer(timer_op* op) noexcept {
  std::lock_guard lock(m_timers_mutex);
  op->cancel_requested = true;
  if (op->armed) {
    op->timer.cancel();
  }
}

void reactor::release_timer(timer_op* op) noexcept {
  {
    std::lock_guard lock(m_timers_mutex);
    if (op->armed) {
      if (op->prev != nullptr) {
        op->prev->next = op->next;
      } else {
        m_timers = op->next;
      }
      if (op->next != nullptr) {
        op->next->prev = op->prev;
      }
      --m_armed;
    }
  }
  // Unlinked, so close_timers() can no longer touch it; its handler has already run.
  delete op;
}

void reactor::close_timers() noexcept {
  std::lock_guard lock(m_timers_mutex);
  m_closed = true;
  for (timer_op* op = m_timers; op != nullptr; op = op->next) {
    op->timer.cancel();
  }
}

std::size_t reactor::armed_timers() noexcept {
  std::lock_guard lock(m_timers_mutex);
  return m_armed;
}

} // namespace weft::detail

namespace weft {

sleep_awaiter::~sleep_awaiter() {
  if (m_cancel != nullptr) {
    m_cancel->remove(&m_op->on_cancel); // only if await_resume did not run (exception paths)
  }
  if (m_op != nullptr) {
    m_op->sched.io.release_timer(m_op);
  }
}

bool sleep_awaiter::suspend(std::coroutine_handle<> h, detail::cancel_state* cancel) {
  detail::worker_context* w = detail::tl_worker;
  if (w == nullptr) {
    throw no_runtime_error("weft::sleep awaited outside a runtime's worker");
  }
  if (m_awaited) {
    // Its timer is spent (or still armed): make a new sleep for each await.
    throw usage_error("weft::sleep awaited a second time");
  }
  m_awaited = true;
  // relaxed: a flag; a sleep that misses it is cancelled by close_timers().
  if (w->signals->stopping.load(std::memory_order_relaxed)) {
    throw cancelled_error("weft::sleep: runtime is shutting down");
  }
  if (cancel != nullptr && cancel->is_requested()) {
    throw cancelled_error("weft::sleep: task cancelled");
  }
  const bool passed = m_expiry == expiry::passed ||
                      (m_expiry == expiry::unknown && m_deadline <= std::chrono::steady_clock::now());
  if (passed) {
    detail::schedule_yield(h);
    return true;
  }
  detail::reactor& io = w->sched->io;
  m_op = io.create_timer(m_deadline, h, cancel);
  // Install before arming: once armed, the timer may fire and resume us on another
  // worker before this function returns.
  if (cancel != nullptr) {
    if (!cancel->install(&m_op->on_cancel)) {
      throw cancelled_error("weft::sleep: task cancelled");
    }
    m_cancel = cancel;
  }
  return io.arm_timer(m_op); // false: cancelled or closed meanwhile; await_resume throws
}

void sleep_awaiter::await_resume() {
  if (m_op == nullptr) {
    return; // the yield path
  }
  if (m_cancel != nullptr) {
    m_cancel->remove(&m_op->on_cancel);
    m_cancel = nullptr;
  }
  if (m_op->aborted || m_op->cancel_requested) {
    throw cancelled_error("weft::sleep cancelled");
  }
}

} // namespace weft

namespace weft::detail {

// state: armed -> firing -> fired, or armed -> stopped. The handler and the stopper each
// hold one reference; the last to let go frees the op.
struct deadline_op {
  deadline_op(asio::io_context& io, std::chrono::steady_clock::time_point deadline, deadline_callback* c)
      : timer(io, deadline), cb(c) {}
  static constexpr int k_armed = 0, k_firing = 1, k_fired = 2, k_stopped = 3;

  void release() noexcept {
    // acq_rel: the last owner sees every write of the other before freeing.
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete this;
    }
  }

  asio::steady_timer timer;
  deadline_callback* cb;
  std::atomic<int> state{k_armed};
  std::atomic<int> refs{2};
};

namespace {

// Owns the handler's reference, so a handler destroyed without running (reactor stopped
// at shutdown) still lets go of it.
struct deadline_ref {
  explicit deadline_ref(deadline_op* o) noexcept : op(o) {}
  deadline_ref(deadline_ref&& other) noexcept : op(std::exchange(other.op, nullptr)) {}
  deadline_ref(const deadline_ref&) = delete;
  deadline_ref& operator=(const deadline_ref&) = delete;
  deadline_ref& operator=(deadline_ref&&) = delete;
  ~deadline_ref() {
    if (op != nullptr) {
      op->release();
    }
  }
  deadline_op* op;
};

} // namespace

asio::io_context& io_context_of(scheduler& sched) noexcept { return sched.io.context(); }

bool register_pending_op(scheduler& sched, pending_op_node& node) { return sched.io.register_pending_op(node); }

void unregister_pending_op(scheduler& sched, pending_op_node& node) noexcept { sched.io.unregister_pending_op(node); }

bool register_started_op(scheduler& sched, pending_op_node& node) noexcept {
  return sched.io.register_started_op(node);
}

reactor::op_shard& reactor::shard_for_new_op(pending_op_node& node) noexcept {
  const worker_context* w = tl_worker;
  node.shard = w != nullptr ? w->index % k_op_shards : 0;
  return m_op_shards[node.shard];
}

bool reactor::register_pending_op(pending_op_node& node) {
  op_shard& shard = shard_for_new_op(node);
  std::lock_guard lock(shard.lock);
  if (shard.closed) {
    return false;
  }
  link_op(shard, node);
  return true;
}

bool reactor::register_started_op(pending_op_node& node) noexcept {
  op_shard& shard = shard_for_new_op(node);
  std::lock_guard lock(shard.lock);
  link_op(shard, node); // even when closed: shutdown must wait for its completion
  return !shard.closed;
}

void reactor::link_op(op_shard& shard, pending_op_node& node) noexcept {
  node.prev = nullptr;
  node.next = shard.head;
  if (shard.head != nullptr) {
    shard.head->prev = &node;
  }
  shard.head = &node;
  ++shard.count;
}

void reactor::unregister_pending_op(pending_op_node& node) noexcept {
  op_shard& shard = m_op_shards[node.shard];
  std::lock_guard lock(shard.lock);
  if (node.prev != nullptr) {
    node.prev->next = node.next;
  } else {
    shard.head = node.next;
  }
  if (node.next != nullptr) {
    node.next->prev = node.prev;
  }
  --shard.count;
}

void reactor::close_pending_ops() noexcept {
  // Shard by shard: an operation registering meanwhile either finds its shard closed or
  // is linked before the pass reaches the shard, and is cancelled by it.
  for (op_shard& shard : m_op_shards) {
    std::lock_guard lock(shard.lock);
    shard.closed = true;
    for (pending_op_node* n = shard.head; n != nullptr; n = n->next) {
      n->cancel(n);
    }
  }
}

std::size_t reactor::pending_ops() noexcept {
  std::size_t total = 0;
  for (op_shard& shard : m_op_shards) {
    std::lock_guard lock(shard.lock);
    total += shard.count;
  }
  return total;
}

deadline_op* start_deadline(std::chrono::steady_clock::time_point deadline, deadline_callback* cb) {
  runtime& rt = runtime::current_or_throw();
  reactor& io = rt.scheduler().io;
  auto* op = new deadline_op(io.context(), deadline, cb);
  op->timer.async_wait([ref = deadline_ref(op)](const std::error_code&) {
    int expected = deadline_op::k_armed;
    // acq_rel: claims the right to run the callback against stop_deadline()'s CAS.
    if (ref.op->state.compare_exchange_strong(expected, deadline_op::k_firing, std::memory_order_acq_rel)) {
      ref.op->cb->fn(ref.op->cb);
      // release: stop_deadline() waits for this before it lets the callback's owner go.
      ref.op->state.store(deadline_op::k_fired, std::memory_order_release);
    }
  });
  return op;
}

bool stop_deadline(deadline_op* op) noexcept {
  int expected = deadline_op::k_armed;
  bool fired = true;
  // acq_rel: against the handler's CAS; exactly one of us wins.
  if (op->state.compare_exchange_strong(expected, deadline_op::k_stopped, std::memory_order_acq_rel)) {
    fired = false;
    // Thread-safe against the reactor: timer operations go through its mutex-guarded queue;
    // the handler will run soon with operation_aborted and do nothing.
    op->timer.cancel();
  } else {
    // acquire: pairs with the handler's release store; wait out a running callback.
    while (op->state.load(std::memory_order_acquire) == deadline_op::k_firing) {
      std::this_thread::yield();
    }
  }
  op->release();
  return fired;
}

} // namespace weft::detail
