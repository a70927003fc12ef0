#pragma once
// The awaitable behind gather() over tasks. It lives in the awaiting frame and holds the
// children, a lock-free completion counter and a cancellation callback:
// - await_suspend points every child's promise at the counter, pushes all children but
//   the first on this worker's deque (where idle workers steal them) and transfers to the
//   first;
// - the first child starts a local chain: each chain child, when it finishes, takes the
//   next child back from its worker's deque and transfers to it; the chain counts its
//   children in a plain field and subtracts them from the counter once, at its end. A
//   child that was stolen (or run by the scheduler after the chain ended) decrements the
//   counter itself. The arrival that brings it to zero resumes the awaiter by symmetric
//   transfer (completion_counter.hpp, final_awaiter in task_promise.hpp);
// - cancelling the awaiting task cancels every child; the awaiter still waits for all.
//   The children reach the awaiter's cancellation through a cancel_link in this awaitable
//   (cancel_state.hpp): nothing is installed in the awaiter's state unless a child waits
//   on something, so a gather of children that never suspend costs no RMW for it.
// No lock, and no allocation beyond the children's own frames.

#include "weft/detail/cancel_state.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/detail/worker_context.hpp"
#include "weft/errors.hpp"
#include "weft/outcome.hpp"
#include "weft/task.hpp"

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <tuple>
#include <utility>
#include <vector>

namespace weft::detail {

/// Takes a finished child's result as a gather value (void becomes void_result). With
/// g++ it also frees the child (detail::free_finished_frame), which leaves t empty; out of
/// line, because a variadic gather calls it once per child and inlined copies of the free
/// made gather(16 children) 8% slower. Clang frees the child through its destroy() when t
/// is reset or destroyed: freeing it here made clang's gathers up to 14% slower.
template <class T>
result_of_t<T> take_result_keeping_frame(task<T>& t) {
  if constexpr (std::is_void_v<T>) {
    t.handle().promise().result().take();
    return void_result{};
  } else {
    return t.handle().promise().result().take();
  }
}

template <class T>
[[gnu::noinline]] result_of_t<T> take_result_and_free(task<T>& t) {
  if constexpr (std::is_void_v<T>) {
    take_result_and_destroy(t.release());
    return void_result{};
  } else {
    return take_result_and_destroy(t.release());
  }
}

template <class T>
result_of_t<T> take_result(task<T>& t) {
  if constexpr (WEFT_DIRECT_FRAME_FREE) {
    return take_result_and_free(t);
  } else {
    return take_result_keeping_frame(t);
  }
}

template <class T>
outcome<T> take_outcome(task<T>& t) {
  auto& r = t.handle().promise().result();
  if (r.has_exception()) {
    return outcome<T>{r.exception()};
  }
  return outcome<T>{take_result(t)};
}

// Derived provides size(), for_each(fn(task<T>&)), handle_at(i), child(i) and
// point_chain_at_children(counter).
template <class Derived>
class gather_base {
public:
  gather_base() = default;
  gather_base(const gather_base&) = delete;
  gather_base& operator=(const gather_base&) = delete;
  ~gather_base() { m_link.unhook(); }

