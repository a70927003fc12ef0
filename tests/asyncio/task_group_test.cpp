#include <weft/task_group.hpp>

#include <weft/run.hpp>
#include <weft/sleep.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;

class TaskGroup : public weft::test::with_workers {};

INSTANTIATE_TEST_SUITE_P(Workers, TaskGroup, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(TaskGroup, AwaitsEveryTaskAtTheEndOfTheScope) {
  auto body = []() -> weft::task<int> {
    std::atomic<int> done{0};
    co_await weft::with_task_group([&](weft::task_group& tg) -> weft::task<void> {
      for (int i = 0; i < 50; ++i) {
        tg.spawn([](std::atomic<int>& d, int ms) -> weft::task<void> {
          co_await weft::sleep(std::chrono::milliseconds(ms));
          d.fetch_add(1);
        }(done, i % 5));
      }
      co_return;
    });
    co_return done.load();
  };
  EXPECT_EQ(weft::run(body(), options()), 50);
}

TEST_P(TaskGroup, FirstFailureCancelsTheOthersAndAllFailuresComeOut) {
  auto body = []() -> weft::task<std::string> {
    std::atomic<int> cancelled{0};
    try {
      co_await weft::with_task_group([&](weft::task_group& tg) -> weft::task<void> {
        tg.spawn([]() -> weft::task<void> {
          co_await weft::sleep(2ms);
          throw std::runtime_error("a failed");
        }());
        tg.spawn([]() -> weft::task<void> {
          co_await weft::sleep(2ms);
          throw std::logic_error("b failed");
        }());
        for (int i = 0; i < 3; ++i) {
          tg.spawn([](std::atomic<int>& c) -> weft::task<void> {
            try {
              co_await weft::sleep(1h);
            } catch (const weft::cancelled_error&) {
              c.fetch_add(1);
              throw;
            }
          }(cancelled));
        }
        co_return;
      });
    } catch (const weft::exception_group& g) {
      // Both failures may be seen (if b failed before a's cancel reached it) or only the first.
      co_return std::to_string(g.exceptions().size() >= 1 && g.exceptions().size() <= 2) + "," +
          std::to_string(cancelled.load());
    }
    co_return "no exception";
  };
  EXPECT_EQ(weft::run(body(), options()), "1,3");
}

TEST_P(TaskGroup, NestedGroups) {
  auto body = []() -> weft::task<int> {
    std::atomic<int> leaves{0};
    co_await weft::with_task_group([&](weft::task_group& outer) -> weft::task<void> {
      for (int i = 0; i < 4; ++i) {
        outer.spawn([](std::atomic<int>& l) -> weft::task<void> {
          co_await weft::with_task_group([&](weft::task_group& inner) -> weft::task<void> {
            for (int k = 0; k < 5; ++k) {
              inner.spawn([](std::atomic<int>& ll) -> weft::task<void> {
                co_await weft::sleep(1ms);
                ll.fetch_add(1);
              }(l));
            }
            co_return;
          });
        }(leaves));
      }
      co_return;
    });
    co_return leaves.load();
  };
  EXPECT_EQ(weft::run(body(), options()), 20);
}

TEST_P(TaskGroup, CancellingTheJoinerCancelsTheGroup) {
  auto body = []() -> weft::task<std::string> {
    std::atomic<int> cancelled{0};
    auto h = weft::spawn([](std::atomic<int>& c) -> weft::task<void> {
      co_await weft::with_task_group([&](weft::task_group& tg) -> weft::task<void> {
        for (int i = 0; i < 3; ++i) {
          tg.spawn([](std::atomic<int>& cc) -> weft::task<void> {
            try {
              co_await weft::sleep(1h);
            } catch (const weft::cancelled_error&) {
              cc.fetch_add(1);
              throw;
            }
          }(c));
        }
        co_return;
      });
    }(cancelled));
    co_await weft::sleep(5ms);
    h.cancel();
    std::string r = "none";
    try {
      co_await h;
    } catch (const weft::cancelled_error&) {
      r = "cancelled";
    }
    co_return r + std::to_string(cancelled.load());
  };
  EXPECT_EQ(weft::run(body(), options()), "cancelled3");
}

} // namespace
