#pragma once
// weft::task_group (asyncio.TaskGroup): structured concurrency.

#include "weft/detail/current_cancellation.hpp"
#include "weft/detail/worker_context.hpp"
#include "weft/errors.hpp"
#include "weft/join_handle.hpp"
#include "weft/source_location.hpp"
#include "weft/spawn.hpp"
#include "weft/task.hpp"

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace weft {

/// A set of tasks that is awaited as a whole.
///
/// spawn() starts a task in the group (from the group's owner or from tasks of the group).
/// join() waits until every task of the group, including ones spawned meanwhile, has
/// finished. The first task to fail cancels all the others; join() then throws an
/// exception_group holding every failure (cancelled_error of tasks the group cancelled
/// itself is left out, as asyncio does). weft::with_task_group gives the scoped form.
///
/// Thread safety: spawn() and cancel() from any task of the runtime; one join() at a time.
/// Cancellation: cancelling the task in join() cancels every task of the group; join()
/// still waits for them, then throws cancelled_error.
/// asyncio: TaskGroup. C++ has no async destructor: use with_task_group, or call join()
/// before the group goes away. Destroying a group with unfinished tasks cancels them and
/// lets them finish detached.
namespace detail {

// The state of a task group, shared with its running tasks so that a task still running
// when the group object goes away never touches freed memory.
class task_group_state {
public:
  template <class T>
  void spawn(std::shared_ptr<task_group_state> self, task<T> t, const weft::source_location& where) {
    std::lock_guard lock(m_mutex);
    if (m_closed) {
      throw error("weft::task_group::spawn after the group was joined");
    }
    // relaxed: counted before the task exists; the task's acq_rel decrement pairs with
    // the joiner's reads.
    m_live.fetch_add(1, std::memory_order_relaxed);
    try {
      m_children.push_back(weft::spawn(run_child(std::move(self), std::move(t)), where));
    } catch (...) {
      m_live.fetch_sub(1, std::memory_order_relaxed);
      throw;
    }
    if (m_failed || m_cancelled_by_group) {
      m_children.back().cancel();
    }
  }

  bool cancel() noexcept {
    std::lock_guard lock(m_mutex);
    bool any = false;
    m_cancelled_by_group = true;
    for (auto& h : m_children) {
      any = h.cancel() || any;
    }
    return any;
  }

  /// The owner is going away without joining: cancel everything, let it finish detached.
  void abandon() noexcept {
    std::lock_guard lock(m_mutex);
    m_cancelled_by_group = true;
    m_closed = true;
    for (auto& h : m_children) {
      h.cancel();
    }
    m_children.clear();
  }

  [[nodiscard]] bool all_done() const noexcept { return m_live.load(std::memory_order_acquire) == 0; }

  // Returns false if there is no need to suspend. Once the joiner is published a child
  // may resume it elsewhere, and the group may then be freed; the two-ticket gate keeps
  // the resumption waiting until park() has finished reading.
  bool park(std::coroutine_handle<> joiner, scheduler* sched) noexcept {
    m_sched = sched;
    // relaxed: published by the seq_cst store of the joiner below.
    m_park_gate.store(2, std::memory_order_relaxed);
    // seq_cst: Dekker pair with on_child_done() (decrement of m_live, then exchange).
    m_joiner.store(joiner.address(), std::memory_order_seq_cst);
    if (m_live.load(std::memory_order_seq_cst) == 0 &&
        m_joiner.exchange(nullptr, std::memory_order_seq_cst) != nullptr) {
      return false; // everyone finished meanwhile and we took the joiner back
    }
    // acq_rel: the last of park() and the waking child resumes the joiner.
    return m_park_gate.fetch_sub(1, std::memory_order_acq_rel) != 1;
  }

  void finish_join(bool joiner_cancelled) {
    std::vector<std::exception_ptr> errors;
    {
      std::lock_guard lock(m_mutex);
      m_closed = true;
      errors = std::move(m_errors);
      m_children.clear(); // all finished: frees them (their wrappers never throw)
    }
    if (!errors.empty()) {
      throw exception_group(std::move(errors));
    }
    if (joiner_cancelled) {
      throw cancelled_error("weft::task_group: joining task cancelled");
    }
  }

private:
  template <class T>
  static task<void> run_child(std::shared_ptr<task_group_state> g, task<T> t) {
    std::exception_ptr failure;
    try {
      co_await std::move(t);
    } catch (...) {
      failure = std::current_exception();
    }
    // Free the child's frame (and its reference to the exception) before telling the
    // group: once on_child_done() has run, the joiner may read the exception and drop the
    // group's reference on another thread. Whoever drops the last reference then does so
    // after everything this thread did to the exception, ordered by on_child_done()'s
    // release; the reference count alone (inside libstdc++, which ThreadSanitizer does not
    // see) would not show that order (a TSan report from CI, 2026-11-25).
    t = task<T>{};
    if (failure) {
      g->on_failure(std::move(failure));
    }
    g->on_child_done();
  }

  void on_failure(std::exception_ptr e) {
    std::lock_guard lock(m_mutex);
    bool cancellation = false;
    try {
      std::rethrow_exception(e);
    } catch (const cancelled_error&) {
      cancellation = true;
    } catch (...) {
    }
    if (cancellation && (m_failed || m_cancelled_by_group)) {
      return; // the group cancelled it: not a failure of its own
    }
    m_errors.push_back(std::move(e));
    if (!m_failed) {
      m_failed = true;
      for (auto& h : m_children) {
        h.cancel();
      }
    }
  }

  void on_child_done() noexcept {
    // seq_cst: the child's half of the Dekker pair with park().
    if (m_live.fetch_sub(1, std::memory_order_seq_cst) == 1) {
      if (void* j = m_joiner.exchange(nullptr, std::memory_order_seq_cst)) {
        // acq_rel: see park().
        if (m_park_gate.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          schedule_internal(*m_sched, std::coroutine_handle<>::from_address(j));
        }
      }
    }
  }

  std::mutex m_mutex; // guards the fields below it up to m_closed
  std::vector<join_handle<void>> m_children;
  std::vector<std::exception_ptr> m_errors;
  bool m_failed = false;
  bool m_cancelled_by_group = false;
  bool m_closed = false;
  std::atomic<std::size_t> m_live{0};   // tasks not yet finished
  std::atomic<void*> m_joiner{nullptr}; // the task suspended in join(), if any
  std::atomic<int> m_park_gate{2};      // see park()
  scheduler* m_sched = nullptr;         // written by park() before it publishes m_joiner
};

} // namespace detail

/// A set of tasks that is awaited as a whole.
///
/// spawn() starts a task in the group (from the group's owner or from tasks of the group).
/// join() waits until every task of the group, including ones spawned meanwhile, has
/// finished. The first task to fail cancels all the others; join() then throws an
/// exception_group holding every failure (the cancelled_error of tasks the group cancelled
/// itself is left out, as asyncio does). weft::with_task_group gives the scoped form.
///
/// Thread safety: spawn() and cancel() from any task of the runtime; one join() at a time.
/// Cancellation: cancelling the task in join() cancels every task of the group; join()
/// still waits for them, then throws cancelled_error.
/// asyncio: TaskGroup. C++ has no async destructor: use with_task_group, or call join()
/// before the group goes away. Destroying a group that was not joined cancels its tasks
/// and lets them finish detached.
class task_group {
public:
  task_group() : m_state(std::make_shared<detail::task_group_state>()) {}
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;
  ~task_group() { m_state->abandon(); }

  /// Starts t in the group. Throws: invalid_task_error for an empty task; error after
  /// the group was joined. where: recorded for runtime::dump(); leave it defaulted.
  /// Always inlined, as weft::spawn is, so the location is not copied into an out-of-line
  /// call (the stall measured there; not measured separately here).
  template <class T>
  [[gnu::always_inline]] void spawn(task<T> t, weft::source_location where = weft::source_location::current()) {
    if (!t.valid()) {
      throw invalid_task_error("weft::task_group::spawn of an empty task (moved-from, spawned or awaited)");
    }
    m_state->spawn(m_state, std::move(t), where);
  }

  /// Cancels every task of the group. Returns whether any was still running.
  bool cancel() noexcept { return m_state->cancel(); }

  class join_awaiter {
  public:
    explicit join_awaiter(detail::task_group_state& g) noexcept : m_group(g) {}
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
      m_cancel = detail::cancellation_of(awaiting);
      m_on_cancel.install(m_cancel);
      return m_group.park(awaiting, detail::tl_worker != nullptr ? detail::tl_worker->sched : nullptr);
    }
    void await_resume() {
      m_on_cancel.uninstall();
      m_group.finish_join(m_cancel != nullptr && m_cancel->is_requested());
    }

  private:
    struct cancel_group {
      detail::task_group_state* group;
      void operator()() const noexcept { group->cancel(); }
    };
    detail::task_group_state& m_group;
    detail::cancel_state* m_cancel = nullptr;
    detail::scoped_cancel_callback<cancel_group> m_on_cancel{cancel_group{&m_group}};
  };

  /// Waits for every task of the group. Throws: exception_group with every failure;
  /// cancelled_error if the joining task was cancelled. Afterwards the group takes no
  /// more tasks.
  [[nodiscard]] join_awaiter join() noexcept { return join_awaiter{*m_state}; }

private:
  std::shared_ptr<detail::task_group_state> m_state;
};

/// Runs body(group) and then joins the group: every task body spawns into the group is
/// awaited before this returns, even if body throws.
/// Throws: exception_group with the failures of body and of the group's tasks.
/// asyncio: `async with asyncio.TaskGroup() as tg: ...`.
template <class Body>
[[nodiscard]] task<void> with_task_group(Body body) {
  task_group group;
  std::exception_ptr body_failure;
  try {
    co_await body(group);
  } catch (...) {
    body_failure = std::current_exception();
    group.cancel();
  }
  std::exception_ptr join_failure;
  try {
    co_await group.join();
  } catch (...) {
    join_failure = std::current_exception();
  }
  if (body_failure) {
    std::vector<std::exception_ptr> all{body_failure};
    if (join_failure) {
      try {
        std::rethrow_exception(join_failure);
      } catch (const exception_group& g) {
        all.insert(all.end(), g.exceptions().begin(), g.exceptions().end());
      } catch (...) {
      }
    }
    throw exception_group(std::move(all));
  }
  if (join_failure) {
    std::rethrow_exception(join_failure);
  }
}

} // namespace weft
