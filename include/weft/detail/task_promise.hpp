#pragma once
// The promise behind weft::task<T>. A task is lazy: it starts when awaited (its awaiter
// becomes the continuation) or when spawned (a worker resumes it; joiners wait on its
// join_state). Frames come from the per-thread frame allocator.

#include "weft/detail/cancel_state.hpp"
#include "weft/detail/completion_counter.hpp"
#include "weft/detail/frame_allocator.hpp"
#include "weft/detail/join_state.hpp"
#include "weft/detail/task_result.hpp"
#include "weft/detail/worker_context.hpp"

#include <coroutine>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>

namespace weft {
template <class T>
class task;
}

namespace weft::detail {

/// Sends an exception that escaped a detached task to the runtime's hook. Compiled.
void report_unhandled_exception(std::exception_ptr e) noexcept;

class promise_base;

/// Notified when a spawned task finishes; registered in the task's single listener slot
/// by wait() and as_completed(), which can take it back without a lock (see
/// promise_base::set_listener / take_back_listener).
struct completion_listener {
  void (*on_complete)(completion_listener* self, promise_base& finished) noexcept = nullptr;
};

class promise_base {
public:
  static void* operator new(std::size_t n) {
    void* frame = allocate_frame(n);
    if constexpr (WEFT_DIRECT_FRAME_FREE) {
      // Tells the promise's constructor where this frame came from (claim_frame).
      const std::size_t cls = (n - 1) / k_frame_granule;
      std::uintptr_t newest = 0; // a large frame: freed through destroy()
      if (WEFT_ASAN) {
        newest = reinterpret_cast<std::uintptr_t>(frame) | 1;
      } else if (cls < k_frame_classes) {
        newest = reinterpret_cast<std::uintptr_t>(frame) | cls;
      }
      tl_frame_cache.newest_frame = newest;
    }
    return frame;
  }
  static void operator delete(void* p, std::size_t n) noexcept { deallocate_frame(p, n); }

  /// How a finished task's frame may be freed without destroy() (free_finished_frame):
  /// 0: it may not; 1 + c for c < k_frame_classes: it is a block of class c;
  /// 1 + k_frame_classes: it came from ::operator new (a large frame, or any under ASan).
  [[nodiscard]] std::uint8_t direct_free_class() const noexcept { return m_own_cancel.lent_byte; }
  static constexpr std::uint8_t k_direct_free_from_heap = k_frame_classes + 1;

  std::suspend_always initial_suspend() const noexcept { return {}; }

  void set_continuation(std::coroutine_handle<> c) noexcept { m_continuation = c; }
  [[nodiscard]] std::coroutine_handle<> continuation() const noexcept { return m_continuation; }
  [[nodiscard]] join_state& join() noexcept { return m_join; }

  /// The cancellation state this task observes: its own when spawned (or run as a root),
  /// its awaiter's when awaited as a lazy task.
  [[nodiscard]] cancel_state& cancellation() noexcept { return *m_cancel; }
  [[nodiscard]] cancel_state& own_cancellation() noexcept { return m_own_cancel; }
  void share_cancellation(cancel_state& s) noexcept { m_cancel = &s; }

  /// Makes this task a gather child counted by c; `chained` when the gather's local chain
  /// runs it (see completion_counter.hpp).
  void set_counter(completion_counter* c, bool chained) noexcept {
    m_counter_and_chained = reinterpret_cast<std::uintptr_t>(c) | (chained ? k_chained_bit : 0);
  }
  [[nodiscard]] completion_counter* counter() const noexcept {
    return reinterpret_cast<completion_counter*>(m_counter_and_chained & ~k_chained_bit);
  }
  [[nodiscard]] bool chained() const noexcept { return (m_counter_and_chained & k_chained_bit) != 0; }

