// The blocking pool: see blocking_pool.hpp.

#include "blocking_pool.hpp"

#include "scheduler.hpp"

#include <algorithm>

#include <pthread.h>

namespace weft::detail {

blocking_pool::~blocking_pool() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(m_mutex);
    m_closed = true;
    m_exiting = true;
    threads.swap(m_threads);
  }
  m_cv.notify_all();
  for (auto& t : threads) {
    t.join();
  }
}

bool blocking_pool::submit(blocking_job& job) {
  std::unique_lock lock(m_mutex);
  if (m_closed) {
    return false;
  }
  join_finished();
  if (m_idle <= m_queued && m_threads.size() < m_max_threads) {
    m_threads.emplace_back([this] { thread_main(); }); // throws: nothing queued yet
  }
  job.status = blocking_job::state::queued;
  job.next = nullptr;
  job.prev = m_tail;
  (m_tail != nullptr ? m_tail->next : m_head) = &job;
  m_tail = &job;
  ++m_queued;
  lock.unlock();
  m_cv.notify_one();
  return true;
}

bool blocking_pool::cancel(blocking_job& job) noexcept {
  std::lock_guard lock(m_mutex);
  if (job.status != blocking_job::state::queued) {
    return false;
  }
  (job.prev != nullptr ? job.prev->next : m_head) = job.next;
  (job.next != nullptr ? job.next->prev : m_tail) = job.prev;
  job.status = blocking_job::state::cancelled;
  --m_queued;
  return true;
}

void blocking_pool::close() noexcept {
  std::lock_guard lock(m_mutex);
  m_closed = true;
}

std::size_t blocking_pool::threads() noexcept {
  std::lock_guard lock(m_mutex);
  return m_threads.size();
}

std::size_t blocking_pool::queued() noexcept {
  std::lock_guard lock(m_mutex);
  return m_queued;
}

std::size_t blocking_pool::idle() noexcept {
  std::lock_guard lock(m_mutex);
  return m_idle;
}

void blocking_pool::join_finished() noexcept {
  for (const std::thread::id id : m_finished) {
    auto it = std::find_if(m_threads.begin(), m_threads.end(), [id](const std::thread& t) { return t.get_id() == id; });
    if (it != m_threads.end()) {
      it->join(); // it has left thread_main; joining is immediate
      m_threads.erase(it);
    }
  }
  m_finished.clear();
}

void blocking_pool::thread_main() noexcept {
  (void)pthread_setname_np(pthread_self(), "weft-blocking"); // cosmetic: failure ignored
  std::unique_lock lock(m_mutex);
  for (;;) {
    ++m_idle;
    const bool woke = m_cv.wait_for(lock, m_keep_alive, [this] { return m_head != nullptr || m_exiting; });
    --m_idle;
    if (m_exiting || !woke) {
      if (!m_exiting) {
        m_finished.push_back(std::this_thread::get_id()); // joined by the next submit
      }
      return;
    }
    blocking_job* job = m_head;
    m_head = job->next;
    (m_head != nullptr ? m_head->prev : m_tail) = nullptr;
    --m_queued;
    job->status = blocking_job::state::running;
    lock.unlock();
    job->run(job); // resumes the task; job may be gone afterwards
    lock.lock();
  }
}

bool submit_blocking(scheduler& sched, blocking_job& job) { return sched.blocking.submit(job); }

bool cancel_blocking(scheduler& sched, blocking_job& job) noexcept { return sched.blocking.cancel(job); }

} // namespace weft::detail
