// Races on a task's waiter list and listener slot: awaiters register while the task
// finishes, many at once, with random delays on both sides. Every awaiter must resume
// exactly once and see the task done. Seeds are printed; WEFT_SEED replays.
#include <weft/join_handle.hpp>

#include <weft/as_completed.hpp>
#include <weft/gather.hpp>
#include <weft/run.hpp>
#include <weft/spawn.hpp>
#include <weft/wait.hpp>
#include <weft/yield.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <vector>

namespace {

std::atomic<unsigned> g_sink{0};

void spin(unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    g_sink.fetch_add(1, std::memory_order_relaxed); // work the optimiser cannot drop
  }
}

weft::task<int> finish_after_spin(unsigned n) {
  spin(n);
  co_return 1;
}

TEST(JoinRaceStress, HundredThousandRacesBetweenWaitersAndCompletion) {
  const unsigned seed = weft::test::test_seed("JoinRaceStress.HundredThousandRaces");
  constexpr int k_rounds = 100'000;
  auto body = [](unsigned s) -> weft::task<long> {
    std::mt19937 rng(s);
    long resumed = 0;
    for (int round = 0; round < k_rounds; ++round) {
      const unsigned delay = rng() % 64;
      const int waiters = 1 + static_cast<int>(rng() % 3);
      auto h = weft::spawn(finish_after_spin(delay));
      co_await weft::yield(); // let another worker take it: completion races registration
      if (waiters == 1 && (rng() & 1) != 0) {
        // a wait() listener racing the completion
        std::vector<weft::join_handle<int>> hs;
        hs.push_back(std::move(h));
        auto r = co_await weft::wait(std::move(hs), weft::return_when::first_completed);
        resumed += static_cast<long>(r.done.size());
        resumed += co_await r.done[0] == 1 ? 0 : 1000000; // must be done and correct
        continue;
      }
      std::vector<weft::task<int>> ws;
      for (int i = 0; i < waiters; ++i) {
        ws.push_back([](const weft::join_handle<int>& hh, unsigned d) -> weft::task<int> {
          spin(d);
          co_await hh.done();
          co_return hh.is_done() ? 1 : 1000000;
        }(h, rng() % 64));
      }
      for (int v : co_await weft::gather(std::move(ws))) {
        resumed += v;
      }
      resumed -= waiters - 1; // count each round once
      (void)co_await h;
    }
    co_return resumed;
  };
  EXPECT_EQ(weft::run(body(seed), {.workers = 4}), k_rounds);
}

TEST(JoinRaceStress, WaitLoopsFreeTasksWhileOthersFinish) {
  // The FIRST_COMPLETED loop frees finished tasks right after wait() returns, while other
  // tasks are finishing: a completer must never touch a task after publishing it done.
  const unsigned seed = weft::test::test_seed("JoinRaceStress.WaitLoops");
  constexpr int k_tasks = 20'000;
  auto body = [](unsigned s) -> weft::task<long> {
    std::mt19937 rng(s);
    std::vector<weft::join_handle<int>> pending;
    int started = 0;
    long finished = 0;
    while (started < 8) {
      pending.push_back(weft::spawn(finish_after_spin(rng() % 256)));
      ++started;
    }
    while (!pending.empty()) {
      auto r = co_await weft::wait(std::move(pending), weft::return_when::first_completed);
      for (auto& h : r.done) {
        finished += co_await h;
        if (started < k_tasks) {
          r.pending.push_back(weft::spawn(finish_after_spin(rng() % 256)));
          ++started;
        }
      }
      pending = std::move(r.pending);
    }
    co_return finished;
  };
  EXPECT_EQ(weft::run(body(seed), {.workers = 4}), k_tasks);
}

TEST(JoinRaceStress, AsCompletedRangesEndWhileTasksFinish) {
  // Each round's range is destroyed as soon as its last result is taken, while publishers
  // of that result may still be finishing their wake-up.
  const unsigned seed = weft::test::test_seed("JoinRaceStress.AsCompleted");
  constexpr int k_rounds = 20'000;
  auto body = [](unsigned s) -> weft::task<long> {
    std::mt19937 rng(s);
    long taken = 0;
    for (int round = 0; round < k_rounds; ++round) {
      std::vector<weft::join_handle<int>> hs;
      const int n = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) {
        hs.push_back(weft::spawn(finish_after_spin(rng() % 128)));
      }
      for (auto next : weft::as_completed(std::move(hs))) {
        taken += co_await next;
      }
      taken -= n - 1;
    }
    co_return taken;
  };
  EXPECT_EQ(weft::run(body(seed), {.workers = 4}), k_rounds);
}

} // namespace
