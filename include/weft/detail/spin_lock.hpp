#pragma once
// A test-and-test-and-set lock for the short critical sections of the synchronisation
// primitives (a few pointer updates on an intrusive list). Contention is brief, so spinning
// beats a futex round trip; after a bounded spin it yields the thread.

#include "weft/detail/config.hpp"

#include <atomic>
#include <thread>

namespace weft::detail {

class spin_lock {
public:
  void lock() noexcept {
    for (;;) {
      // acquire: pairs with the release in unlock(); makes the previous holder's writes
      // to the guarded state visible.
      if (!m_locked.exchange(true, std::memory_order_acquire)) {
        return;
      }
      for (int spins = 0; m_locked.load(std::memory_order_relaxed); ++spins) {
        // relaxed: only a hint to retry the exchange above, which orders.
        if (spins < 64) {
          cpu_relax();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }

  void unlock() noexcept {
    // release: publishes the guarded state to the next lock().
    m_locked.store(false, std::memory_order_release);
  }

private:
  std::atomic<bool> m_locked{false};
};

} // namespace weft::detail
