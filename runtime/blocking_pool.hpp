#pragma once
// The blocking pool behind weft::to_thread: threads apart from the workers, started on
// demand up to a bound, which leave after an idle keep-alive. A mutex and a condition
// variable: each job already costs a blocking call and two thread hand-offs.

#include <weft/detail/blocking_job.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace weft::detail {

class blocking_pool {
public:
  blocking_pool(std::size_t max_threads, std::chrono::milliseconds keep_alive) noexcept
      : m_max_threads(max_threads == 0 ? 1 : max_threads), m_keep_alive(keep_alive) {}
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;
  /// Joins every thread. Requires: no job queued or running (shutdown waits for them).
  ~blocking_pool();

  /// False once closed. Throws: std::system_error if a thread cannot be started while
  /// none is idle (the job is then not queued).
  [[nodiscard]] bool submit(blocking_job& job);
  bool cancel(blocking_job& job) noexcept;
  /// Refuses new jobs. Queued ones are cancelled by shutdown through their pending ops.
  void close() noexcept;
  [[nodiscard]] std::size_t threads() noexcept;
  /// Jobs waiting for a thread, and threads idle (for dump()).
  [[nodiscard]] std::size_t queued() noexcept;
  [[nodiscard]] std::size_t idle() noexcept;

private:
  void thread_main() noexcept;
  void join_finished() noexcept; // under m_mutex

  const std::size_t m_max_threads;
  const std::chrono::milliseconds m_keep_alive;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  blocking_job* m_head = nullptr;       // guarded by m_mutex
  blocking_job* m_tail = nullptr;       // guarded by m_mutex
  std::size_t m_queued = 0;             // guarded by m_mutex
  std::size_t m_idle = 0;               // guarded by m_mutex
  bool m_closed = false;                // guarded by m_mutex
  bool m_exiting = false;               // guarded by m_mutex
  std::vector<std::thread> m_threads;   // guarded by m_mutex
  std::vector<std::thread::id> m_finished; // threads that left; guarded by m_mutex
};

} // namespace weft::detail
