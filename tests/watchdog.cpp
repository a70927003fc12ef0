#include "watchdog.hpp"

#include <weft/runtime.hpp>

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace weft::test {

watchdog::watchdog(std::chrono::milliseconds bound, std::string what) : m_what(std::move(what)) {
  m_thread = std::thread([this, bound] { watch(bound); });
}

watchdog::~watchdog() {
  {
    std::lock_guard lock(m_mutex);
    m_disarmed = true;
  }
  m_cv.notify_one();
  m_thread.join();
}

void watchdog::watch(std::chrono::milliseconds bound) noexcept {
  std::unique_lock lock(m_mutex);
  if (m_cv.wait_for(lock, bound, [this] { return m_disarmed; })) {
    return;
  }
  std::ostringstream report;
  report << "\nweft watchdog: " << m_what << " did not finish within " << bound.count() << " ms; live runtimes:\n";
  weft::runtime::dump_all(report);
  std::fputs(report.str().c_str(), stderr);
  std::fflush(stderr);
  std::fflush(stdout);
  std::_Exit(k_watchdog_exit_code); // the stuck threads cannot be joined: end here
}

std::chrono::milliseconds test_watchdog_bound() {
  if (const char* env = std::getenv("WEFT_TEST_WATCHDOG_SECONDS")) {
    const long s = std::strtol(env, nullptr, 10);
    if (s > 0) {
      return std::chrono::seconds(s);
    }
  }
  return std::chrono::seconds(240);
}

} // namespace weft::test
