#pragma once
// A watchdog for tests: a test that overruns its bound fails with a dump of every live
// runtime (workers, queues, waiting tasks and where they were spawned) instead of hanging
// CI until ctest's timeout kills it with no word of where it was stuck.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace weft::test {

/// Exit status of a process the watchdog ends (as timeout(1) uses).
inline constexpr int k_watchdog_exit_code = 124;

/// While alive, a thread waits for `bound`; if the watchdog is still alive then, it prints
/// "weft watchdog: <what> did not finish within ..." and runtime::dump_all() to stderr and
/// ends the process with k_watchdog_exit_code.
class watchdog {
public:
  watchdog(std::chrono::milliseconds bound, std::string what);
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog(); // disarms

private:
  void watch(std::chrono::milliseconds bound) noexcept;

  std::string m_what;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_disarmed = false; // guarded by m_mutex
  std::thread m_thread;
};

/// The bound for one test: WEFT_TEST_WATCHDOG_SECONDS if set (CMake sets it below ctest's
/// TIMEOUT), else 240 s.
std::chrono::milliseconds test_watchdog_bound();

} // namespace weft::test
