#pragma once
// weft::gather (asyncio.gather).

#include "weft/detail/current_cancellation.hpp"
#include "weft/detail/gather_op.hpp"
#include "weft/join_handle.hpp"
#include "weft/outcome.hpp"
#include "weft/task.hpp"

#include <exception>
#include <vector>

namespace weft {

/// Tag: gather returns each child's outcome (value or exception) instead of throwing,
/// like return_exceptions=True.
struct return_exceptions_t {
  explicit return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

/// Runs the tasks concurrently and gives their results as a std::tuple, in argument order
/// (void results are weft::void_result).
///
/// The awaiting worker runs the first child itself and leaves the others on its deque,
/// where idle workers steal them. Completion is a lock-free counter in the awaiting frame;
/// the last child to finish resumes the awaiter. No allocation beyond the children's frames.
/// Throws: after *every* child has finished, the exception that was raised first (in
/// time); invalid_task_error if a task is empty; cancelled_error if the awaiting task is
/// cancelled before it starts.
/// Cancellation: cancelling the awaiting task cancels every child; gather still waits for
/// all of them, then throws what they threw.
/// Resumes on: the worker that finished the last child.
/// asyncio: gather(*aws). asyncio rethrows the first exception at once and leaves the
/// other children running; weft waits for all first, so no child outlives a frame it uses.
template <class... T>
[[nodiscard]] detail::gather_tuple_awaitable<false, T...> gather(task<T>&&... tasks) {
  return detail::gather_tuple_awaitable<false, T...>{std::move(tasks)...};
}

/// As gather(tasks...), but gives a std::tuple of weft::outcome<T> and never throws a
/// child's exception.
template <class... T>
[[nodiscard]] detail::gather_tuple_awaitable<true, T...> gather(return_exceptions_t, task<T>&&... tasks) {
  return detail::gather_tuple_awaitable<true, T...>{std::move(tasks)...};
}

/// Range form: runs every task concurrently and gives std::vector<T> in input order. An
/// empty range gives an empty vector at once. See gather(tasks...).
template <class T>
[[nodiscard]] detail::gather_vector_awaitable<false, T> gather(std::vector<task<T>> tasks) {
  return detail::gather_vector_awaitable<false, T>{std::move(tasks)};
}

/// Range form with return_exceptions: std::vector<weft::outcome<T>>.
template <class T>
[[nodiscard]] detail::gather_vector_awaitable<true, T> gather(return_exceptions_t, std::vector<task<T>> tasks) {
  return detail::gather_vector_awaitable<true, T>{std::move(tasks)};
}

namespace detail {

template <class T>
task<std::vector<outcome<T>>> gather_handle_outcomes(std::vector<join_handle<T>>& handles, bool& cancelled) {
  for (const auto& h : handles) {
    if (!h.valid()) {
      throw handle_consumed_error("weft::gather of an empty join_handle (moved-from, detached or consumed)");
    }
  }
  // Cancelling us cancels every task; we wait for all of them either way.
  auto cancel_all = [&handles]() noexcept {
    for (auto& h : handles) {
      h.cancel();
    }
  };
  scoped_cancel_callback<decltype(cancel_all)> on_cancel{cancel_all};
  cancel_state* self = co_await current_cancellation();
  on_cancel.install(self);
  for (auto& h : handles) {
    co_await h.done();
  }
  on_cancel.uninstall();
  cancelled = self != nullptr && self->is_requested();
  std::vector<outcome<T>> out;
  out.reserve(handles.size());
  for (auto& h : handles) {
    if (std::exception_ptr e = h.finished_exception()) {
      out.emplace_back(std::move(e));
      try {
        (void)h.take_finished(); // frees the task; the exception is already kept
      } catch (...) {
      }
    } else if constexpr (std::is_void_v<T>) {
      h.take_finished();
      out.emplace_back(void_result{});
    } else {
      out.emplace_back(h.take_finished());
    }
  }
  co_return out;
}

} // namespace detail

/// Range form over tasks already spawned: waits for every handle, gives the results in
/// input order. The handles are consumed.
/// Throws: after every task finished, the first exception in input order (a handle does
/// not record when its task failed); cancelled_error if the awaiting task was cancelled
/// (every task is then cancelled and awaited first); handle_consumed_error for an empty
/// handle.
template <class T>
[[nodiscard]] task<std::vector<result_of_t<T>>> gather(std::vector<join_handle<T>> handles) {
  bool cancelled = false;
  auto outcomes = co_await detail::gather_handle_outcomes(handles, cancelled);
  if (cancelled) {
    throw cancelled_error("weft::gather: task cancelled");
  }
  std::vector<result_of_t<T>> out;
  out.reserve(outcomes.size());
  for (auto& o : outcomes) {
    out.push_back(std::move(o).value()); // rethrows the first failure in input order
  }
  co_return out;
}

/// Range form over handles with return_exceptions: std::vector<weft::outcome<T>>.
template <class T>
[[nodiscard]] task<std::vector<outcome<T>>> gather(return_exceptions_t, std::vector<join_handle<T>> handles) {
  bool cancelled = false;
  auto outcomes = co_await detail::gather_handle_outcomes(handles, cancelled);
  if (cancelled) {
    throw cancelled_error("weft::gather: task cancelled");
  }
  co_return outcomes;
}

} // namespace weft
