#pragma once
// weft::use_task: a completion token that makes any Asio asynchronous operation awaitable
// inside a weft task: `auto n = co_await sock.async_read_some(buf, weft::use_task);`.

#include "weft/detail/handler_allocator.hpp"
#include "weft/detail/pending_op.hpp"
#include "weft/detail/spin_lock.hpp"
#include "weft/detail/task_promise.hpp"
#include "weft/detail/worker_context.hpp"
#include "weft/errors.hpp"

#include <asio/async_result.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <coroutine>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace weft {

/// The completion token type; use the weft::use_task object.
struct use_task_t {
  constexpr use_task_t() noexcept = default;
};

/// Completion token: `co_await op(args..., weft::use_task)` starts the operation and
/// suspends the task until it completes.
///
/// Returns: the handler's arguments after the error code (none: void; one: that value;
/// several: a std::tuple).
/// Throws: io_error carrying the error code if the operation failed (including
/// asio::error::eof); cancelled_error if the task was cancelled (the operation is then
/// cancelled through its Asio cancellation slot, with cancellation_type::terminal, and
/// awaited before the task continues).
/// Resumes on: a pool worker, usually the one that ran the completion (workers run the
/// reactor between tasks), so a completion costs no cross-thread hand-off.
inline constexpr use_task_t use_task{};

namespace detail {

/// The io_context of the runtime that owns sched. Compiled.
asio::io_context& io_context_of(scheduler& sched) noexcept;

// Shared by the awaitable, the completion handler and a posted cancellation, because a
// posted emit() may run after the awaitable is gone. Asio's cancellation_signal is not
// thread-safe, and several workers run the reactor, so the posted emit() and the
// completion's detaching of the slot may run at once on two threads: the lock orders them.
struct asio_cancel_state {
  spin_lock lock;
  asio::cancellation_signal signal; // guarded by lock once the operation has started

  void emit_terminal() noexcept {
    std::lock_guard guard(lock);
    signal.emit(asio::cancellation_type::terminal);
  }
  void detach_handler() noexcept {
    std::lock_guard guard(lock);
    signal.slot().clear();
  }
};

/// An Asio operation in flight, known to the runtime so that shutdown can cancel it.
struct io_op_node : pending_op_node {
  asio::io_context* io = nullptr;
  // The awaitable's own pointer: a registered node's awaitable is alive, so no copy (and
  // no reference count traffic) is needed.
  const std::shared_ptr<asio_cancel_state>* shared = nullptr;
};

/// Posts a terminal cancellation of the operation to the reactor (emit() runs the
/// operation's cancellation handler, which Asio expects on a thread running the io_context).
inline void post_io_cancel(asio::io_context& io, const std::shared_ptr<asio_cancel_state>& shared) noexcept {
  try {
    asio::post(io, [s = shared] { s->emit_terminal(); });
  } catch (...) {
    // Out of memory: the operation runs to its normal end instead of being cut short.
  }
}

template <class Initiation, class InitArgs, class... Args>
class asio_awaitable : private cancel_callback {
  static constexpr bool k_has_error = sizeof...(Args) > 0 &&
      std::is_same_v<std::decay_t<std::tuple_element_t<0, std::tuple<Args..., void>>>, std::error_code>;

public:
  asio_awaitable(Initiation init, InitArgs args) : m_init(std::move(init)), m_args(std::move(args)) {
    fn = &asio_awaitable::on_cancel;
  }
  asio_awaitable(const asio_awaitable&) = delete;
  asio_awaitable& operator=(const asio_awaitable&) = delete;
  // A move spends the source: GCC awaits `co_await std::move(op)` through a moved-to
  // temporary, and a second such await must still be caught.
  asio_awaitable(asio_awaitable&& other) noexcept
      : cancel_callback(), m_init(std::move(other.m_init)), m_args(std::move(other.m_args)),
        m_spent(std::exchange(other.m_spent, true)) {
    fn = &asio_awaitable::on_cancel;
  }
  asio_awaitable& operator=(asio_awaitable&&) = delete;
  ~asio_awaitable() { unregister(); }