  /// Registers l to be told when this (spawned) task finishes. Returns false, registering
  /// nothing, if the task has already finished (or another listener holds the slot).
  [[nodiscard]] bool set_listener(completion_listener* l) noexcept {
    completion_listener* expected = nullptr;
    // acq_rel: release publishes l's fields to the completer's exchange; acquire on
    // failure pairs with it.
    if (m_listener.compare_exchange_strong(expected, l, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return true;
    }
    if (expected == closed_listener()) {
      // The task is finishing: its done bit follows within a few instructions. Wait for
      // it so that the caller, which now counts the task as finished, sees it done.
      while (!m_join.is_done()) {
        std::this_thread::yield();
      }
    }
    return false;
  }

  /// Takes l back. True if it was still registered (no notification will come); false if
  /// the completer took it (its notification is running or has run).
  bool take_back_listener(completion_listener* l) noexcept {
    completion_listener* expected = l;
    // acq_rel: against the completer's exchange; exactly one of us gets l.
    return m_listener.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel,
                                              std::memory_order_acquire);
  }

  /// For the completer, before it publishes completion: closes the slot and returns the
  /// listener it held, if any. After completion is published the owner may free this
  /// frame, so the slot must be emptied first; the listener itself stays alive until its
  /// notification is counted (listener_accounting).
  completion_listener* close_listener_slot() noexcept {
    // acq_rel: acquire sees the listener's fields; release orders the result before it.
    completion_listener* l = m_listener.exchange(closed_listener(), std::memory_order_acq_rel);
    return l == closed_listener() ? nullptr : l;
  }

protected:
  // Called by the promise's constructor. Its frame may later be freed without
  // destroy() if the block is the one our operator new just took (not a frame the
  // compiler placed elsewhere) and the parameters' copies in it need no destructor.
  //
  // The frame is the one operator new took last on this thread unless the copy of a
  // parameter made coroutines of its own in between (their frames are then the newest),
  // or the compiler placed the frame elsewhere (GCC 12 never does; clang, which can, does
  // not take this path). A frame whose parameter copy threw is freed before any
  // constructor runs, so an older entry never matches a new frame: a block is the newest
  // again only after operator new returns it again.
  template <class Promise>
  void claim_frame([[maybe_unused]] Promise& self, [[maybe_unused]] bool trivial_parameters) noexcept {
    std::uint8_t how = 0;
    if constexpr (WEFT_DIRECT_FRAME_FREE) {
      const std::uintptr_t newest = tl_frame_cache.newest_frame;
      const void* frame = std::coroutine_handle<Promise>::from_promise(self).address();
      if (trivial_parameters && (newest & ~k_newest_tag_mask) == reinterpret_cast<std::uintptr_t>(frame)) {
        how = WEFT_ASAN ? k_direct_free_from_heap : static_cast<std::uint8_t>((newest & k_newest_tag_mask) + 1);
      }
    }
    m_own_cancel.lent_byte = how; // the only write: cancel_state leaves it uninitialised
  }

private:
  // The low bits of frame_cache::newest_frame: the block's class; under ASan, where every
  // frame comes from ::operator new (aligned to 16 only), 1.
  static constexpr std::uintptr_t k_newest_tag_mask = WEFT_ASAN ? 15 : k_frame_granule - 1;
  static_assert(k_frame_classes <= k_frame_granule);

  static completion_listener* closed_listener() noexcept {
    // A unique address no listener can have.
    static completion_listener marker;
    return &marker;
  }

  // Layout: a frame starts with two function pointers, then this promise. The fields that
  // gather writes into every child before the children run (the counter, and the origin in
  // m_own_cancel) come first, so that with the frame's own first 16 bytes they fill one
  // 64-byte line: at a thousand children and more the frames no longer sit in L1, and a
  // second line per child measured ~1 more L1 miss per child in gather.

