#include <weft/task.hpp>

#include <weft/run.hpp>
#include <weft/spawn.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

weft::task<int> answer() { co_return 42; }
weft::task<void> set_flag(bool& flag) {
  flag = true;
  co_return;
}
weft::task<int&> pick(int& a) { co_return a; }
weft::task<std::unique_ptr<std::string>> make_owned(std::string s) {
  co_return std::make_unique<std::string>(std::move(s));
}
weft::task<int> fail(std::string what) {
  throw std::runtime_error(what);
  co_return 0;
}

weft::task<int> chain(int depth) {
  if (depth == 0) {
    co_return 0;
  }
  co_return 1 + co_await chain(depth - 1);
}

TEST(Task, IsLazyUntilAwaited) {
  bool flag = false;
  {
    auto t = set_flag(flag);
    EXPECT_FALSE(flag);
  }
  EXPECT_FALSE(flag); // destroyed without running
  weft::run(set_flag(flag), {.workers = 1});
  EXPECT_TRUE(flag);
}

TEST(Task, ReturnsValue) {
  EXPECT_EQ(weft::run(answer(), {.workers = 1}), 42);
}

TEST(Task, ReturnsReference) {
  int x = 7;
  int& r = weft::run(pick(x), {.workers = 1});
  EXPECT_EQ(&r, &x);
}

TEST(Task, ReturnsMoveOnlyValue) {
  auto p = weft::run(make_owned("weft"), {.workers = 1});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, "weft");
}

TEST(Task, ExceptionPropagatesToAwaiter) {
  auto outer = []() -> weft::task<std::string> {
    try {
      co_await fail("boom");
    } catch (const std::runtime_error& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not caught";
  };
  EXPECT_EQ(weft::run(outer(), {.workers = 1}), "caught boom");
  EXPECT_THROW(weft::run(fail("out"), {.workers = 1}), std::runtime_error);
}

TEST(Task, MillionNestedAwaitsDoNotGrowTheStack) {
  // Each level is a real frame; without symmetric transfer the worker's 8 MiB stack
  // would overflow long before a million levels.
  EXPECT_EQ(weft::run(chain(1'000'000), {.workers = 1}), 1'000'000);
}

TEST(Task, AwaitingMovedFromTaskThrows) {
  auto body = []() -> weft::task<int> {
    auto t = answer();
    auto moved = std::move(t);
    int v = co_await std::move(moved);
    co_await t; // moved-from
    co_return v;
  };
  EXPECT_THROW(weft::run(body(), {.workers = 1}), weft::invalid_task_error);
}

// As a Python coroutine: awaited once. Awaiting consumes the task, so a second await (or a
// spawn after the await) is refused instead of resuming a finished coroutine.
TEST(Task, AwaitingATaskAgainThrows) {
  auto body = []() -> weft::task<int> {
    auto t = answer();
    const int v = co_await t;
    EXPECT_EQ(v, 42);
    EXPECT_FALSE(t.valid());
    co_await t; // already awaited
    co_return v;
  };
  EXPECT_THROW(weft::run(body(), {.workers = 1}), weft::invalid_task_error);
  auto spawn_after_await = []() -> weft::task<int> {
    auto t = answer();
    const int v = co_await t;
    co_return v + co_await weft::spawn(std::move(t));
  };
  EXPECT_THROW(weft::run(spawn_after_await(), {.workers = 1}), weft::invalid_task_error);
}

struct counts_destruction {
  explicit counts_destruction(int& count) : count(&count) {}
  counts_destruction(counts_destruction&& other) noexcept : count(std::exchange(other.count, nullptr)) {}
  counts_destruction& operator=(counts_destruction&&) = delete;
  ~counts_destruction() {
    if (count != nullptr) {
      ++*count;
    }
  }
  int* count;
};

weft::task<int> holds_argument(counts_destruction arg) {
  co_return *arg.count;
}

// The awaited task's frame (its argument copies included) is gone once the await returns,
// not at the end of the awaiter's scope: a long-lived awaiter does not keep finished
// children's frames.
TEST(Task, AnAwaitedTasksFrameIsFreedWhenTheAwaitReturns) {
  int destroyed = 0;
  auto body = [&]() -> weft::task<int> {
    auto t = holds_argument(counts_destruction(destroyed));
    co_await t;
    co_return destroyed;
  };
  EXPECT_EQ(weft::run(body(), {.workers = 1}), 1);
}

TEST(Task, SpawningMovedFromTaskThrows) {
  auto body = []() -> weft::task<void> {
    auto t = answer();
    auto h = weft::spawn(std::move(t));
    EXPECT_EQ(co_await h, 42);
    auto again = weft::spawn(std::move(t));
    co_return;
  };
  EXPECT_THROW(weft::run(body(), {.workers = 2}), weft::invalid_task_error);
}

// A result type whose move constructor may throw: the value is moved out of the finished
// frame into the awaiter, and a frame must still be freed exactly once, whether the task
// was awaited, joined after being taken back from the deque, or failed.
struct move_may_throw {
  explicit move_may_throw(int v) : value(v) {}
  move_may_throw(move_may_throw&& other) noexcept(false) : value(other.value) {}
  int value;
};

weft::task<move_may_throw> make_move_may_throw(counts_destruction arg, int v) {
  (void)arg;
  co_return move_may_throw(v);
}
weft::task<move_may_throw> fail_move_may_throw(counts_destruction arg) {
  (void)arg;
  throw std::runtime_error("may throw");
  co_return move_may_throw(0);
}

TEST(Task, ResultsWhoseMoveMayThrowArriveBothWhenAwaitedAndWhenJoined) {
  int destroyed = 0;
  auto body = [&]() -> weft::task<int> {
    const int awaited = (co_await make_move_may_throw(counts_destruction(destroyed), 5)).value;
    EXPECT_EQ(destroyed, 1);
    auto handle = weft::spawn(make_move_may_throw(counts_destruction(destroyed), 7));
    const int joined = (co_await handle).value; // taken back from this worker's deque
    EXPECT_EQ(destroyed, 2);
    bool caught = false;
    try {
      co_await fail_move_may_throw(counts_destruction(destroyed));
    } catch (const std::runtime_error&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(destroyed, 3);
    co_return awaited + joined;
  };
  EXPECT_EQ(weft::run(body(), {.workers = 1}), 12);
  EXPECT_EQ(destroyed, 3);
}

// Every kind of result (value, reference, move-only value, exception) arrives through
// both ways a task finishes into one awaiter (awaited directly; spawned and taken back by
// its joiner), and each finished task's frame is gone by the time the await returns.
TEST(Task, EveryKindOfResultArrivesWhenAwaitedAndWhenTakenBack) {
  int destroyed = 0;
  int x = 3;
  auto body = [&]() -> weft::task<int> {
    int total = co_await holds_argument(counts_destruction(destroyed));
    auto h = weft::spawn(holds_argument(counts_destruction(destroyed)));
    total += co_await h;
    int& r = co_await pick(x);
    EXPECT_EQ(&r, &x);
    auto owned = weft::spawn(make_owned("joined"));
    EXPECT_EQ(*co_await owned, "joined");
    auto failing = weft::spawn(fail("taken back"));
    try {
      co_await failing;
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "taken back");
    }
    co_return total + destroyed;
  };
  // holds_argument returns the count of destroyed frames before its own: 0, then 1.
  EXPECT_EQ(weft::run(body(), {.workers = 1}), 0 + 1 + 2);
}

} // namespace