  bool await_ready() const noexcept { return false; }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) {
    if (m_spent) {
      // The first await initiated the operation (its arguments are moved from).
      throw usage_error("weft::use_task: an Asio operation awaited a second time (or after a move)");
    }
    m_spent = true;
    m_cancel = cancellation_of(awaiting);
    if (m_cancel != nullptr && m_cancel->is_requested()) {
      throw cancelled_error("weft::use_task: task cancelled before the operation started");
    }
    worker_context* w = tl_worker;
    if (w == nullptr) {
      throw no_runtime_error("weft::use_task awaited outside a runtime's worker");
    }
    m_sched = w->sched;
    m_signals = w->signals;
    worker_counters::bump(w->counters.io_waits);
    m_awaiting = awaiting;
    // From the frame cache, as the operation's own memory is (handler_allocator.hpp).
    m_shared = std::allocate_shared<asio_cancel_state>(handler_allocator<asio_cancel_state>{});
    m_node.io = &io_context_of(*m_sched);
    m_node.shared = &m_shared;
    m_node.what = "an Asio operation (weft::use_task)";
    m_node.owner = m_cancel;
    m_node.cancel = [](pending_op_node* n) noexcept {
      auto* self = static_cast<io_op_node*>(n);
      post_io_cancel(*self->io, *self->shared);
    };
    // relaxed: a flag; an operation that misses it is cancelled through the registry.
    if (m_signals->stopping.load(std::memory_order_relaxed)) {
      throw cancelled_error("weft::use_task: runtime is shutting down");
    }
    std::apply([this](auto&... a) { std::move(m_init)(completion{this}, std::move(a)...); }, m_args);
    // Register only now: the initiation attached the operation's cancellation handler to
    // the slot on this thread, and shutdown's cancel (posted after it registers) must find
    // it there. Registered earlier, a posted emit() could run while the initiation was
    // still filling the slot, find it empty, and leave the operation pending for ever.
    // Registered even when shutdown has begun, so that shutdown waits for the completion.
    m_registered = true;
    if (!register_started_op(*m_sched, m_node)) {
      post_cancel(); // shutdown's cancel pass ran meanwhile; the completion reports operation_aborted
    }
    // After the initiation (which attaches the operation to the slot on this thread),
    // before we may suspend: the gate below keeps the completion from resuming us until
    // the callback is in place, so it never outlives this frame.
    if (m_cancel != nullptr) {
      if (m_cancel->install(this)) {
        m_installed = true;
      } else {
        post_cancel();
      }
    }
    // Two tickets: ours (setup done) and the completion's; the last one resumes.
    // acq_rel: orders setup before the resumption and the result before our continuing.
    return m_gate.fetch_sub(1, std::memory_order_acq_rel) != 1;
  }

  auto await_resume() {
    if (m_installed) {
      m_cancel->remove(this);
    }
    unregister();
    auto& r = *m_result;
    if constexpr (k_has_error) {
      const std::error_code ec = std::get<0>(r);
      if (ec) {
        if (ec == asio::error::operation_aborted &&
            ((m_cancel != nullptr && m_cancel->is_requested()) || m_signals->stopping.load(std::memory_order_relaxed))) {
          throw cancelled_error("weft::use_task: operation cancelled");
        }
        throw io_error(ec, "weft::use_task: asynchronous operation failed");
      }
      return values_after(std::index_sequence_for<Args...>{}, r, std::integral_constant<std::size_t, 1>{});
    } else {
      return values_after(std::index_sequence_for<Args...>{}, r, std::integral_constant<std::size_t, 0>{});
    }
  }

private:
  // The handler Asio calls (on a worker running the reactor); it carries the cancellation
  // slot.
  struct completion {
    asio_awaitable* self;
    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept { return self->m_shared->signal.slot(); }
    // The operation's memory comes from the frame cache instead of malloc.
    using allocator_type = handler_allocator<void>;
    allocator_type get_allocator() const noexcept { return {}; }
    void operator()(Args... args) {
      // The operation is over: detach its cancellation handler (it refers to the I/O
      // object, which may go away before a late emit() runs).
      self->m_shared->detach_handler();
      self->m_result.emplace(std::move(args)...);
      // acq_rel: see await_suspend().
      if (self->m_gate.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        schedule_internal(*self->m_sched, self->m_awaiting);
      }
    }
  };

  template <std::size_t... I, class Tuple, std::size_t First>
  static auto values_after(std::index_sequence<I...>, Tuple& r, std::integral_constant<std::size_t, First>) {
    constexpr std::size_t n = sizeof...(I) - First;
    if constexpr (n == 0) {
      return;
    } else if constexpr (n == 1) {
      return std::move(std::get<First>(r));
    } else {
      return [&]<std::size_t... J>(std::index_sequence<J...>) {
        return std::make_tuple(std::move(std::get<First + J>(r))...);
      }(std::make_index_sequence<n>{});
    }
  }

  void unregister() noexcept {
    if (m_registered) {
      unregister_pending_op(*m_sched, m_node);
      m_registered = false;
    }
  }

  static void on_cancel(cancel_callback* self) noexcept { static_cast<asio_awaitable*>(self)->post_cancel(); }

  void post_cancel() noexcept { post_io_cancel(*m_node.io, m_shared); }

  Initiation m_init;
  InitArgs m_args;
  bool m_spent = false; // awaited (the operation was initiated) or moved from
  std::coroutine_handle<> m_awaiting;
  scheduler* m_sched = nullptr;
  scheduler_signals* m_signals = nullptr; // relaxed reads of stopping: a flag
  cancel_state* m_cancel = nullptr;
  bool m_installed = false;
  bool m_registered = false;
  std::shared_ptr<asio_cancel_state> m_shared;
  io_op_node m_node;
  std::optional<std::tuple<std::decay_t<Args>...>> m_result;
  std::atomic<int> m_gate{2};
};

} // namespace detail
} // namespace weft

template <class... Args>
class asio::async_result<weft::use_task_t, void(Args...)> {
public:
  template <class Initiation, class... InitArgs>
  static auto initiate(Initiation init, weft::use_task_t, InitArgs... args) {
    return weft::detail::asio_awaitable<Initiation, std::tuple<InitArgs...>, Args...>{
        std::move(init), std::tuple<InitArgs...>{std::move(args)...}};
  }
};
