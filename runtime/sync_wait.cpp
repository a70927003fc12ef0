// The shared awaiter protocol of the synchronisation primitives: see
// include/weft/detail/sync_waiter.hpp and docs/design.md, "Synchronisation primitives".

#include <weft/detail/sync_waiter.hpp>

#include "scheduler.hpp"

#include <weft/detail/worker_context.hpp>
#include <weft/errors.hpp>

#include <mutex>
#include <string>

namespace weft::detail {

void wake_list::resume_all() noexcept {
  sync_waiter* w = m_head;
  m_head = nullptr;
  m_tail = nullptr;
  while (w != nullptr) {
    // Read the link first: once scheduled, the waiter's frame may resume and go away.
    sync_waiter* next = w->next;
    schedule_internal(*w->sched, w->handle);
    w = next;
  }
}

bool sync_wait_op::suspend(std::coroutine_handle<> h, cancel_state* cancel) {
  worker_context* w = tl_worker;
  if (w == nullptr) {
    throw no_runtime_error(std::string(m_cfg.what) + ": awaited outside a runtime's worker");
  }
  waiter.handle = h;
  waiter.sched = w->sched;
  if (m_cfg.interruptible) {
    if (cancel != nullptr && cancel->is_requested()) {
      throw cancelled_error(std::string(m_cfg.what) + ": task cancelled");
    }
    m_shutdown_hook.self = this;
    m_shutdown_hook.cancel = [](pending_op_node* n) noexcept { static_cast<shutdown_hook*>(n)->self->cancel_wait(); };
    m_shutdown_hook.what = m_cfg.what;
    m_shutdown_hook.owner = cancel;
    if (!register_pending_op(*w->sched, m_shutdown_hook)) {
      throw cancelled_error(std::string(m_cfg.what) + ": runtime is shutting down");
    }
    m_registered = true;
    if (cancel != nullptr) {
      m_cancel_hook.self = this;
      m_cancel_hook.fn = [](cancel_callback* c) noexcept { static_cast<cancel_hook*>(c)->self->cancel_wait(); };
      if (!cancel->install(&m_cancel_hook)) {
        undo_setup();
        throw cancelled_error(std::string(m_cfg.what) + ": task cancelled");
      }
      m_cancel = cancel;
      m_installed = true;
    }
  }
  wake_list wakes; // resumed after the lock is released (destroyed after `lock`)
  try {
    std::lock_guard lock(*m_cfg.lock);
    if (waiter.status == sync_waiter::state::cancelled) {
      return false; // a cancellation came first; finish() throws
    }
    if (m_cfg.try_now(waiter.owner, wakes)) {
      waiter.status = sync_waiter::state::granted;
      return false;
    }
    m_cfg.fifo->push_back(&waiter);
    waiter.status = sync_waiter::state::queued;
    // From here on the task may be resumed on another thread: touch nothing of *this.
    return true;
  } catch (...) {
    undo_setup();
    throw;
  }
}

void sync_wait_op::finish() {
  undo_setup();
  if (waiter.status == sync_waiter::state::cancelled) {
    throw cancelled_error(std::string(m_cfg.what) + ": cancelled while waiting");
  }
}

void sync_wait_op::undo_setup() noexcept {
  if (m_installed) {
    m_cancel->remove(&m_cancel_hook); // waits out a cancel_wait() still running
    m_installed = false;
  }
  if (m_registered) {
    unregister_pending_op(*waiter.sched, m_shutdown_hook);
    m_registered = false;
  }
}

void sync_wait_op::cancel_wait() noexcept {
  wake_list wakes;
  bool resume = false;
  {
    std::lock_guard lock(*m_cfg.lock);
    switch (waiter.status) {
    case sync_waiter::state::queued:
      m_cfg.fifo->remove(&waiter);
      waiter.status = sync_waiter::state::cancelled;
      if (m_cfg.on_leave != nullptr) {
        m_cfg.on_leave(waiter.owner, wakes);
      }
      resume = true;
      break;
    case sync_waiter::state::idle:
      waiter.status = sync_waiter::state::cancelled; // suspend() will not queue it
      break;
    case sync_waiter::state::granted:
    case sync_waiter::state::cancelled:
      break; // granted: the task keeps what it got and sees the cancellation later
    }
  }
  if (resume) {
    schedule_internal(*waiter.sched, waiter.handle);
  }
}

} // namespace weft::detail
