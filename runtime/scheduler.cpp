// Worker loop, stealing, parking and shutdown. The protocols are described in
// docs/design.md ("Stealing", "Parking and wake-up", "Shutdown").
//
// Invariant: a worker parks only when its own deque and yield list are empty, and only
// its owner pushes on a deque; so every task in a deque has an awake owner that will run
// it if no thief does. Wake-ups for locally pushed work are therefore a hint that buys
// parallelism. Work from outside the pool (injection queue) has no owner: it is published
// with a seq_cst RMW and followed by event_count::notify_one(), the Dekker half that pairs
// with a parking worker's prepare_wait() and re-check.

#include "scheduler.hpp"

#include <weft/errors.hpp>
#include <weft/yield.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <exception>
#include <new>
#include <system_error>

#include <pthread.h>
#include <sched.h>

namespace weft::detail {
namespace {

// Steal pacing goes up to one steal attempt in 2^4 = 16 search rounds.
constexpr unsigned k_max_steal_pacing = 4;
// How long a worker at full pacing sleeps while other deques still hold work.
constexpr std::chrono::nanoseconds k_paced_out_park = std::chrono::microseconds(200);
// The longest an idle worker sleeps before it looks at the other deques again. Wake-ups
// for locally pushed work are hints (a relaxed read of the sleeper count, no fence on the
// push path), so one can be missed; this bounds what a miss costs: a task that a busy
// worker holds waits at most this long for an idle thief. (It also once hid a wake-up
// claim left set with every worker asleep; park_or_find now hands the claim back, see
// docs/design.md, "Parking and wake-up".) 20 wake-ups a second per idle worker cost
// nothing measurable.
constexpr std::chrono::nanoseconds k_idle_recheck = std::chrono::milliseconds(50);
// Work a steal brings must last this long to be worth the steal: moving a task between
// cores costs a few cache misses on each side, ~1 us here.
constexpr auto k_worth_a_steal = std::chrono::microseconds(2);

} // namespace

worker::worker(scheduler& sched, unsigned index) : m_sched(sched), m_rng(0x9e3779b9u * (index + 1)) {
  m_context.sched = &sched;
  m_context.signals = &sched.signals;
  m_context.index = index;
  // One reactor run rarely completes more than this; beyond it the vector grows.
  m_context.reactor_ready.reserve(64);
}

std::uint32_t worker::next_random() noexcept {
  // xorshift32: victim choice needs speed, not quality.
  m_rng ^= m_rng << 13;
  m_rng ^= m_rng >> 17;
  m_rng ^= m_rng << 5;
  return m_rng;
}

void worker::run() noexcept {
  if (!m_sched.start_worker_thread(m_context.index)) {
    // The constructor stops the pool and rethrows the failure; this worker runs nothing.
    set_activity(worker_activity::stopped);
    return;
  }
  tl_worker = &m_context;
  set_activity(worker_activity::running);
  while (void* item = next_task()) {
    worker_counters::bump(m_context.counters.tasks_run);
    std::coroutine_handle<>::from_address(item).resume();
  }
  set_activity(worker_activity::stopped);
  tl_worker = nullptr;
  m_sched.stop_worker_thread(m_context.index);
}

void worker::set_activity(worker_activity a) noexcept {
  // relaxed: read only by dump(), a report.
  m_context.activity.store(a, std::memory_order_relaxed);
}

void* worker::next_task() noexcept {
  // Every k_tasks_between_looks tasks, look at the injection queue first, so that outside
  // work and timer completions are not starved by a deque that never empties; and poll
  // the reactor if no idle worker is watching it.
  if (--m_context.tasks_until_look == 0) {
    m_context.tasks_until_look = k_tasks_between_looks;
    maybe_poll_io();
    if (void* item = take_injected()) {
      return item;
    }
  }
  void* item = nullptr;
  if (m_context.deque.pop(item)) {
    return item;
  }
  if (!yielded.empty()) {
    item = yielded.front();
    yielded.pop_front();
    return item;
  }
  return search();
}

// Defined before its one caller so that it inlines there: most runs complete nothing or
// one task.
inline void worker::push_reactor_ready() noexcept {
  void* first = m_context.reactor_first;
  if (first == nullptr) {
    return;
  }
  m_context.reactor_first = nullptr;
  if (WEFT_UNLIKELY(!m_context.reactor_ready.empty())) {
    push_reactor_ready_rest();
  }
  try {
    m_context.deque.push(first);
  } catch (...) {
    m_sched.inject_internal(first); // the deque could not grow
  }
}

std::size_t worker::run_reactor(bool block, std::chrono::nanoseconds limit) noexcept {
  // Completions hand their tasks to us (schedule_internal): pushed after the run, in
  // completion order, without waking anyone, since we run them next. Only a batch worth
  // sharing wakes a sleeper (as Tokio's driver does).
  m_context.in_reactor = true;
  const std::size_t ran = block ? m_sched.io.wait_and_poll_for(limit) : m_sched.io.poll();
  m_context.in_reactor = false;
  push_reactor_ready();
  if (m_context.deque.size_approx() > 1 && wake_for_local_work_wanted(m_sched.signals)) {
    wake_for_local_work(m_context);
  }
  return ran;
}

void worker::push_reactor_ready_rest() noexcept {
  std::vector<void*>& ready = m_context.reactor_ready;
  const auto n = static_cast<std::int64_t>(ready.size());
  try {
    // Last completion first: the second completion ends up newest, below the first.
    m_context.deque.push_n_shared(n, [&](std::int64_t i) { return ready[static_cast<std::size_t>(n - 1 - i)]; });
  } catch (...) {
    // The deque could not grow: the injection queue takes them, in order.
    for (void* item : ready) {
      m_sched.inject_internal(item);
    }
  }
  ready.clear();
}

void worker::maybe_poll_io() noexcept {
  // An idle worker waiting in the reactor sees every completion at once.
  if (m_sched.poller_present()) {
    return;
  }
  // Otherwise poll, but not more often than this: a poll is a system call, and the tasks
  // between two ticks may be a few nanoseconds each.
  constexpr auto k_interval = std::chrono::microseconds(100);
  const auto now = std::chrono::steady_clock::now();
  if (now - m_last_io_poll >= k_interval) {
    m_last_io_poll = now;
    run_reactor(false);
  }
}

void* worker::take_injected() noexcept {
  // As Go's and Tokio's workers take from their global queues: a fair share of what is
  // queued (so that other workers get some too), at most k_max_batch, and no more than
  // our deque holds without growing (growth may throw; this must not).
  constexpr std::size_t k_max_batch = 32;
  const std::size_t queued = m_sched.injection.size_approx();
  if (queued == 0) {
    return nullptr; // the common case while searching: one relaxed load
  }
  const std::size_t share = queued / m_sched.worker_count() + 1;
  const auto room = static_cast<std::size_t>(std::max<std::int64_t>(m_context.deque.room(), 0)) + 1;
  void* batch[k_max_batch];
  const std::size_t n = m_sched.injection.take_batch(batch, std::min({share, k_max_batch, room}));
  if (n == 0) {
    return nullptr;
  }
  worker_counters::bump(m_context.counters.injected_taken, n);
  if (n > 1) {
    // Newest first, so that our pops (newest end) run them oldest first, as submitted.
    m_context.deque.push_n_shared(static_cast<std::int64_t>(n - 1),
                           [&](std::int64_t i) { return batch[n - 1 - static_cast<std::size_t>(i)]; });
    wake_after_local_push(m_context);
  }
  return batch[0];
}

bool worker::pause_chain() noexcept {
  maybe_poll_io(); // completions land on our deque, above the chain's next child
  if (m_sched.injection.size_approx() == 0) {
    return false;
  }
  // The chain just reset the countdown it shares with the loop: without this, the loop
  // would run 61 more tasks before it took the outside work the chain paused for.
  m_context.tasks_until_look = 1;
  return true;
}

bool worker::others_waiting() const noexcept {
  return has_local_work() || !yielded.empty() || m_sched.injection.size_approx() != 0;
}

unsigned worker::steal_pacing() const noexcept { return std::min(m_futile_steals / 4, k_max_steal_pacing); }

void worker::handoff_after_steal() noexcept {
  m_context.judging_steal = false;
  m_handed_off_early = std::chrono::steady_clock::now() - m_last_steal < k_worth_a_steal;
}

std::coroutine_handle<> handoff_after_steal(worker_context& w, std::coroutine_handle<> next) noexcept {
  w.sched->worker_at(w.index).handoff_after_steal();
  return next;
}

bool chain_pause_wanted(worker_context& w) noexcept {
  return w.sched->worker_at(w.index).pause_chain();
}

void* worker::try_steal() noexcept {
  const unsigned n = m_sched.worker_count();
  if (n <= 1) {
    return nullptr;
  }
  // A random start in [0, n) by multiply-shift, and a wrap by subtraction: no division
  // (two per attempt before, 10-40 cycles each) on a path idle workers run in a loop.
  const auto start = static_cast<unsigned>((std::uint64_t{next_random()} * n) >> 32);
  for (unsigned k = 0; k < n; ++k) {
    const unsigned victim = start + k < n ? start + k : start + k - n;
    if (victim == m_context.index) {
      continue;
    }
    void* item = nullptr;
    if (m_sched.worker_at(victim).context().deque.steal(item)) {
      worker_counters::bump(m_context.counters.steals);
      m_last_steal = std::chrono::steady_clock::now();
      m_context.judging_steal = true;
      return item;
    }
  }
  worker_counters::bump(m_context.counters.failed_steals);
  return nullptr;
}

void* worker::search() noexcept {
  // After a futile steal the search goes on where the steal interrupted it: a victim whose
  // deque always holds tiny tasks must not keep us in the first, busiest rounds.
  bool resume_search = false;
  if (m_last_steal != std::chrono::steady_clock::time_point{}) {
    // Our deque is empty again: was the work the last steal brought worth a steal? If it
    // handed off to a waiting task, only the work up to the hand-off counts.
    const bool futile = m_handed_off_early || std::chrono::steady_clock::now() - m_last_steal < k_worth_a_steal;
    m_futile_steals = futile ? m_futile_steals + 1 : 0;
    m_last_steal = {};
    m_handed_off_early = false;
    m_context.judging_steal = false;
    resume_search = futile;
  }
  if (!resume_search) {
    m_search_round = 0;
  }
  set_activity(worker_activity::searching);
  void* item = search_or_exit();
  set_activity(worker_activity::running);
  return item;
}

void* worker::search_or_exit() noexcept {
  for (;;) {
    const unsigned rounds = m_sched.spin_rounds();
    for (; m_search_round < rounds; ++m_search_round) {
      const unsigned round = m_search_round;
      if (void* item = take_injected()) {
        return item;
      }
      // After futile steals, steal on every 2nd, 4th, ... 16th round only.
      if (m_rounds_until_steal == 0) {
        m_rounds_until_steal = (1u << steal_pacing()) - 1;
        if (void* item = try_steal()) {
          ++m_search_round;
          return item;
        }
      } else {
        --m_rounds_until_steal;
      }
      // Completions the reactor has ready become our tasks (unless the poller runs them).
      if (!m_sched.poller_present() && run_reactor(false) > 0) {
        if (void* item = nullptr; m_context.deque.pop(item)) {
          return item;
        }
      }
      if (m_sched.exit_requested()) {
        return nullptr;
      }
      // relaxed: a hint. During shutdown nothing new arrives from outside, so spinning only
      // delays the quiescence that shutdown() waits for; park at once.
      if (m_context.signals->stopping.load(std::memory_order_relaxed)) {
        break;
      }
      if (round < rounds / 2) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    m_search_round = 0;
    if (void* item = park_or_find()) {
      return item;
    }
    if (m_sched.exit_requested()) {
      return nullptr;
    }
  }
}

void* worker::park_or_find() noexcept {
  const std::uint32_t key = m_sched.idle.prepare_wait();
  // Hand back any wake-up claim now, after reading the key. A pusher that claimed the
  // wake-up, counted us in notify_one() and bumped the epoch after our prepare_wait read
  // it, woke nobody: we sleep on the new epoch, and the claim stayed set with every
  // worker asleep, so no later push woke anyone (docs/design.md, "Parking and wake-up").
  // release: a pusher whose exchange reads this false sees our key read happen before
  // its epoch bump, so the wake-up it then sends is one that we (or another announced
  // worker) will see and answer by handing the claim back again on the way out.
  m_sched.signals.wake_pending.store(false, std::memory_order_release);
  // The first idle worker waits in the reactor instead of on the event count, so that I/O
  // and timers are watched whenever a worker is idle.
  const bool poller = m_sched.try_become_poller();
  if (poller) {
    m_sched.arm_poller();
  }
  auto withdraw = [&] {
    if (poller) {
      m_sched.stop_polling();
    }
    m_sched.idle.cancel_wait();
    // A wake-up for local work may have been aimed at us while we were announced; as after
    // a real park, hand its claim back, or no local push would wake anyone again until
    // some worker parks and wakes (a worker asleep in the reactor with no I/O: never).
    // release: pairs with the relaxed hint load in push_local(), as below.
    m_sched.signals.wake_pending.store(false, std::memory_order_release);
  };
  // Re-check after announcing (the seq_cst half of the handshake; see file comment).
  if (m_sched.exit_requested()) {
    withdraw();
    return nullptr;
  }
  if (m_sched.injection.non_empty()) {
    withdraw();
    return take_injected();
  }
  // At full steal pacing, work on the other deques has been too small to be worth
  // stealing for a while: sleep, but only for a while, in case it grows.
  const bool paced_out = steal_pacing() == k_max_steal_pacing;
  bool others_have_work = false;
  for (unsigned i = 0; i < m_sched.worker_count(); ++i) {
    if (i != m_context.index && m_sched.worker_at(i).has_local_work()) {
      if (!paced_out) {
        withdraw();
        return try_steal();
      }
      others_have_work = true;
      break;
    }
  }
  if (poller && m_sched.idle.notified_since(key)) {
    withdraw(); // a wake-up meant for a parked worker came meanwhile: look again
    return nullptr;
  }
  worker_counters::bump(m_context.counters.parks);
  // seq_cst: a count read by shutdown() under its own re-checks.
  m_sched.parked.fetch_add(1, std::memory_order_seq_cst);
  m_sched.on_worker_parking();
  void* item = nullptr;
  const auto limit = others_have_work ? k_paced_out_park : k_idle_recheck;
  if (poller) {
    set_activity(worker_activity::polling);
    run_reactor(true, limit);
    m_sched.stop_polling();
    m_sched.idle.finish_wait();
  } else {
    set_activity(worker_activity::parked);
    m_sched.idle.wait_for(key, limit);
  }
  set_activity(worker_activity::searching);
  m_sched.parked.fetch_sub(1, std::memory_order_seq_cst);
  worker_counters::bump(m_context.counters.wakeups);
  // release: lets the next local push request another wake-up; pairs with the relaxed
  // hint load in push_local() (a stale read only delays a wake-up).
  m_sched.signals.wake_pending.store(false, std::memory_order_release);
  if (poller) {
    (void)m_context.deque.pop(item); // what the completions made runnable
  }
  return item;
}

namespace {

// The options with `workers` resolved: 0 becomes the hardware thread count.
runtime_options with_resolved_workers(runtime_options options) noexcept {
  if (options.workers == 0) {
    options.workers = std::max(1u, std::thread::hardware_concurrency());
  }
  return options;
}

// A CPU set sized at run time: cpu_set_t holds CPU_SETSIZE (1024) CPUs, and larger
// machines exist.
class dynamic_cpu_set {
public:
  explicit dynamic_cpu_set(int cpus) : m_cpus(cpus), m_set(CPU_ALLOC(cpus)), m_bytes(CPU_ALLOC_SIZE(cpus)) {
    if (m_set == nullptr) {
      throw std::bad_alloc();
    }
    CPU_ZERO_S(m_bytes, m_set);
  }
  dynamic_cpu_set(const dynamic_cpu_set&) = delete;
  dynamic_cpu_set& operator=(const dynamic_cpu_set&) = delete;
  ~dynamic_cpu_set() { CPU_FREE(m_set); }

  [[nodiscard]] int capacity() const noexcept { return m_cpus; }
  [[nodiscard]] std::size_t bytes() const noexcept { return m_bytes; }
  [[nodiscard]] cpu_set_t* get() noexcept { return m_set; }
  [[nodiscard]] bool contains(int cpu) const noexcept { return CPU_ISSET_S(static_cast<std::size_t>(cpu), m_bytes, m_set); }
  void add(int cpu) noexcept { CPU_SET_S(static_cast<std::size_t>(cpu), m_bytes, m_set); }

private:
  int m_cpus;
  cpu_set_t* m_set;
  std::size_t m_bytes;
};

// The CPUs this process may run on, in increasing order. The kernel's mask may be larger
// than a cpu_set_t: on EINVAL, retry with a set twice the size.
std::vector<int> allowed_cpus() {
  for (int capacity = CPU_SETSIZE;; capacity *= 2) {
    dynamic_cpu_set set(capacity);
    if (sched_getaffinity(0, set.bytes(), set.get()) != 0) {
      if (errno == EINVAL && capacity < (1 << 20)) {
        continue;
      }
      throw std::system_error(errno, std::generic_category(), "weft: pin_workers: sched_getaffinity failed");
    }
    std::vector<int> cpus;
    for (int cpu = 0; cpu < set.capacity(); ++cpu) {
      if (set.contains(cpu)) {
        cpus.push_back(cpu);
      }
    }
    return cpus;
  }
}

} // namespace

scheduler::scheduler(runtime& owner, runtime_options options)
    : io(*this), blocking(options.max_blocking_threads, options.blocking_keep_alive), m_owner(owner),
      m_options(with_resolved_workers(std::move(options))), m_starting(static_cast<std::ptrdiff_t>(m_options.workers)) {
  const unsigned n = m_options.workers;
  if (m_options.pin_workers) {
    m_worker_cpus = allowed_cpus();
  }
  m_workers.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    m_workers.push_back(std::make_unique<worker>(*this, i));
    m_workers.back()->context().deque.set_private_limit(m_options.private_tasks);
  }
  if (n == 1) {
    // Only workers steal (try_steal), and a lone worker has no one to steal from it: its
    // pops need no locked instruction. Set before any thread starts.
    m_workers.front()->context().deque.declare_no_thieves();
  }
  io.start();
  m_threads.reserve(n);
  try {
    for (unsigned i = 0; i < n; ++i) {
      m_threads.emplace_back([w = m_workers[i].get()] { w->run(); });
    }
    // Every worker has named and pinned itself and run on_worker_start; the latch orders
    // what they stored before this.
    m_starting.wait();
    std::lock_guard lock(m_start_mutex);
    if (m_start_failure) {
      std::rethrow_exception(m_start_failure);
    }
  } catch (...) {
    // relaxed is enough for the flag; notify_all's seq_cst bump publishes it to sleepers.
    m_exit.store(true, std::memory_order_release);
    idle.notify_all();
    io.stop();
    for (auto& t : m_threads) {
      t.join();
    }
    throw;
  }
}

scheduler::~scheduler() { shutdown(); }

bool scheduler::start_worker_thread(unsigned index) noexcept {
  // Linux keeps 15 characters: "weft-w4095" fits. A name is cosmetic: failures ignored.
  char name[16];
  std::snprintf(name, sizeof name, "weft-w%u", index);
  (void)pthread_setname_np(pthread_self(), name);
  std::exception_ptr failure;
  try {
    if (!m_worker_cpus.empty()) {
      const int cpu = m_worker_cpus[index % m_worker_cpus.size()];
      dynamic_cpu_set set(cpu + 1);
      set.add(cpu);
      if (const int err = pthread_setaffinity_np(pthread_self(), set.bytes(), set.get()); err != 0) {
        throw std::system_error(err, std::generic_category(), "weft: pin_workers: pthread_setaffinity_np failed");
      }
    }
    if (m_options.on_worker_start) {
      m_options.on_worker_start(index);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    std::lock_guard lock(m_start_mutex);
    if (!m_start_failure) {
      m_start_failure = failure;
    }
  }
  m_starting.count_down();
  return !failure;
}

void scheduler::stop_worker_thread(unsigned index) noexcept {
  if (m_options.on_worker_stop) {
    m_options.on_worker_stop(index); // noexcept here: a throw ends the program
  }
}

void scheduler::inject(void* item) {
  if (!injection.push_if_open(item)) {
    throw shutdown_error("weft: work submitted to a runtime that is shutting down or shut down");
  }
  wake_one();
}

void scheduler::inject_internal(void* item) noexcept {
  try {
    injection.push(item);
  } catch (...) {
    std::fputs("weft: out of memory while scheduling a task internally\n", stderr);
    std::terminate();
  }
  wake_one();
}

bool scheduler::wake_one() noexcept {
  switch (idle.notify_one()) {
  case event_count::notify_result::nobody_waiting:
    return false;
  case event_count::notify_result::woke_sleeper:
    return true;
  case event_count::notify_result::woke_nobody:
    break;
  }
  // The announced waiters are the poller, or workers on their way to the futex (which
  // see the new epoch). Interrupt the poller if it is waiting; an extra interrupt only
  // makes it look for work once more.
  // seq_cst: the notifier's read in the Dekker pair with arm_poller() (our caller
  // published its work and notify_one() bumped the epoch, both seq_cst, before this).
  if (m_poller_armed.exchange(false, std::memory_order_seq_cst)) {
    io.interrupt();
  }
  return true;
}

bool scheduler::try_become_poller() noexcept {
  // acq_rel: a role flag; pairs with the release in stop_polling().
  return !m_poller_held.exchange(true, std::memory_order_acq_rel);
}

void scheduler::arm_poller() noexcept {
  // seq_cst: the poller's write in the Dekker pair with wake_one(); ordered before its
  // re-check loads (injection queue, deques, epoch).
  m_poller_armed.store(true, std::memory_order_seq_cst);
}

void scheduler::stop_polling() noexcept {
  // relaxed: a late wake_one() that still sees it armed only interrupts the reactor once
  // more, which is harmless.
  m_poller_armed.store(false, std::memory_order_relaxed);
  // release: the role is free; pairs with the acquire in try_become_poller().
  m_poller_held.store(false, std::memory_order_release);
}

void scheduler::on_worker_parking() noexcept {
  // acquire: pairs with the release store of m_shutdown_started.
  if (m_shutdown_started.load(std::memory_order_acquire)) {
    std::lock_guard lock(m_shutdown_mutex);
    m_shutdown_cv.notify_all();
  }
}

bool scheduler::quiescent() noexcept {
  // seq_cst: read after the workers' seq_cst increments of parked. Every worker parked
  // means every deque and yield list is empty (they park only then); with the injection
  // queue empty and no timer armed, nothing can make a task runnable again.
  return parked.load(std::memory_order_seq_cst) == worker_count() && !injection.non_empty() &&
         io.armed_timers() == 0 && io.pending_ops() == 0 &&
         parked.load(std::memory_order_seq_cst) == worker_count();
}

void scheduler::shutdown() {
  check_not_on_worker("weft::runtime::shutdown");
  if (m_shutdown_started.exchange(true, std::memory_order_acq_rel)) {
    std::unique_lock lock(m_shutdown_mutex);
    m_shutdown_cv.wait(lock, [this] { return m_shutdown_done; });
    return;
  }
  injection.close(); // outside submissions are refused from here on
  // relaxed: suspension points poll it; the timers it would miss are cancelled below.
  signals.stopping.store(true, std::memory_order_relaxed);
  io.close_timers();
  blocking.close();
  io.close_pending_ops();
  {
    // Wait until no task can run any more. Workers notify the cv as they park; the
    // timeout covers a wake-up that lands between our check and our wait.
    std::unique_lock lock(m_shutdown_mutex);
    while (!quiescent()) {
      m_shutdown_cv.wait_for(lock, std::chrono::milliseconds(1));
    }
  }
  // release: workers that see it exit; notify_all wakes the parked ones, and stopping
  // the reactor the poller (nothing is left for it to run).
  m_exit.store(true, std::memory_order_release);
  idle.notify_all();
  io.stop();
  for (auto& t : m_threads) {
    t.join();
  }
  m_threads.clear();
  {
    std::lock_guard lock(m_shutdown_mutex);
    m_shutdown_done = true;
  }
  m_shutdown_cv.notify_all();
}

std::vector<worker_stats> scheduler::stats() const {
  std::vector<worker_stats> out;
  out.reserve(m_workers.size());
  for (const auto& w : m_workers) {
    const worker_counters& c = const_cast<worker&>(*w).context().counters;
    // relaxed: statistics; a snapshot need not be consistent across counters.
    out.push_back(worker_stats{c.tasks_run.load(std::memory_order_relaxed), c.steals.load(std::memory_order_relaxed),
                               c.failed_steals.load(std::memory_order_relaxed), c.parks.load(std::memory_order_relaxed),
                               c.wakeups.load(std::memory_order_relaxed),
                               c.injected_taken.load(std::memory_order_relaxed),
                               c.io_waits.load(std::memory_order_relaxed)});
  }
  return out;
}

void scheduler::report_unhandled(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return; // a cancelled task is not an error (asyncio does not log CancelledError)
  } catch (...) {
  }
  if (m_options.on_unhandled_exception) {
    m_options.on_unhandled_exception(e);
    return;
  }
  print_unhandled_exception(e);
}

// --- hooks called from public headers ---

void print_unhandled_exception(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "weft: exception escaped a detached task: %s\n", ex.what());
  } catch (...) {
    std::fprintf(stderr, "weft: exception of unknown type escaped a detached task\n");
  }
}

