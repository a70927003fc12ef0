#include <weft/gather.hpp>

#include <weft/run.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>
#include <weft/yield.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using namespace std::chrono_literals;

class Gather : public weft::test::with_workers {};

INSTANTIATE_TEST_SUITE_P(Workers, Gather, weft::test::worker_counts(), weft::test::workers_name);

weft::task<int> after(std::chrono::milliseconds d, int v) {
  co_await weft::sleep(d);
  co_return v;
}

weft::task<int> fail_after(std::chrono::milliseconds d, std::string what) {
  co_await weft::sleep(d);
  throw std::runtime_error(what);
}

// Sleeps until cancelled; counts the cancellation and rethrows it.
weft::task<int> sleep_until_cancelled(std::atomic<int>& cancelled) {
  try {
    co_await weft::sleep(1h);
  } catch (const weft::cancelled_error&) {
    cancelled.fetch_add(1);
    throw;
  }
  co_return 0;
}

// Yields until ready() holds, for 20 s at most (the test's expectation then fails and
// shows what happened): waits for other tasks on any worker, one worker included.
template <class Ready>
weft::task<void> yield_until(Ready ready) {
  const auto cap = std::chrono::steady_clock::now() + 20s;
  while (!ready() && std::chrono::steady_clock::now() < cap) {
    co_await weft::yield();
  }
}

// Cancels h and joins it: "cancelled" if it ended with cancelled_error, else "none".
weft::task<std::string> cancel_and_join(weft::join_handle<void>& h) {
  h.cancel();
  try {
    co_await h;
  } catch (const weft::cancelled_error&) {
    co_return "cancelled";
  }
  co_return "none";
}

TEST_P(Gather, TupleInArgumentOrderNotCompletionOrder) {
  auto body = []() -> weft::task<std::tuple<int, std::string, weft::void_result>> {
    co_return co_await weft::gather(after(20ms, 1), []() -> weft::task<std::string> { co_return "two"; }(),
                                    []() -> weft::task<void> { co_await weft::sleep(5ms); }());
  };
  const auto [a, b, c] = weft::run(body(), options());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, "two");
  EXPECT_EQ(c, weft::void_result{});
}

