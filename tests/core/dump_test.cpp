// runtime::dump(): what a person sees when a runtime stalls.

#include <weft/event.hpp>
#include <weft/gather.hpp>
#include <weft/queue.hpp>
#include <weft/runtime.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>
#include <weft/task.hpp>
#include <weft/task_group.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

std::string dump_of(const weft::runtime& rt) {
  std::ostringstream out;
  rt.dump(out);
  return out.str();
}

// Dumps until pred(text) holds (tasks reach their waits asynchronously); returns the last.
template <class Pred>
std::string dump_until(const weft::runtime& rt, Pred pred) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  std::string text = dump_of(rt);
  while (!pred(text) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
    text = dump_of(rt);
  }
  return text;
}

weft::task<void> sleep_long() { co_await weft::sleep(1h); }

weft::task<void> wait_on(weft::event& e) { co_await e.wait(); }

TEST(RuntimeDump, ListsWorkersAndWaitingTasksWithWhereTheyWereSpawned) {
  weft::runtime rt({.workers = 2});
  weft::event go;
  const int sleep_line = __LINE__ + 1;
  auto sleeper = rt.spawn(sleep_long());
  const int event_line = __LINE__ + 2;
  for (int i = 0; i < 3; ++i) {
    rt.spawn(wait_on(go)).detach();
  }
  const std::string text = dump_until(rt, [](const std::string& t) {
    return t.find("3 x weft::event::wait") != std::string::npos && t.find("1 x weft::sleep") != std::string::npos;
  });
  EXPECT_THAT(text, HasSubstr("2 workers"));
  EXPECT_THAT(text, HasSubstr("worker 0: "));
  EXPECT_THAT(text, HasSubstr("worker 1: "));
  EXPECT_THAT(text, HasSubstr("injection queue: "));
  EXPECT_THAT(text, HasSubstr("tasks waiting on timers: 1"));
  EXPECT_THAT(text, HasSubstr("1 x weft::sleep, task spawned " + std::string(__FILE__) + ":" + std::to_string(sleep_line)));
  EXPECT_THAT(text, HasSubstr("3 x weft::event::wait, task spawned " + std::string(__FILE__) + ":" +
                              std::to_string(event_line)));
  // A one-hour sleep is due in more than 59 minutes.
  const auto due = text.find("soonest due in ");
  ASSERT_NE(due, std::string::npos);
  EXPECT_GT(std::stoll(text.substr(due + 15)), 59 * 60 * 1000);

  // Once released, the waiters are gone from the dump.
  go.set();
  sleeper.cancel();
  const std::string after = dump_until(rt, [](const std::string& t) {
    return t.find("weft::event::wait") == std::string::npos && t.find("x weft::sleep") == std::string::npos;
  });
  EXPECT_THAT(after, Not(HasSubstr("weft::event::wait")));
  EXPECT_THAT(after, Not(HasSubstr("x weft::sleep")));
  EXPECT_THAT(after, HasSubstr("tasks waiting on timers: 0"));
}

TEST(RuntimeDump, NamesTheSpawnSiteOfTaskGroupAndGatherChildren) {
  weft::runtime rt({.workers = 2});
  weft::event go;
  weft::queue<int> items;
  const int group_line = __LINE__ + 3;
  auto parent = rt.spawn([](weft::event& e, weft::queue<int>& q) -> weft::task<void> {
    co_await weft::with_task_group([&](weft::task_group& g) -> weft::task<void> {
      g.spawn([](weft::queue<int>& qq) -> weft::task<void> { (void)co_await qq.get(); }(q));
      co_await weft::gather(wait_on(e), wait_on(e));
    });
  }(go, items));
  const std::string text = dump_until(rt, [](const std::string& t) {
    return t.find("2 x weft::event::wait") != std::string::npos && t.find("weft::queue::get") != std::string::npos;
  });
  EXPECT_THAT(text, HasSubstr("1 x weft::queue::get, task spawned " + std::string(__FILE__) + ":" +
                              std::to_string(group_line)));
  // gather's children name the task that gathered them (spawned by rt.spawn above).
  EXPECT_THAT(text, HasSubstr("2 x weft::event::wait, task gathered by the task started at"));
  go.set();
  rt.spawn([](weft::queue<int>& q) -> weft::task<void> { co_await q.put(1); }(items)).detach();
  rt.block_on([](weft::join_handle<void>& h) -> weft::task<void> { co_await h; }(parent));
}

TEST(RuntimeDump, WorksFromInsideATaskAndDumpAllListsEveryRuntime) {
  weft::runtime a({.workers = 1});
  weft::runtime b({.workers = 3});
  const std::string from_task = a.block_on([]() -> weft::task<std::string> {
    std::ostringstream out;
    weft::runtime::current()->dump(out);
    co_return out.str();
  }());
  EXPECT_THAT(from_task, HasSubstr("1 workers"));
  EXPECT_THAT(from_task, HasSubstr("worker 0: running a task"));

  std::ostringstream all;
  weft::runtime::dump_all(all);
  EXPECT_THAT(all.str(), HasSubstr("1 workers"));
  EXPECT_THAT(all.str(), HasSubstr("3 workers"));
  EXPECT_THAT(all.str(), HasSubstr("worker 2: "));
}

TEST(RuntimeDump, ShowsParkedWorkersWhenIdle) {
  weft::runtime rt({.workers = 2});
  const std::string text = dump_until(rt, [](const std::string& t) {
    return t.find("worker 0: parked") != std::string::npos && t.find("worker 1: parked") != std::string::npos;
  });
  EXPECT_THAT(text, HasSubstr("worker 0: parked"));
  EXPECT_THAT(text, HasSubstr("worker 1: parked"));
}

} // namespace