void wake_for_local_work(worker_context& w) noexcept {
  scheduler_signals& s = *w.signals;
  // acq_rel: claims the single in-flight wake-up; the woken worker's release store of
  // false hands the claim back.
  if (!s.wake_pending.exchange(true, std::memory_order_acq_rel)) {
    if (!w.sched->wake_one()) {
      // Nobody was waiting after all: give the claim back. relaxed: a hint flag.
      s.wake_pending.store(false, std::memory_order_relaxed);
    }
  }
}

void schedule_internal(scheduler& sched, std::coroutine_handle<> h) noexcept {
  worker_context* w = tl_worker;
  if (w != nullptr && w->sched == &sched) {
    try {
      if (WEFT_UNLIKELY(w->in_reactor)) {
        // Pushed in completion order after the run (worker::push_reactor_ready).
        if (w->reactor_first == nullptr) {
          w->reactor_first = h.address();
        } else {
          w->reactor_ready.push_back(h.address());
        }
        return;
      }
      push_local(*w, h);
      return;
    } catch (...) {
      // fall through to the injection queue
    }
  }
  sched.inject_internal(h.address());
}

void schedule_from_worker(std::coroutine_handle<> h) noexcept {
  worker_context* w = tl_worker;
  WEFT_ASSERT(w != nullptr);
  schedule_internal(*w->sched, h);
}