TEST_P(Gather, VectorInInputOrder) {
  auto body = []() -> weft::task<std::vector<int>> {
    std::vector<weft::task<int>> ts;
    for (int i = 0; i < 10; ++i) {
      ts.push_back(after(std::chrono::milliseconds(10 - i), i));
    }
    co_return co_await weft::gather(std::move(ts));
  };
  EXPECT_EQ(weft::run(body(), options()), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_P(Gather, EmptyRangeGivesEmptyResultAtOnce) {
  auto body = []() -> weft::task<std::size_t> {
    auto r = co_await weft::gather(std::vector<weft::task<int>>{});
    auto h = co_await weft::gather(std::vector<weft::join_handle<int>>{});
    co_return r.size() + h.size();
  };
  EXPECT_EQ(weft::run(body(), options()), 0u);
}

TEST_P(Gather, MoveOnlyResults) {
  auto body = []() -> weft::task<int> {
    auto [p, q] = co_await weft::gather([]() -> weft::task<std::unique_ptr<int>> { co_return std::make_unique<int>(4); }(),
                                        []() -> weft::task<std::unique_ptr<int>> { co_return std::make_unique<int>(5); }());
    co_return *p + *q;
  };
  EXPECT_EQ(weft::run(body(), options()), 9);
}

TEST_P(Gather, RethrowsFirstExceptionInTimeAfterAllChildrenFinish) {
  auto body = []() -> weft::task<std::string> {
    std::atomic<bool> slow_done{false};
    auto slow = [](std::atomic<bool>& done) -> weft::task<int> {
      co_await weft::sleep(40ms);
      done.store(true);
      co_return 0;
    };
    try {
      (void)co_await weft::gather(fail_after(20ms, "second"), fail_after(1ms, "first"), slow(slow_done));
    } catch (const std::runtime_error& e) {
      // gather waited for the slow child before rethrowing.
      co_return std::string(e.what()) + (slow_done.load() ? "+all" : "+early");
    }
    co_return "no exception";
  };
  EXPECT_EQ(weft::run(body(), options()), "first+all");
}

TEST_P(Gather, ReturnExceptionsGivesOutcomesInOrder) {
  auto body = []() -> weft::task<std::string> {
    auto [a, b] = co_await weft::gather(weft::return_exceptions, after(1ms, 3), fail_after(1ms, "bad"));
    std::string r = std::to_string(a.value());
    try {
      (void)b.value();
    } catch (const std::runtime_error& e) {
      r += e.what();
    }
    std::vector<weft::task<int>> ts;
    ts.push_back(fail_after(1ms, "x"));
    ts.push_back(after(1ms, 8));
    auto v = co_await weft::gather(weft::return_exceptions, std::move(ts));
    r += v[0].has_exception() ? "E" : "V";
    r += std::to_string(v[1].value());
    co_return r;
  };
  EXPECT_EQ(weft::run(body(), options()), "3badE8");
}

TEST_P(Gather, ChildrenRunOnSeveralWorkers) {
  if (GetParam() < 2) {
    GTEST_SKIP() << "needs two workers";
  }
  // The first child runs on the awaiting worker and holds it until some sibling has run on
  // another worker, which only stealing can make happen (bounded wait, no timing claim).
  auto body = []() -> weft::task<bool> {
    std::atomic<bool> stolen{false};
    const unsigned home = *weft::this_worker_index();
    std::vector<weft::task<bool>> ts;
    ts.push_back([](std::atomic<bool>& s) -> weft::task<bool> {
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (!s.load() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      co_return s.load();
    }(stolen));
    for (int i = 1; i < 64; ++i) {
      ts.push_back([](std::atomic<bool>& s, unsigned h) -> weft::task<bool> {
        if (*weft::this_worker_index() != h) {
          s.store(true);
        }
        co_return false;
      }(stolen, home));
    }
    const auto r = co_await weft::gather(std::move(ts));
    co_return r[0];
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Gather, MillionChildren) {
  auto body = []() -> weft::task<long> {
    std::vector<weft::task<int>> ts;
    ts.reserve(1'000'000);
    for (int i = 0; i < 1'000'000; ++i) {
      ts.push_back([](int v) -> weft::task<int> { co_return v % 7; }(i));
    }
    const auto r = co_await weft::gather(std::move(ts));
    long sum = 0;
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (r[i] != static_cast<int>(i % 7)) {
        co_return -1;
      }
      sum += r[i];
    }
    co_return sum;
  };
  long want = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    want += i % 7;
  }
  EXPECT_EQ(weft::run(body(), options()), want);
}

TEST_P(Gather, CancellingTheAwaiterCancelsEveryChild) {
  auto body = []() -> weft::task<std::string> {
    std::atomic<int> cancelled_children{0};
    auto h = weft::spawn([](std::atomic<int>& n) -> weft::task<void> {
      (void)co_await weft::gather(sleep_until_cancelled(n), sleep_until_cancelled(n), sleep_until_cancelled(n));
    }(cancelled_children));
    co_await weft::sleep(5ms);
    const std::string r = co_await cancel_and_join(h);
    co_return r + std::to_string(cancelled_children.load());
  };
  EXPECT_EQ(weft::run(body(), options()), "cancelled3");
}

// Children that never wait on a callback (they only yield) install nothing in the
// gathering task's state: a cancel then reaches them through their link to it, at their
// next await. Every child must stop, none may run to its end.
TEST_P(Gather, CancelReachesChildrenThatOnlyYield) {
  auto body = []() -> weft::task<std::string> {
    std::atomic<int> cancelled_children{0};
    std::atomic<int> running{0};
    auto spin = [](std::atomic<int>& n, std::atomic<int>& up) -> weft::task<int> {
      up.fetch_add(1);
      try {
        const auto cap = std::chrono::steady_clock::now() + 20s;
        while (std::chrono::steady_clock::now() < cap) {
          co_await weft::yield();
        }
      } catch (const weft::cancelled_error&) {
        n.fetch_add(1);
        throw;
      }
      co_return 0;
    };
    auto h = weft::spawn([](auto spin, std::atomic<int>& n, std::atomic<int>& up) -> weft::task<void> {
      (void)co_await weft::gather(spin(n, up), spin(n, up), spin(n, up), spin(n, up));
    }(spin, cancelled_children, running));
    const auto all_running = [&running] { return running.load() == 4; };
    co_await yield_until(all_running);
    const std::string r = co_await cancel_and_join(h);
    co_return r + std::to_string(cancelled_children.load());
  };
  EXPECT_EQ(weft::run(body(), options()), "cancelled4");
}

// A gather inside a gather's child: cancelling the outer task reaches the inner gather's
// children too (the inner gather hooks into its linked parent at once). The cancel comes
// once all seven sleepers wait.
TEST_P(Gather, CancelReachesTheChildrenOfANestedGather) {
  struct counts {
    std::atomic<int> waiting{0};
    std::atomic<int> cancelled{0};
  };
  static constexpr auto sleeper = [](counts& c) -> weft::task<int> {
    c.waiting.fetch_add(1);
    try {
      co_await weft::sleep(1h);
    } catch (const weft::cancelled_error&) {
      c.cancelled.fetch_add(1);
      throw;
    }
    co_return 0;
  };
  auto body = []() -> weft::task<std::string> {
    counts c;
    auto inner = [](counts& c) -> weft::task<int> {
      auto [a, b, d] = co_await weft::gather(sleeper(c), sleeper(c), sleeper(c));
      co_return a + b + d;
    };
    auto h = weft::spawn([](auto inner, counts& c) -> weft::task<void> {
      (void)co_await weft::gather(inner(c), sleeper(c), inner(c));
    }(inner, c));
    const auto all_waiting = [&c] { return c.waiting.load() == 7; };
    co_await yield_until(all_waiting);
    const std::string r = co_await cancel_and_join(h);
    co_return r + std::to_string(c.cancelled.load());
  };
  EXPECT_EQ(weft::run(body(), options()), "cancelled7");
}

// Races a cancel against children that start waiting (each such child hooks the gather
// into the cancelled task's state on its first wait) while the chain collects finished
// children: rounds of 300 children, every 25th sleeping 0-40 us, cancelled 0-30 us after
// the first child ran. Each round finishes with every result in order or throws
// cancelled_error; nothing hangs or races (TSan run).
TEST_P(Gather, CancelRacingChildrenThatStartWaitingStress) {
  auto body = []() -> weft::task<std::string> {
    int settled = 0;
    for (int round = 0; round < 300; ++round) {
      std::atomic<bool> started{false};
      auto h = weft::spawn([](std::atomic<bool>& go, int round) -> weft::task<bool> {
        std::vector<weft::task<int>> ts;
        for (int i = 0; i < 300; ++i) {
          ts.push_back([](int v, std::atomic<bool>& g, int round) -> weft::task<int> {
            if (v == 0) {
              g.store(true, std::memory_order_release);
            } else if (v % 25 == 0) {
              co_await weft::sleep(std::chrono::microseconds((v + round) % 41));
            }
            co_return v;
          }(i, go, round));
        }
        const auto r = co_await weft::gather(std::move(ts));
        for (std::size_t i = 0; i < r.size(); ++i) {
          if (r[i] != static_cast<int>(i)) {
            co_return false;
          }
        }
        co_return true;
      }(started, round));
      const auto first_ran = [&started] { return started.load(std::memory_order_acquire); };
      co_await yield_until(first_ran);
      co_await weft::sleep(std::chrono::microseconds(round % 31));
      h.cancel();
      try {
        if (!co_await h) {
          co_return "results out of order";
        }
        ++settled;
      } catch (const weft::cancelled_error&) {
        ++settled;
      }
    }
    co_return settled == 300 ? "ok" : "lost rounds";
  };
  EXPECT_EQ(weft::run(body(), options()), "ok");
}

TEST_P(Gather, OverJoinHandles) {
  auto body = []() -> weft::task<std::string> {
    std::vector<weft::join_handle<int>> hs;
    for (int i = 0; i < 5; ++i) {
      hs.push_back(weft::spawn(after(std::chrono::milliseconds(5 - i), i * i)));
    }
    const auto r = co_await weft::gather(std::move(hs));
    std::string s;
    for (int v : r) {
      s += std::to_string(v) + ",";
    }
    std::vector<weft::join_handle<int>> bad;
    bad.push_back(weft::spawn(fail_after(1ms, "boom")));
    bad.push_back(weft::spawn(after(3ms, 1)));
    try {
      (void)co_await weft::gather(std::move(bad));
    } catch (const std::runtime_error& e) {
      s += e.what();
    }
    co_return s;
  };
  EXPECT_EQ(weft::run(body(), options()), "0,1,4,9,16,boom");
}

TEST_P(Gather, EmptyTaskThrows) {
  auto body = []() -> weft::task<void> {
    auto t = after(1ms, 1);
    auto moved = std::move(t);
    (void)co_await weft::gather(std::move(t), std::move(moved));
  };
  EXPECT_THROW(weft::run(body(), options()), weft::invalid_task_error);
}

// A gather is awaited once: its children ran and their results were taken. A second
// await threw for the vector form (empty tasks) but resumed finished coroutines for the
// tuple form.
TEST_P(Gather, AwaitingAGatherTwiceThrows) {
  auto tuple_form = []() -> weft::task<int> {
    auto g = weft::gather(after(1ms, 1), after(0ms, 2));
    const auto [a, b] = co_await g;
    EXPECT_EQ(a + b, 3);
    (void)co_await g;
    co_return a;
  };
  EXPECT_THROW(weft::run(tuple_form(), options()), weft::usage_error);
  auto vector_form = []() -> weft::task<int> {
    std::vector<weft::task<int>> children;
    children.push_back(after(0ms, 1));
    auto g = weft::gather(std::move(children));
    const std::vector<int> got = co_await g;
    EXPECT_EQ(got, std::vector<int>{1});
    (void)co_await g;
    co_return 0;
  };
  EXPECT_THROW(weft::run(vector_form(), options()), weft::usage_error);
  auto empty_form = []() -> weft::task<int> {
    auto g = weft::gather(std::vector<weft::task<int>>{});
    const std::vector<int> got = co_await g;
    EXPECT_TRUE(got.empty());
    (void)co_await g;
    co_return 0;
  };
  EXPECT_THROW(weft::run(empty_form(), options()), weft::usage_error);
}

TEST_P(Gather, ManyAwaitersOnOneHandle) {
  auto body = []() -> weft::task<int> {
    auto h = weft::spawn(after(5ms, 11));
    std::vector<weft::task<int>> waiters;
    for (int i = 0; i < 50; ++i) {
      waiters.push_back([](const weft::join_handle<int>& hh) -> weft::task<int> {
        co_await hh.done();
        co_return hh.is_done() ? 1 : 0;
      }(h));
    }
    const auto r = co_await weft::gather(std::move(waiters));
    int n = 0;
    for (int v : r) {
      n += v;
    }
    co_return n + co_await h;
  };
  EXPECT_EQ(weft::run(body(), options()), 50 + 11);
}

// The awaiting worker runs the children as a chain, each taking the next back from its
// deque (completion_counter.hpp). These children break the chain in every way it can
// break: one spawns a detached task (now the newest item, above the next sibling), one
// suspends and may resume on another worker, others may be stolen. Every result must
// still come back, in order, and every detached task must run.
TEST_P(Gather, ResultsSurviveChildrenThatBreakTheLocalChain) {
  auto body = []() -> weft::task<bool> {
    std::atomic<int> detached_ran{0};
    int detached_started = 0;
    for (int round = 0; round < 200; ++round) {
      std::vector<weft::task<int>> ts;
      for (int i = 0; i < 40; ++i) {
        switch (i % 4) {
        case 0:
          ts.push_back([](int v) -> weft::task<int> { co_return v; }(i));
          break;
        case 1:
          ts.push_back([](int v) -> weft::task<int> {
            co_await weft::yield();
            co_return v;
          }(i));
          break;
        case 2:
          ++detached_started;
          ts.push_back([](int v, std::atomic<int>& ran) -> weft::task<int> {
            weft::spawn([](std::atomic<int>& r) -> weft::task<void> {
              r.fetch_add(1);
              co_return;
            }(ran)).detach();
            co_return v;
          }(i, detached_ran));
          break;
        default:
          ts.push_back([](int v) -> weft::task<int> {
            co_await weft::sleep(0ms);
            co_return v;
          }(i));
          break;
        }
      }
      const std::vector<int> r = co_await weft::gather(std::move(ts));
      for (int i = 0; i < 40; ++i) {
        if (r[static_cast<std::size_t>(i)] != i) {
          co_return false;
        }
      }
    }
    const auto cap = std::chrono::steady_clock::now() + 20s;
    while (detached_ran.load() != detached_started && std::chrono::steady_clock::now() < cap) {
      co_await weft::sleep(1ms);
    }
    co_return detached_ran.load() == detached_started;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

// The chain collects its finished children in batches (moves each result out, frees the
// frame) while the gather is still running. A failure past the first batches must still
// be rethrown, from a frame the chain kept; with return_exceptions nothing is collected
// early and every outcome comes back; results that are not default-constructible take
// the path without early collection.
TEST_P(Gather, FailureAfterEarlyCollectedChildrenIsRethrown) {
  struct no_default {
    explicit no_default(int x) : v(x) {}
    int v;
  };
  auto body = []() -> weft::task<std::string> {
    std::string r;
    std::vector<weft::task<std::unique_ptr<int>>> ts;
    for (int i = 0; i < 1000; ++i) {
      ts.push_back([](int v) -> weft::task<std::unique_ptr<int>> {
        if (v == 700) {
          throw std::runtime_error("child 700");
        }
        co_return std::make_unique<int>(v);
      }(i));
    }
    try {
      (void)co_await weft::gather(std::move(ts));
      r += "no exception;";
    } catch (const std::runtime_error& e) {
      r += std::string(e.what()) + ";";
    }
    std::vector<weft::task<int>> us;
    for (int i = 0; i < 1000; ++i) {
      us.push_back([](int v) -> weft::task<int> {
        if (v % 300 == 299) {
          throw std::runtime_error("x");
        }
        co_return v;
      }(i));
    }
    auto outcomes = co_await weft::gather(weft::return_exceptions, std::move(us));
    int values = 0;
    int failures = 0;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].has_exception()) {
        failures += i % 300 == 299 ? 1 : 100;
      } else if (outcomes[i].value() == static_cast<int>(i)) {
        ++values;
      }
    }
    r += std::to_string(values) + "+" + std::to_string(failures) + ";";
    std::vector<weft::task<no_default>> ns;
    for (int i = 0; i < 500; ++i) {
      ns.push_back([](int v) -> weft::task<no_default> { co_return no_default{v}; }(i));
    }
    const auto got = co_await weft::gather(std::move(ns));
    bool in_order = got.size() == 500;
    for (std::size_t i = 0; i < got.size(); ++i) {
      in_order = in_order && got[i].v == static_cast<int>(i);
    }
    r += in_order ? "ordered" : "disordered";
    co_return r;
  };
  EXPECT_EQ(weft::run(body(), options()), "child 700;997+3;ordered");
}

// Cancelling a gather while its chain collects finished children: the collection takes
// the cancel callback out of the awaiting task's state and puts it back, so a request in
// between must still reach every child still running, and none may be reached after its
// frame is freed (ASan/TSan runs). The first 3,000 children finish at once (collected in
// batches), the last 1,000 sleep until cancelled.
// The cancel comes once the first child has run (waiting a fixed time instead failed once
// under ASan on a loaded CI machine: the 4000 frames took longer to build, the cancel came
// before the gather started, and no child ran).
TEST_P(Gather, CancelReachesEveryChildWhileTheChainCollects) {
  auto body = []() -> weft::task<std::string> {
    std::atomic<int> cancelled_children{0};
    std::atomic<bool> started{false};
    auto h = weft::spawn([](std::atomic<int>& n, std::atomic<bool>& go) -> weft::task<void> {
      std::vector<weft::task<int>> ts;
      ts.push_back([](std::atomic<bool>& g) -> weft::task<int> {
        g.store(true);
        co_return 0;
      }(go));
      for (int i = 1; i < 4000; ++i) {
        ts.push_back(i < 3000 ? [](int v) -> weft::task<int> { co_return v; }(i) : sleep_until_cancelled(n));
      }
      (void)co_await weft::gather(std::move(ts));
    }(cancelled_children, started));
    const auto first_ran = [&started] { return started.load(); };
    co_await yield_until(first_ran);
    const std::string r = co_await cancel_and_join(h);
    co_return r + std::to_string(cancelled_children.load());
  };
  EXPECT_EQ(weft::run(body(), options()), "cancelled1000");
}

// Races a cancel against the chain's collection at every point: gathers of trivial
// children, each cancelled from another worker 0-15 us after its first child ran (a
// gather of 600 takes some tens of us). Each gather either finishes with every result in
// order or throws cancelled_error; nothing hangs, leaks or races (TSan run). With one
// worker the cancel comes before the gather starts.
TEST_P(Gather, CancelRacingEarlyCollectionStress) {
  const bool concurrent = GetParam() >= 2;
  auto body = [](bool concurrent) -> weft::task<std::string> {
    int finished = 0;
    int cancelled = 0;
    for (int round = 0; round < 400; ++round) {
      std::atomic<bool> started{false};
      auto h = weft::spawn([](std::atomic<bool>& go) -> weft::task<bool> {
        std::vector<weft::task<int>> ts;
        for (int i = 0; i < 600; ++i) {
          ts.push_back([](int v, std::atomic<bool>& g) -> weft::task<int> {
            if (v == 0) {
              g.store(true, std::memory_order_release);
            } else if (v % 97 == 0) {
              co_await weft::yield();
            }
            co_return v;
          }(i, go));
        }
        const auto r = co_await weft::gather(std::move(ts));
        for (std::size_t i = 0; i < r.size(); ++i) {
          if (r[i] != static_cast<int>(i)) {
            co_return false;
          }
        }
        co_return true;
      }(started));
      if (concurrent) {
        const auto cap = std::chrono::steady_clock::now() + 5s;
        while (!started.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < cap) {
        }
        const auto at = std::chrono::steady_clock::now() + std::chrono::microseconds(round % 16);
        while (std::chrono::steady_clock::now() < at) {
        }
      }
      h.cancel();
      try {
        if (!co_await h) {
          co_return "results out of order";
        }
        ++finished;
      } catch (const weft::cancelled_error&) {
        ++cancelled;
      }
    }
    co_return finished + cancelled == 400 ? "ok" : "lost rounds";
  };
  EXPECT_EQ(weft::run(body(concurrent), options()), "ok");
}

// With one worker, back-to-back gathers never return to the worker loop (the last child
// resumes the awaiter, which starts the next gather). The chain's periodic pause must
// still poll the reactor, so an armed timer fires long before the 20 s cap. (A task
// spawned but not yet started would wait: the loop runs the newest work first.)
TEST(GatherChain, LetsATimerFireOnTheOnlyWorker) {
  auto body = []() -> weft::task<bool> {
    std::atomic<bool> woke{false};
    weft::spawn([](std::atomic<bool>& w) -> weft::task<void> {
      co_await weft::sleep(1ms);
      w.store(true);
    }(woke)).detach();
    co_await weft::yield(); // lets the sleeper arm its timer
    const auto cap = std::chrono::steady_clock::now() + 20s;
    while (!woke.load() && std::chrono::steady_clock::now() < cap) {
      std::vector<weft::task<int>> ts;
      for (int i = 0; i < 100; ++i) {
        ts.push_back([](int v) -> weft::task<int> { co_return v; }(i));
      }
      (void)co_await weft::gather(std::move(ts));
    }
    co_return woke.load();
  };
  EXPECT_TRUE(weft::run(body(), {.workers = 1}));
}

} // namespace
