// The event count under the workers' parking (runtime/event_count.hpp): a notify after
// prepare_wait() is never lost, and the futex is woken only for a waiter inside wait().
#include "event_count.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace {

using weft::detail::event_count;
using notify_result = event_count::notify_result;

TEST(EventCount, NotifyWithNobodyAnnouncedWakesNobody) {
  std::atomic<std::uint32_t> waiters{0};
  event_count ec(waiters);
  EXPECT_EQ(ec.notify_one(), notify_result::nobody_waiting);
}

// A waiter that announced itself but is not on the futex yet (a worker re-checking, or
// the poller in the reactor): the notifier makes no futex call, and the waiter's wait()
// returns at once because the epoch moved.
TEST(EventCount, AnnouncedWaiterNotYetAsleepSeesTheNotify) {
  std::atomic<std::uint32_t> waiters{0};
  event_count ec(waiters);
  const std::uint32_t key = ec.prepare_wait();
  EXPECT_EQ(waiters.load(), 1u);
  EXPECT_EQ(ec.notify_one(), notify_result::woke_nobody);
  EXPECT_TRUE(ec.notified_since(key));
  ec.wait(key); // must not block
  EXPECT_EQ(waiters.load(), 0u);
}

// A waiter asleep in wait() is woken by notify_one, which reports it.
TEST(EventCount, SleeperIsWokenAndReported) {
  std::atomic<std::uint32_t> waiters{0};
  event_count ec(waiters);
  int woke_sleeper = 0;
  for (int round = 0; round < 20 && woke_sleeper == 0; ++round) {
    std::atomic<bool> announced{false};
    std::atomic<bool> returned{false};
    std::thread sleeper([&] {
      const std::uint32_t key = ec.prepare_wait();
      announced.store(true);
      ec.wait(key);
      returned.store(true);
    });
    while (!announced.load()) {
      std::this_thread::yield();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // time to reach the futex
    const notify_result r = ec.notify_one();
    EXPECT_NE(r, notify_result::nobody_waiting);
    sleeper.join(); // hangs (and the watchdog fails the test) if the wake-up was lost
    EXPECT_TRUE(returned.load());
    woke_sleeper += r == notify_result::woke_sleeper ? 1 : 0;
  }
  EXPECT_GT(woke_sleeper, 0) << "notify_one never reported a sleeper it woke";
}

// Waiters and a notifier racing with no pauses: every round ends (no lost wake-up),
// whichever side arrives first.
TEST(EventCount, RacingWaitAndNotifyNeverLoseAWakeUp) {
  std::atomic<std::uint32_t> waiters{0};
  event_count ec(waiters);
  constexpr int k_rounds = 5'000;
  std::atomic<int> published{0};
  std::thread sleeper([&] {
    for (int i = 1; i <= k_rounds; ++i) {
      for (;;) {
        if (published.load(std::memory_order_seq_cst) >= i) {
          break; // the work for this round is there
        }
        const std::uint32_t key = ec.prepare_wait();
        if (published.load(std::memory_order_seq_cst) >= i) { // the re-check
          ec.cancel_wait();
          break;
        }
        ec.wait(key);
      }
    }
  });
  for (int i = 1; i <= k_rounds; ++i) {
    published.store(i, std::memory_order_seq_cst); // publish, then notify
    (void)ec.notify_one();
    if (i % 64 == 0) {
      std::this_thread::yield(); // let the sleeper fall asleep now and then
    }
  }
  sleeper.join();
  EXPECT_EQ(waiters.load(), 0u);
}

} // namespace