  bool await_ready() {
    if (m_awaited) {
      // The children have run and their results were taken (or they are running): a
      // gather is awaited once, as a Python awaitable.
      throw usage_error("weft::gather awaited a second time: its children already ran");
    }
    // Indexed loops over the children here and in await_suspend: one shape for every child
    // type, which both compilers turn into a plain loop (a fold over the tuple cost clang
    // ~1 ns per child here and ~1.6 in await_suspend).
    const std::size_t n = derived().size();
    for (std::size_t i = 0; i < n; ++i) {
      if (!derived().handle_at(i)) {
        throw invalid_task_error("weft::gather of an empty task (moved-from, spawned or awaited)");
      }
    }
    m_awaited = true;
    return n == 0;
  }

  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
    cancel_state* parent = cancellation_of(awaiting);
    if (parent != nullptr && parent->is_requested()) {
      throw cancelled_error("weft::gather: task cancelled");
    }
    const std::size_t n = derived().size();
    // relaxed: published to the children by the deque push (release) or by running the
    // first one on this thread.
    m_counter.remaining.store(n, std::memory_order_relaxed);
    m_counter.continuation = awaiting;
    // The first child runs here and starts the local chain (completion_counter.hpp).
    m_counter.size = n;
    m_counter.chain_next = 1;
    derived().point_chain_at_children(m_counter);
    m_counter.owner = this;
    if constexpr (Derived::collects_early) {
      derived().prepare_results(n); // may throw bad_alloc: before any child starts
      m_counter.collected = 0;
      m_counter.collect_due = completion_counter::k_collect_batch;
      m_counter.collect = &Derived::collect_finished;
    }
    m_link.parent = parent;
    // Children link to us when they can (one hop to a parent that is not linked itself);
    // under a linked parent (a gather inside a gather's child) they take a copy of its
    // origin for dump() and the hook goes in at once, as a request must reach them.
    const bool link_children = parent != nullptr && !parent->linked();
    const bool hook_at_once = parent != nullptr && !link_children;
    const weft::source_location origin = hook_at_once ? parent->origin() : weft::source_location{};
    // Last child first: the caller created the children in order, so the last frames are
    // the ones still in L1, and after this pass the first ones are, where the chain starts.
    for (std::size_t i = n; i-- > 0;) {
      promise_base* child = derived().child(i).promise;
      child->set_counter(&m_counter, i == 0);
      if (link_children) {
        child->own_cancellation().link_to(&m_link);
      } else if (hook_at_once) {
        child->own_cancellation().set_origin(origin, start_kind::gathered);
      }
    }
    if (hook_at_once) {
      m_link.hook_now();
    }
    // The rest in one batch, last child first, so that child 1 is the newest item (the
    // chain takes it back next).
    bool pushed = false;
    if (worker_context* w = tl_worker) {
      try {
        push_local_n(*w, static_cast<std::int64_t>(n) - 1,
                     [&](std::int64_t k) { return derived().handle_at(n - 1 - static_cast<std::size_t>(k)); });
        pushed = true;
      } catch (...) {
        // out of memory growing the deque: fall back to the injection queue
      }
    }
    if (!pushed) {
      for (std::size_t i = n - 1; i >= 1; --i) {
        schedule_from_worker(derived().handle_at(i));
      }
    }
    return derived().handle_at(0);
  }

protected:
  /// After all children finished: rethrows the exception that came first in time, if any.
  void rethrow_first_failure() {
    m_link.unhook();
    // acquire: the counter's last acq_rel decrement already ordered this; spelled out.
    promise_base* failed = m_counter.first_failed.load(std::memory_order_acquire);
    if (failed == nullptr) {
      return;
    }
    std::exception_ptr e;
    derived().for_each([&](auto& t) {
      if (static_cast<promise_base*>(&t.handle().promise()) == failed) {
        e = t.handle().promise().result().exception();
      }
    });
    std::rethrow_exception(e);
  }

  void finish() noexcept { m_link.unhook(); }

  /// For early collection: keeps the cancel hook out of the awaiting task's state (it
  /// reads the children's frames from whatever thread requests cancellation, so no frame
  /// may be freed while it can run) ...
  [[nodiscard]] std::uint8_t pause_cancel_hook() noexcept { return m_link.pause(); }
  /// ... and lets it back. A request that came meanwhile runs it here, now.
  void resume_cancel_hook(std::uint8_t before) noexcept { m_link.resume(before); }
  [[nodiscard]] std::size_t collected_count() const noexcept { return m_counter.collected; }
  [[nodiscard]] bool cancel_requested() const noexcept {
    return m_link.parent != nullptr && m_link.parent->is_requested();
  }

private:
  // The hook: requests every child still held.
  struct link_to_children : cancel_link {
    explicit link_to_children(gather_base* g) noexcept : self(g) {
      fn = [](cancel_callback* l) noexcept {
        static_cast<link_to_children*>(l)->self->derived().for_each(
            [](auto& t) { t.handle().promise().own_cancellation().request(); });
      };
    }
    gather_base* self;
  };

  Derived& derived() noexcept { return static_cast<Derived&>(*this); }
  const Derived& derived() const noexcept { return static_cast<const Derived&>(*this); }

  completion_counter m_counter;
  link_to_children m_link{this};
  bool m_awaited = false;
};

template <bool Outcomes, class... T>
class gather_tuple_awaitable : public gather_base<gather_tuple_awaitable<Outcomes, T...>> {
public:
  // By rvalue reference: each task moves once, from the caller's temporary into the tuple.
  explicit gather_tuple_awaitable(task<T>&&... ts)
      : m_tasks(std::move(ts)...),
        m_children(std::apply([](auto&... t) { return std::array<gather_child, sizeof...(T)>{child_of(t)...}; },
                              m_tasks)) {}

  auto await_resume() {
    if constexpr (Outcomes) {
      this->finish();
      return std::apply([](auto&... t) { return std::tuple<outcome<T>...>{take_outcome(t)...}; }, m_tasks);
    } else {
      this->rethrow_first_failure();
      return std::apply([](auto&... t) { return std::tuple<result_of_t<T>...>{take_result(t)...}; }, m_tasks);
    }
  }

  static constexpr bool collects_early = false;

