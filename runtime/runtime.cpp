#include <weft/runtime.hpp>

#include "scheduler.hpp"


#include <cstdio>
#include <exception>
#include <string>

namespace weft {
namespace {

// The runtime made current on this (non-worker) thread by its constructor.
thread_local runtime* tl_current = nullptr;

/// options, refused with usage_error where a count is absurd.
runtime_options checked(runtime_options options) {
  if (options.workers > runtime_options::max_workers) {
    // Most likely a negative count converted to unsigned; thousands of threads on a few
    // cores would spend their time searching each other's deques.
    throw usage_error("weft::runtime: runtime_options::workers is " + std::to_string(options.workers) +
                      ", above runtime_options::max_workers (" + std::to_string(runtime_options::max_workers) +
                      ")");
  }
  return options;
}

} // namespace

runtime::runtime() : runtime(runtime_options{}) {}

runtime::runtime(runtime_options options)
    : m_scheduler(std::make_unique<detail::scheduler>(*this, checked(std::move(options)))) {
  detail::add_live_runtime(*this); // if this throws, the scheduler's destructor shuts down
  if (detail::tl_worker == nullptr) {
    m_previous_current = tl_current;
    tl_current = this;
    m_made_current = true;
  }
}

runtime::~runtime() {
  if (m_made_current && tl_current == this) {
    tl_current = m_previous_current;
  }
  if (detail::tl_worker != nullptr && &detail::tl_worker->sched->owner() == this) {
    // Destroying a runtime from its own worker cannot join that worker.
    std::fputs("weft: a runtime was destroyed on one of its own workers\n", stderr);
    std::terminate();
  }
  m_scheduler->shutdown();
  // After shutdown, so that a watchdog can still dump a runtime whose shutdown hangs.
  detail::remove_live_runtime(*this);
}

unsigned runtime::worker_count() const noexcept { return m_scheduler->worker_count(); }

void runtime::shutdown() { m_scheduler->shutdown(); }

bool runtime::is_shutting_down() const noexcept { return m_scheduler->is_shutting_down(); }

std::vector<worker_stats> runtime::stats() const { return m_scheduler->stats(); }

asio::io_context& runtime::io_context() noexcept { return m_scheduler->io.context(); }

runtime* runtime::current() noexcept {
  if (detail::worker_context* w = detail::tl_worker) {
    return &w->sched->owner();
  }
  return tl_current;
}

runtime& runtime::current_or_throw() {
  runtime* rt = current();
  if (rt == nullptr) {
    throw no_runtime_error("weft: no current runtime on this thread (construct a weft::runtime or use weft::run)");
  }
  return *rt;
}

std::optional<unsigned> this_worker_index() noexcept {
  if (detail::worker_context* w = detail::tl_worker) {
    return w->index;
  }
  return std::nullopt;
}

} // namespace weft

