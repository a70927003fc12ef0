#include "reactor.hpp"

#include "scheduler.hpp"

#include <weft/errors.hpp>
#include <weft/sleep.hpp>
#include <weft/yield.hpp>

#include <system_error>

namespace weft::detail {

reactor::reactor(scheduler& sched) : m_sched(sched) {}

reactor::~reactor() { stop(); }

void reactor::start() {
  m_guard.emplace(m_io.get_executor());
  m_thread = std::thread([this] { m_io.run(); });
}

void reactor::stop() noexcept {
  if (!m_thread.joinable()) {
    return;
  }
  m_guard.reset();
  m_io.stop();
  m_thread.join();
}

void reactor::arm_timer(timer_op*& slot, std::chrono::steady_clock::time_point deadline, std::coroutine_handle<> h) {
  std::lock_guard lock(m_timers_mutex);
  if (m_closed) {
    throw cancelled_error("weft::sleep: runtime is shutting down");
  }
  auto* op = new timer_op(m_io, deadline, h, m_sched);
  op->next = m_timers;
  if (m_timers != nullptr) {
    m_timers->prev = op;
  }
  m_timers = op;
  ++m_armed;
  slot = op; // before the wait can complete and resume the task
  op->timer.async_wait([op](const std::error_code& ec) {
    op->aborted = (ec == asio::error::operation_aborted);
    op->sched.inject_internal(op->handle.address());
  });
}

void reactor::release_timer(timer_op* op) noexcept {
  {
    std::lock_guard lock(m_timers_mutex);
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
  if (m_op != nullptr) {
    m_op->sched.io.release_timer(m_op);
  }
}

void sleep_awaiter::await_suspend(std::coroutine_handle<> h) {
  detail::worker_context* w = detail::tl_worker;
  if (w == nullptr) {
    throw no_runtime_error("weft::sleep awaited outside a runtime's worker");
  }
  // relaxed: a flag; a sleep that misses it is cancelled by close_timers().
  if (w->signals->stopping.load(std::memory_order_relaxed)) {
    throw cancelled_error("weft::sleep: runtime is shutting down");
  }
  if (m_deadline <= std::chrono::steady_clock::now()) {
    detail::schedule_yield(h);
    return;
  }
  w->sched->io.arm_timer(m_op, m_deadline, h);
}

void sleep_awaiter::await_resume() {
  if (m_op != nullptr && m_op->aborted) {
    throw cancelled_error("weft::sleep cancelled: runtime is shutting down");
  }
}

} // namespace weft
