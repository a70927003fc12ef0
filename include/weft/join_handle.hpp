#pragma once
// weft::join_handle<T>: the handle to a spawned task (asyncio.Task).

#include "weft/detail/task_promise.hpp"
#include "weft/detail/worker_context.hpp"
#include "weft/errors.hpp"

#include <coroutine>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace weft {

template <class T>
class task;

/// Owns a task that weft::spawn started on the pool; awaiting it gives the task's result.
///
/// Awaiting an unfinished handle on the worker whose deque still holds the task runs the
/// task right there (no atomic read-modify-write on that path); otherwise the awaiter
/// registers a node, living in its own frame, in the task's lock-free waiter list.
///
/// Throws: awaiting rethrows the task's exception; awaiting a handle a second time, or an
/// empty (moved-from, detached) handle, throws weft::handle_consumed_error.
/// Cancellation: cancelling the awaiting task cancels the awaited one (as asyncio does) and,
/// while the awaiter is suspended, still waits for it to finish. If the awaiter was already
/// cancelled when it reaches `co_await handle`, it throws cancelled_error at once and the
/// task is cancelled but may still be running: `co_await handle.done()` waits for it.
/// Thread safety: one party owns a handle; do not await it from two tasks at once.
/// Resumes on: the worker that finished the task, or the awaiting worker if already done.
/// asyncio: a Task. Dropping a handle detaches the task (it runs on; an exception it
/// raises goes to the runtime's unhandled-exception hook), as dropping the last reference
/// to an asyncio Task does not cancel it.
template <class T>
class [[nodiscard]] join_handle {
public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  join_handle() noexcept = default;
  explicit join_handle(handle_type h) noexcept : m_frame(h) {}
  join_handle(join_handle&& other) noexcept : m_frame(std::exchange(other.m_frame, {})) {}
  join_handle& operator=(join_handle&& other) noexcept {
    if (this != &other) {
      detach();
      m_frame = std::exchange(other.m_frame, {});
    }
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  ~join_handle() {
    if (m_frame) { // most handles were awaited: keep that test inline
      detach();
    }
  }

  /// True while the handle owns a task whose result has not been taken.
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(m_frame); }

  /// True once the task has finished (with a value or an exception). A task that an
  /// awaiter took back and is running inline reports false until it is awaited.
  [[nodiscard]] bool is_done() const noexcept {
    return m_frame && m_frame.get().promise().join().is_done();
  }

  /// Requests cancellation: the task throws weft::cancelled_error at its next suspension
  /// point (an exception it may catch). Returns false if the task has already finished
  /// (or the handle is empty), true otherwise, as asyncio's Task.cancel().
  /// Thread safety: any thread, while the owner does not destroy or await the handle.
  bool cancel() noexcept {
    if (!m_frame || m_frame.get().promise().join().is_done()) {
      return false;
    }
    m_frame.get().promise().own_cancellation().request();
    return true;
  }

  /// Lets the task run on without an owner; it frees itself when it finishes. An
  /// exception it ends with goes to the runtime's unhandled-exception hook. No-op on an
  /// empty handle.
  void detach() noexcept {
    if (!m_frame) {
      return;
    }
    const handle_type h = std::exchange(m_frame, {}).get();
    const std::uintptr_t prev = h.promise().join().detach();
    if (prev & detail::join_state::k_done) {
      if (h.promise().result().has_exception()) {
        detail::report_unhandled_exception(h.promise().result().exception());
      }
      detail::free_finished_frame(h);
    }
  }

  class awaiter {
  public:
    explicit awaiter(join_handle& owner) noexcept : m_owner(owner) {}

    bool await_ready() const {
      if (!m_owner.m_frame) {
        throw handle_consumed_error(m_owner.m_frame.consumed()
                                        ? "weft::join_handle awaited twice (its result was already taken)"
                                        : "weft::join_handle awaited while empty (moved-from or detached)");
      }
      return m_owner.m_frame.get().promise().join().is_done();
    }

    // Inlined into the awaiting coroutine: the take-back is most joins, and a call costs
    // it a prologue and an epilogue. The throw and the list wait stay out of line.
    template <class Promise>
    [[gnu::always_inline]] std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
      const handle_type child = m_owner.m_frame.get();
      detail::cancel_state* parent_cancel = detail::cancellation_of(awaiting);
      if (parent_cancel != nullptr && WEFT_UNLIKELY(parent_cancel->is_requested())) {
        cancel_and_throw(child);
      }
      if (detail::worker_context* w = detail::tl_worker) {
        // Fast path: the task is still the newest item on our own deque. Take it back and
        // run it inline with us as its continuation; nobody else can reach it now. It
        // runs as part of our thread of control, so it observes our cancellation (unless
        // its own was requested before it started).
        if (w->deque.pop_if_newest(child.address())) {
          if (parent_cancel != nullptr && !child.promise().own_cancellation().is_requested()) {
            child.promise().share_cancellation(*parent_cancel);
          }
          child.promise().set_continuation(awaiting);
          return child;
        }
      }
      return wait_in_list(awaiting, parent_cancel);
    }

    T await_resume() {
      if (m_parent_cancel != nullptr) {
        m_parent_cancel->remove(&m_wait.cancel_cb);
      }
      const handle_type child = m_owner.m_frame.get();
      if (WEFT_UNLIKELY(child.promise().join().touched())) {
        wake_unwoken_waiters(child); // the fast path took back a task that others observe?
      }
      return detail::take_result_and_destroy(m_owner.m_frame.take_consumed());
    }