  // Who runs next when this task finishes, when exactly one party can be waiting and it is
  // known before the task starts: the awaiter of a lazy task, or a joiner that took the
  // spawned task back from its own deque. Written before the task is resumed; null for a
  // spawned task run by the scheduler, which then completes through m_join.
  std::coroutine_handle<> m_continuation;
  // Set for a child of a gather: completion goes through the gather's counter. The low
  // bit says whether the gather's local chain runs it (one word where a pointer and a
  // bool took two: small tasks' frames fit a 128-byte block).
  static constexpr std::uintptr_t k_chained_bit = 1;
  static_assert(alignof(completion_counter) > k_chained_bit);
  std::uintptr_t m_counter_and_chained = 0;
  cancel_state m_own_cancel;
  join_state m_join;
  std::atomic<completion_listener*> m_listener{nullptr};
  cancel_state* m_cancel = &m_own_cancel;
};

/// The cancellation state of the coroutine behind h, or null if it is not a weft task.
template <class Promise>
cancel_state* cancellation_of(std::coroutine_handle<Promise> h) noexcept {
  if constexpr (std::is_base_of_v<promise_base, Promise>) {
    return &h.promise().cancellation();
  } else {
    return nullptr;
  }
}

/// Hands the waiters from n on to the scheduler.
inline void schedule_waiters(waiter_node* n) noexcept {
  while (n != nullptr) {
    waiter_node* next = n->next; // read first: once resumed, its frame (and the node) may be gone
    schedule_from_worker(n->handle);
    n = next;
  }
}

/// Frees the frame of a task that has finished (is at its final suspend point): directly
/// when its promise allows it (promise_base::claim_frame), which saves an entry into the
/// coroutine through destroy(); else through destroy(). Either way the promise's
/// destructor runs; the parameters' copies have none on the direct path.
template <class Promise>
[[gnu::always_inline]] inline void free_finished_frame(std::coroutine_handle<Promise> h) noexcept {
  if constexpr (WEFT_DIRECT_FRAME_FREE) {
    const std::uint8_t how = h.promise().direct_free_class();
    if (WEFT_LIKELY(how != 0)) {
      void* frame = h.address();
      std::destroy_at(&h.promise());
      if (WEFT_LIKELY(how != promise_base::k_direct_free_from_heap)) {
        deallocate_cached_frame(frame, how - 1u);
      } else {
        ::operator delete(frame);
      }
      return;
    }
  }
  h.destroy();
}

struct final_awaiter {
  bool await_ready() const noexcept { return false; }

  template <class Promise>
  [[gnu::always_inline]] std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
    // The common case (an awaited lazy task, a spawned task its joiner took back) is one
    // test; the rest stays out of line so that every task body stays small.
    if (std::coroutine_handle<> c = self.promise().continuation()) {
      return c;
    }
    return complete_without_continuation(self);
  }

  void await_resume() const noexcept {}

private:
  template <class Promise>
  [[gnu::noinline]] static std::coroutine_handle<> complete_without_continuation(
      std::coroutine_handle<Promise> self) noexcept {
    Promise& p = self.promise();
    if (completion_counter* c = p.counter()) {
      if (p.result().has_exception()) {
        c->note_failure(&p);
      }
      return p.chained() ? c->template chain_step<Promise>() : c->arrive(1);
    }
    return complete_spawned(self); // a tail call, apart from the gather children's path
  }

  // A spawned task (or a root) that finished without a continuation: through its join
  // state, its listener, or as a detached task.
  template <class Promise>
  [[gnu::noinline]] static std::coroutine_handle<> complete_spawned(std::coroutine_handle<Promise> self) noexcept {
    Promise& p = self.promise();
    completion_listener* listener = p.close_listener_slot();
    const std::uintptr_t prev = p.join().complete();
    if (listener != nullptr) {
      // The frame is still alive: its owner is the combinator behind the listener, which
      // waits for this notification before it lets go of the task.
      listener->on_complete(listener, p);
    }
    if (prev & join_state::k_detached) {
      if (p.result().has_exception()) {
        report_unhandled_exception(p.result().exception());
      }
      free_finished_frame(self);
      return std::noop_coroutine();
    }
    waiter_node* first = join_state::list_of(prev);
    if (first == nullptr) {
      return std::noop_coroutine();
    }
    // Continue the first waiter here; hand the others to the scheduler.
    schedule_waiters(first->next);
    return hand_off_to(first->handle);
  }
};

template <class Promise>
[[gnu::always_inline]] inline std::coroutine_handle<> completion_counter::chain_step() noexcept {
  if (chain_next < size) {
    if (worker_context* w = tl_worker) {
      if (WEFT_UNLIKELY(--w->tasks_until_look == 0)) {
        return chain_step_after_look<Promise>(*w);
      }
      if (const std::coroutine_handle<> next = take_next_child<Promise>(*w)) {
        return next;
      }
    }
  }
  return end_chain();
}

