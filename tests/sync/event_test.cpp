#include <weft/event.hpp>

#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/spawn.hpp>

#include "support.hpp"
#include "sync/sync_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

class Event : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, Event, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(Event, SetFromAnOutsideThreadWakesEveryWaiter) {
  auto body = []() -> weft::task<int> {
    weft::event ev;
    std::atomic<int> woken{0};
    std::vector<weft::join_handle<void>> hs;
    for (int i = 0; i < 10; ++i) {
      hs.push_back(weft::spawn([](weft::event& e, std::atomic<int>& w) -> weft::task<void> {
        co_await e.wait();
        w.fetch_add(1);
      }(ev, woken)));
    }
    co_await weft::test::eventually([&ev] { return ev.waiting() == 10; });
    std::thread setter([&ev] { ev.set(); });
    for (auto& h : hs) {
      co_await h;
    }
    setter.join();
    co_return woken.load();
  };
  EXPECT_EQ(weft::run(body(), options()), 10);
}

TEST_P(Event, WaitPassesWhileSetAndSuspendsAfterClear) {
  auto body = []() -> weft::task<bool> {
    weft::event ev;
    ev.set();
    co_await ev.wait(); // does not suspend
    ev.clear();
    EXPECT_FALSE(ev.is_set());
    auto h = weft::spawn([](weft::event& e) -> weft::task<void> { co_await e.wait(); }(ev));
    co_await weft::test::eventually([&ev] { return ev.waiting() == 1; });
    EXPECT_FALSE(h.is_done());
    ev.set();
    co_await h;
    co_return ev.is_set();
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(Event, CancelledWaiterLeaves) {
  auto body = []() -> weft::task<std::size_t> {
    weft::event ev;
    auto h = weft::spawn([](weft::event& e) -> weft::task<void> { co_await e.wait(); }(ev));
    co_await weft::test::eventually([&ev] { return ev.waiting() == 1; });
    h.cancel();
    EXPECT_THROW(co_await h, weft::cancelled_error);
    co_return ev.waiting();
  };
  EXPECT_EQ(weft::run(body(), options()), 0u);
}

} // namespace
