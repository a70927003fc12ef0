#pragma once
// The completion counter of a gather, living in the awaiting frame (gather_op.hpp).
//
// Every child is counted once in `remaining`; the arrival that brings it to zero resumes
// the awaiter. Two kinds of arrival:
// - a child that was stolen, or that the scheduler ran, arrives alone: one fetch_sub;
// - the local chain: the awaiting worker runs the first child itself, and each child of
//   the chain, when it finishes, takes the next child back from its worker's deque (the
//   newest item there, since gather pushed the children in reverse) and transfers to it,
//   as a join takes back the task it spawned. The chain counts its children in a plain
//   field and subtracts them from `remaining` once, when it ends: when every child has
//   been taken, or the next one was stolen or is not the newest item any more.
// So a gather that nobody steals from costs no atomic RMW on the counter (the chain that
// ran every child resumes the awaiter itself), beside the deque's own.
// Chain fields are plain: one chain child runs at a time, and each one is handed the chain
// through the resume of the next (the same happens-before as any resume on another worker).

#include "weft/detail/worker_context.hpp"

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace weft::detail {

class promise_base;

/// A gather child as the chain needs it.
struct gather_child {
  std::coroutine_handle<> handle;
  promise_base* promise;
};

struct completion_counter {
  std::atomic<std::size_t> remaining{0};
  std::coroutine_handle<> continuation;
  // The child whose exception came first in time, for gather's rethrow.
  std::atomic<promise_base*> first_failed{nullptr};

  // The local chain (see the top of this file). Written by gather before the first child
  // runs, then by chain children only.
  std::size_t size = 0;
  // Index of the next child to take back. Also the number of chain children that have
  // finished and are not yet in `remaining`: the chain takes a child only when the one
  // before it has finished, so when a chain step runs, every child taken has finished.
  std::size_t chain_next = 0;
  // Where the chain finds child i, read inline rather than through a call: a gather over
  // a tuple lists its children (a gather_child array); a gather over a vector gives the
  // vector's tasks, whose type is the finishing child's own (task_promise.hpp,
  // take_next_child), and marks that with the low bit. One word, as the counter lives in
  // every awaiting frame.
  static constexpr std::uintptr_t k_same_type_tasks_bit = 1;
  std::uintptr_t children_at = 0;
  void point_at(const gather_child* children) noexcept {
    static_assert(alignof(gather_child) > k_same_type_tasks_bit);
    children_at = reinterpret_cast<std::uintptr_t>(children);
  }
  void point_at_same_type_tasks(const void* tasks) noexcept {
    children_at = reinterpret_cast<std::uintptr_t>(tasks) | k_same_type_tasks_bit;
  }
  void* owner = nullptr; // the gather, for collect

  // Early collection (gather over a vector): every k_collect_batch chain children, the
  // chain hands the finished ones before the current child to `collect`, which moves their
  // results out and frees their frames while they are still in cache, instead of a last
  // pass over every frame once all have finished. `collect_due` is the index of the
  // finishing child at which the next batch is due; SIZE_MAX (never) when the gather does
  // not collect early.
  static constexpr std::size_t k_collect_batch = 32;
  std::size_t collected = 0; // chain children below this index were handed to collect
  std::size_t collect_due = static_cast<std::size_t>(-1);
  // Collects chain children [collected, last); moves `collected` and `collect_due` on.
  void (*collect)(completion_counter& self, std::size_t last) noexcept = nullptr;

  void note_failure(promise_base* p) noexcept {
    promise_base* expected = nullptr;
    // relaxed: only which child failed first is recorded; arrive()'s acq_rel publishes it.
    first_failed.compare_exchange_strong(expected, p, std::memory_order_relaxed);
  }

  /// Counts `children` finished ones; returns the awaiter if they were the last.
  std::coroutine_handle<> arrive(std::size_t children) noexcept {
    // acq_rel: release publishes these children's results; the last arrival's acquire
    // sees every other child's result before it resumes the awaiter.
    if (remaining.fetch_sub(children, std::memory_order_acq_rel) == children) {
      return hand_off_to(continuation);
    }
    return std::noop_coroutine();
  }

  /// For a chain child that finished (its promise a Promise): the next child to run
  /// (taken back from this worker's deque), or, when the chain ends, what arrive() gives.
  /// Defined in task_promise.hpp, where a promise is complete.
  template <class Promise>
  [[gnu::always_inline]] std::coroutine_handle<> chain_step() noexcept;

private:
  // Parts of chain_step. Its rare calls (the look every 61 tasks, early collection, the
  // steal-pacing hand-off) are tail calls, out of the way of the common path.
  template <class Promise>
  [[gnu::always_inline]] std::coroutine_handle<> take_next_child(worker_context& w) noexcept;
  template <class Promise>
  [[gnu::noinline]] std::coroutine_handle<> chain_step_after_look(worker_context& w) noexcept;
  [[gnu::always_inline]] std::coroutine_handle<> end_chain() noexcept;
  [[gnu::noinline]] std::coroutine_handle<> collect_then(std::size_t finishing, std::coroutine_handle<> next) noexcept {
    collect(*this, finishing); // sets collected and collect_due
    return next;
  }
};

/// Every k_tasks_between_looks tasks (counted with the worker loop's), a chain lets its
/// worker poll the reactor and look at the injection queue, as the loop does; true means
/// other work is waiting and the chain should end so that the loop runs it. Compiled.
bool chain_pause_wanted(worker_context& w) noexcept;

} // namespace weft::detail