  std::size_t size() const noexcept { return sizeof...(T); }
  template <class Fn>
  void for_each(Fn&& fn) {
    std::apply([&](auto&... t) { (fn(t), ...); }, m_tasks);
  }
  std::coroutine_handle<> handle_at(std::size_t i) const noexcept { return m_children[i].handle; }
  gather_child child(std::size_t i) const noexcept { return m_children[i]; }
  void point_chain_at_children(completion_counter& c) const noexcept { c.point_at(m_children.data()); }

private:
  template <class U>
  static gather_child child_of(task<U>& t) noexcept {
    // An empty task gives a null entry; await_ready rejects it before any is used.
    return t.valid() ? gather_child{t.handle(), &t.handle().promise()} : gather_child{{}, nullptr};
  }

  std::tuple<task<T>...> m_tasks;
  std::array<gather_child, sizeof...(T)> m_children; // the same children, by index
};

template <bool Outcomes, class T>
class gather_vector_awaitable : public gather_base<gather_vector_awaitable<Outcomes, T>> {
public:
  static_assert(!std::is_reference_v<T>, "weft::gather over a range needs tasks of non-reference type");

  explicit gather_vector_awaitable(std::vector<task<T>> ts) : m_tasks(std::move(ts)) {}

  auto await_resume() {
    if constexpr (Outcomes) {
      this->finish();
      std::vector<outcome<T>> out;
      out.reserve(m_tasks.size());
      for (auto& t : m_tasks) {
        out.push_back(take_outcome(t));
        t = task<T>{}; // free the frame while it is in cache (see below)
      }
      return out;
    } else {
      this->rethrow_first_failure();
      // Each frame is freed right after its result is taken: at a million children the
      // frames do not fit in any cache, and a separate pass to free them costs a second
      // trip to memory per child.
      if constexpr (collects_early) {
        // The chain collected the children below collected_count() already
        // (collect_finished); none of them failed, or the line above threw. The rest are
        // all still held.
        for (std::size_t i = this->collected_count(); i < m_tasks.size(); ++i) {
          m_results[i] = take_result(m_tasks[i]);
          m_tasks[i] = task<T>{}; // empty already where take_result freed it
        }
        return std::move(m_results);
      } else {
        std::vector<result_of_t<T>> out;
        out.reserve(m_tasks.size());
        for (auto& t : m_tasks) {
          out.push_back(take_result(t));
          t = task<T>{};
        }
        return out;
      }
    }
  }

  // Early collection needs a result slot per child up front, and moves that cannot throw
  // (it runs inside a finishing child's final suspend point).
  static constexpr bool collects_early =
      !Outcomes && std::is_nothrow_default_constructible_v<result_of_t<T>> &&
      std::is_nothrow_move_assignable_v<result_of_t<T>> &&
      (std::is_void_v<T> || std::is_nothrow_move_constructible_v<T>) && !std::is_reference_v<T>;

  void prepare_results(std::size_t n) { m_results.resize(n); }

  /// Moves the results of chain children [c.collected, last) into their slots and frees
  /// their frames (completion_counter::collect). A child that failed keeps its frame:
  /// gather rethrows from it. Once cancellation is requested, collection stops: the cancel
  /// callback, put back, has then run, and need not run again for every batch.
  static void collect_finished(completion_counter& c, std::size_t last) noexcept {
    auto& self = *static_cast<gather_vector_awaitable*>(c.owner);
    const std::uint8_t hook = self.pause_cancel_hook();
    for (std::size_t i = c.collected; i < last; ++i) {
      task<T>& t = self.m_tasks[i];
      if (!t.handle().promise().result().has_exception()) {
        self.m_results[i] = take_result(t);
        t = task<T>{}; // empty already where take_result freed it
      }
    }
    c.collected = last;
    c.collect_due = self.cancel_requested() ? static_cast<std::size_t>(-1) : last + completion_counter::k_collect_batch;
    self.resume_cancel_hook(hook);
  }

  std::size_t size() const noexcept { return m_tasks.size(); }
  /// Every child still held: a collected child is finished and gone.
  template <class Fn>
  void for_each(Fn&& fn) {
    for (auto& t : m_tasks) {
      if (t.valid()) {
        fn(t);
      }
    }
  }
  std::coroutine_handle<> handle_at(std::size_t i) { return m_tasks[i].handle(); }
  gather_child child(std::size_t i) noexcept { return {m_tasks[i].handle(), &m_tasks[i].handle().promise()}; }
  // Every child is a task<T>, as the one that finishes and reads this (chain_step).
  void point_chain_at_children(completion_counter& c) const noexcept {
    static_assert(alignof(task<T>) > completion_counter::k_same_type_tasks_bit);
    c.point_at_same_type_tasks(m_tasks.data());
  }

private:
  std::vector<task<T>> m_tasks;
  std::vector<result_of_t<T>> m_results; // filled by early collection, then await_resume
};

} // namespace weft::detail