// As the worker loop does every k_tasks_between_looks tasks: lets the worker poll the
// reactor and look at the injection queue, and ends the chain if other work waits.
template <class Promise>
std::coroutine_handle<> completion_counter::chain_step_after_look(worker_context& w) noexcept {
  w.tasks_until_look = k_tasks_between_looks;
  if (!chain_pause_wanted(w)) {
    if (const std::coroutine_handle<> next = take_next_child<Promise>(w)) {
      return next;
    }
  }
  return end_chain();
}

// The next child if it is still the newest item on w's deque (taken back), else null.
template <class Promise>
[[gnu::always_inline]] inline std::coroutine_handle<> completion_counter::take_next_child(worker_context& w) noexcept {
  gather_child next;
  if (children_at & k_same_type_tasks_bit) {
    // A gather over a vector of task<T>, T being this finishing child's type.
    using same_task = weft::task<typename Promise::value_type>;
    const auto* tasks = reinterpret_cast<const same_task*>(children_at & ~k_same_type_tasks_bit);
    const auto h = tasks[chain_next].handle();
    next = {h, &h.promise()};
  } else {
    next = reinterpret_cast<const gather_child*>(children_at)[chain_next];
  }
  if (!w.deque.pop_if_newest(next.handle.address())) {
    return {};
  }
  // Ours alone now: no thief can reach it, so plain writes suffice.
  const std::size_t finishing = chain_next++;
  next.promise->set_counter(this, true);
  if (WEFT_UNLIKELY(finishing >= collect_due)) {
    // Children [collected, finishing) have finished and left their final suspend point
    // (the finishing one has not: it is running this).
    return collect_then(finishing, next.handle);
  }
  return next.handle;
}

// The chain ends. The rest of the children, if any, arrive one by one wherever they run.
[[gnu::always_inline]] inline std::coroutine_handle<> completion_counter::end_chain() noexcept {
  // After arrive() this frame may be gone (the awaiter may resume elsewhere): read first.
  const std::size_t done = chain_next; // every child taken so far has finished
  if (done == size) {
    // The chain ran every child: none arrives on its own, so nobody else reads or writes
    // `remaining`, and the awaiter resumes here, on this thread: no RMW needed.
    return hand_off_to(continuation);
  }
  return arrive(done);
}

template <class T>
class task_promise_common : public promise_base {
public:
  using value_type = T;

  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { m_result.set_exception(std::current_exception()); }
  [[nodiscard]] task_result<T>& result() noexcept { return m_result; }

protected:
  task_result<T> m_result;
};

template <class... Params>
inline constexpr bool trivially_destructible_parameters = (std::is_trivially_destructible_v<Params> && ...);

template <class T>
class task_promise : public task_promise_common<T> {
public:
  // The compiler passes the coroutine's parameters (see promise_base::claim_frame).
  task_promise() noexcept { this->claim_frame(*this, true); }
  template <class... Params>
  explicit task_promise(Params&...) noexcept { this->claim_frame(*this, trivially_destructible_parameters<Params...>); }
  task<T> get_return_object() noexcept;

  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    this->m_result.set_value(std::forward<U>(v));
  }
};

template <class T>
class task_promise<T&> : public task_promise_common<T&> {
public:
  // The compiler passes the coroutine's parameters (see promise_base::claim_frame).
  task_promise() noexcept { this->claim_frame(*this, true); }
  template <class... Params>
  explicit task_promise(Params&...) noexcept { this->claim_frame(*this, trivially_destructible_parameters<Params...>); }
  task<T&> get_return_object() noexcept;
  void return_value(T& v) noexcept { this->m_result.set_value(v); }
};

template <>
class task_promise<void> : public task_promise_common<void> {
public:
  // The compiler passes the coroutine's parameters (see promise_base::claim_frame).
  task_promise() noexcept { this->claim_frame(*this, true); }
  template <class... Params>
  explicit task_promise(Params&...) noexcept { this->claim_frame(*this, trivially_destructible_parameters<Params...>); }
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
};

/// Takes the outcome of the finished task behind h (rethrowing its exception) and frees
/// its frame (free_finished_frame), on either path.
template <class T>
decltype(auto) take_result_and_destroy(std::coroutine_handle<task_promise<T>> h) {
  struct frame_guard {
    std::coroutine_handle<task_promise<T>> h;
    ~frame_guard() { free_finished_frame(h); }
  } guard{h};
  return h.promise().result().take();
}

} // namespace weft::detail