void report_unhandled_exception(std::exception_ptr e) noexcept {
  if (worker_context* w = tl_worker) {
    w->sched->report_unhandled(std::move(e));
    return;
  }
  if (runtime* rt = runtime::current()) {
    rt->scheduler().report_unhandled(std::move(e));
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return;
  } catch (...) {
  }
  print_unhandled_exception(e);
}

void schedule_yield(std::coroutine_handle<> h) {
  worker_context* w = tl_worker;
  if (w == nullptr) {
    throw no_runtime_error("weft::yield awaited outside a runtime's worker");
  }
  // relaxed: a flag polled at suspension points; see runtime shutdown.
  if (w->signals->stopping.load(std::memory_order_relaxed)) {
    throw cancelled_error("weft::yield: runtime is shutting down");
  }
  // With other tasks waiting, queue behind them in the pool's shared queue, which every
  // worker takes in fair shares: on our yield list (which only we run) a set of tasks that
  // keep yielding would stay where it started, and one worker could run three of them
  // while another runs one (docs/design.md, "Yield"). Tasks that yielded earlier may wait
  // in the shared queue: our list, run before it, would let us pass them. A worker with
  // nothing else to run keeps its task: no other worker needs it, and a cross-core trip
  // costs more.
  worker& self = w->sched->worker_at(w->index);
  if (w->sched->worker_count() > 1 && self.others_waiting()) {
    w->sched->inject_internal(h.address());
    return;
  }
  self.yielded.push_back(h.address());
}

void inject_from_outside(scheduler& sched, std::coroutine_handle<> h) { sched.inject(h.address()); }

void check_not_on_worker(const char* what) {
  if (tl_worker != nullptr) {
    throw blocking_call_error(std::string(what) + " called on a worker thread, where blocking would stall the pool");
  }
}

} // namespace weft::detail