  private:
    // If the task finished without complete() (taken back by the fast path) while others
    // waited on it with done(): marks it done (no waiter can register after that) and
    // queues every waiter. With the done bit set (the task completed through its join
    // state, which woke everyone), nothing.
    [[gnu::noinline]] static void wake_unwoken_waiters(handle_type child) noexcept {
      detail::join_state& join = child.promise().join();
      if (join.is_done()) {
        return;
      }
      detail::schedule_waiters(detail::join_state::list_of(join.complete()));
    }

    // As asyncio cancels the task a cancelled task awaits. We do not wait for it here
    // (throwing is immediate); `co_await handle.done()` does.
    [[noreturn, gnu::noinline, gnu::cold]] static void cancel_and_throw(handle_type child) {
      child.promise().own_cancellation().request();
      throw cancelled_error("weft: task cancelled while joining a join_handle");
    }

    // Slow path of await_suspend: wait in the task's waiter list. Cancelling us cancels
    // the task (as asyncio does for an awaited task); we still wait for it to finish.
    // Kept out of line so that the take-back path stays small enough to inline.
    [[gnu::noinline]] std::coroutine_handle<> wait_in_list(std::coroutine_handle<> awaiting,
                                                           detail::cancel_state* parent_cancel) noexcept {
      const handle_type child = m_owner.m_frame.get();
      std::construct_at(&m_wait);
      m_wait.cancel_cb.child = &child.promise().own_cancellation();
      if (parent_cancel != nullptr) {
        if (parent_cancel->install(&m_wait.cancel_cb)) {
          m_parent_cancel = parent_cancel;
        } else {
          m_wait.cancel_cb.child->request();
        }
      }
      m_wait.node.handle = awaiting;
      if (child.promise().join().try_add_waiter(&m_wait.node)) {
        return std::noop_coroutine();
      }
      return awaiting; // finished while we registered: continue at once
    }

    struct cancel_child : detail::cancel_callback {
      cancel_child() noexcept { fn = &cancel_child::run; }
      static void run(detail::cancel_callback* self) noexcept { static_cast<cancel_child*>(self)->child->request(); }
      detail::cancel_state* child = nullptr;
    };

    // What the slow path needs; constructed there only, so that the take-back path
    // (most joins) does not spend stores on it. Trivially destructible.
    struct list_wait {
      detail::waiter_node node;
      cancel_child cancel_cb;
    };
    static_assert(std::is_trivially_destructible_v<list_wait>);

    join_handle& m_owner;
    union {
      list_wait m_wait;
    };
    detail::cancel_state* m_parent_cancel = nullptr;
  };

  /// What `co_await handle.done()` acts on: waits until the task has finished, without
  /// taking its result and without reacting to cancellation.
  class done_awaiter {
  public:
    explicit done_awaiter(const join_handle& owner) : m_state(&owner.state_or_throw()) {}
    bool await_ready() const noexcept { return m_state->is_done(); }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      m_node.handle = awaiting;
      return m_state->try_add_waiter(&m_node);
    }
    void await_resume() const noexcept {}

  private:
    detail::join_state* m_state;
    detail::waiter_node m_node;
  };

  /// Waits until the task has finished (value or exception) without consuming the result,
  /// so any number of tasks may wait on one handle at once (each holds a node in its own
  /// frame). The owner still awaits the handle itself for the result; that await frees
  /// the task as soon as it ends, so a done() must not race it: start observers before
  /// the owner's await, and they are all resumed when the task ends.
  /// Throws: handle_consumed_error on an empty handle.
  /// Cancellation: not a cancellation point; the wait always lasts until the task ends.
  [[nodiscard]] done_awaiter done() const { return done_awaiter{*this}; }

  awaiter operator co_await() & noexcept { return awaiter{*this}; }
  awaiter operator co_await() && noexcept { return awaiter{*this}; }

  /// For weft's combinators: takes the result of a finished task (rethrowing its
  /// exception) and frees the task; the handle is consumed.
  T take_finished() {
    WEFT_ASSERT(m_frame && m_frame.get().promise().join().is_done());
    return detail::take_result_and_destroy(m_frame.take_consumed());
  }

  /// For weft's combinators: the exception a finished task ended with, or null.
  [[nodiscard]] std::exception_ptr finished_exception() const noexcept {
    return m_frame ? m_frame.get().promise().result().exception() : nullptr;
  }

  /// The coroutine, still owned by the handle. For weft's combinators.
  [[nodiscard]] handle_type handle() const noexcept { return m_frame ? m_frame.get() : handle_type{}; }

private:
  detail::join_state& state_or_throw() const {
    if (!m_frame) {
      throw handle_consumed_error(m_frame.consumed() ? "weft::join_handle waited on after its result was taken"
                                             : "weft::join_handle waited on while empty (moved-from or detached)");
    }
    return m_frame.get().promise().join();
  }

  // The task's frame while the handle owns it. Once the result is taken it holds a marker
  // instead, for the error messages, in the pointer's place: a handle is one word, so an
  // array or vector of handles is half the size and cheap to zero.
  class owned_frame {
  public:
    owned_frame() noexcept = default;
    explicit owned_frame(handle_type h) noexcept : m_bits(reinterpret_cast<std::uintptr_t>(h.address())) {}
    /// True while a frame is owned.
    explicit operator bool() const noexcept { return m_bits > k_consumed; }
    [[nodiscard]] handle_type get() const noexcept {
      return handle_type::from_address(reinterpret_cast<void*>(m_bits));
    }
    [[nodiscard]] bool consumed() const noexcept { return m_bits == k_consumed; }
    /// Gives up the (owned) frame and remembers that its result was taken.
    handle_type take_consumed() noexcept {
      const handle_type h = get();
      m_bits = k_consumed;
      return h;
    }

  private:
    static constexpr std::uintptr_t k_consumed = 1; // no frame has this address
    std::uintptr_t m_bits = 0;
  };

  owned_frame m_frame;
};

} // namespace weft
