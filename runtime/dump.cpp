// runtime::dump(): a snapshot of a runtime for people debugging a stall (what tokio-console
// or a debugger would otherwise be needed for), and the process-wide list of runtimes
// that runtime::dump_all() walks. Nothing here is on a hot path.

#include "scheduler.hpp"

#include <weft/detail/cancel_state.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

namespace weft::detail {
namespace {

const char* activity_name(worker_activity a) noexcept {
  switch (a) {
  case worker_activity::starting: return "starting";
  case worker_activity::running: return "running a task";
  case worker_activity::searching: return "searching for work";
  case worker_activity::polling: return "parked, waiting for I/O and timers";
  case worker_activity::parked: return "parked";
  case worker_activity::stopped: return "stopped";
  }
  return "?";
}

// Waiting tasks grouped by what they wait on and where they were started: a server with
// 10,000 connections waiting on reads prints one line, not 10,000.
struct wait_group {
  std::size_t count = 0;
  std::chrono::steady_clock::duration soonest = std::chrono::steady_clock::duration::max();
};
using wait_key = std::tuple<std::string, std::string, std::string>; // what, origin, function

wait_key key_of(const char* what, const cancel_state* owner) {
  if (owner == nullptr || owner->origin().line() == 0) {
    return {what, "a task whose start was not recorded", ""};
  }
  const weft::source_location& at = owner->origin();
  return {what, std::string(owner->origin_kind()) + " " + at.file_name() + ":" + std::to_string(at.line()),
          at.function_name()};
}

void print_groups(std::ostream& out, const char* heading, const std::map<wait_key, wait_group>& groups,
                  bool with_due) {
  std::size_t total = 0;
  for (const auto& [key, g] : groups) {
    total += g.count;
  }
  out << "  " << heading << ": " << total << '\n';
  for (const auto& [key, g] : groups) {
    const auto& [what, origin, function] = key;
    out << "    " << g.count << " x " << what << ", task " << origin;
    if (!function.empty()) {
      out << " (in " << function << ')';
    }
    if (with_due) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(g.soonest).count();
      out << ", soonest due in " << ms << " ms";
    }
    out << '\n';
  }
}

} // namespace

void scheduler::dump(std::ostream& out) {
  const auto now = std::chrono::steady_clock::now();
  out << "weft runtime " << static_cast<const void*>(&m_owner) << ": " << worker_count() << " workers"
      << (is_shutting_down() ? ", shutting down" : "") << '\n';
  for (unsigned i = 0; i < worker_count(); ++i) {
    const worker_context& c = worker_at(i).context();
    // relaxed: a report; each figure may be a moment old.
    out << "  worker " << i << ": " << activity_name(c.activity.load(std::memory_order_relaxed)) << ", deque "
        << std::max<std::int64_t>(0, c.deque.size_approx()) << " tasks, ran "
        << c.counters.tasks_run.load(std::memory_order_relaxed) << ", stole "
        << c.counters.steals.load(std::memory_order_relaxed) << ", parked "
        << c.counters.parks.load(std::memory_order_relaxed) << " times\n";
  }
  out << "  injection queue: " << injection.size_approx() << " tasks\n";
  out << "  blocking pool: " << blocking.threads() << " threads (" << blocking.idle() << " idle), "
      << blocking.queued() << " calls queued\n";

  // Build the groups under the registry locks (they keep the waiting frames alive), print
  // after releasing them.
  std::map<wait_key, wait_group> timers;
  std::map<wait_key, wait_group> others;
  try {
    io.visit_waits(
        [&](const timer_op& op) {
          wait_group& g = timers[key_of("weft::sleep", op.owner)];
          ++g.count;
          g.soonest = std::min(g.soonest, op.deadline - now);
        },
        [&](const pending_op_node& n) { ++others[key_of(n.what, n.owner)].count; });
  } catch (const std::bad_alloc&) {
    out << "  (out of memory while listing waiting tasks)\n";
  }
  print_groups(out, "tasks waiting on timers", timers, true);
  print_groups(out, "tasks waiting on I/O, synchronisation primitives or to_thread", others, false);
  out.flush();
}

} // namespace weft::detail

namespace weft {
namespace {

// Every live runtime, for dump_all(). A function-local static: runtimes may be built
// during static initialisation.
struct runtime_list {
  std::mutex mutex;
  std::vector<runtime*> runtimes; // guarded by mutex
};

runtime_list& live_runtimes() {
  static runtime_list list;
  return list;
}

} // namespace

namespace detail {

void add_live_runtime(runtime& rt) {
  runtime_list& l = live_runtimes();
  std::lock_guard lock(l.mutex);
  l.runtimes.push_back(&rt);
}

void remove_live_runtime(runtime& rt) noexcept {
  runtime_list& l = live_runtimes();
  std::lock_guard lock(l.mutex);
  std::erase(l.runtimes, &rt);
}

} // namespace detail

void runtime::dump(std::ostream& out) const { m_scheduler->dump(out); }

void runtime::dump_all(std::ostream& out) {
  runtime_list& l = live_runtimes();
  // Held while dumping, so that no runtime listed can finish its destructor meanwhile.
  std::lock_guard lock(l.mutex);
  if (l.runtimes.empty()) {
    out << "weft: no runtime alive\n";
  }
  for (runtime* rt : l.runtimes) {
    rt->dump(out);
  }
  out.flush();
}

} // namespace weft
