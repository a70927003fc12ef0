// The classic asyncio patterns, ported to weft, with simulated remote calls (sleeps):
//   1. fan out one call per order id with gather instead of a sequential loop;
//   2. an event loop that waits FIRST_COMPLETED and injects new tasks as others finish;
//   3. as_completed with a timeout;
//   4. a task group where one task fails (the others are cancelled);
//   5. a dependency chain: GET, then POST of its body, concurrently with another GET;
//   6. a callback-style API bridged into tasks with a future (loop.create_future()).
// examples/http_client runs pattern 5 against a real server.
#include <weft/weft.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

weft::task<int> fetch_order(int id) {
  co_await weft::sleep(std::chrono::milliseconds(10 + id % 5)); // a simulated RPC
  co_return id * 10;
}

weft::task<void> fan_out() {
  std::vector<int> ids{1, 2, 3, 4, 5, 6, 7, 8};
  auto t0 = clock_type::now();
  long sequential = 0;
  for (int id : ids) {
    sequential += co_await fetch_order(id);
  }
  const double seq_ms = ms_since(t0);

  t0 = clock_type::now();
  std::vector<weft::task<int>> calls;
  for (int id : ids) {
    calls.push_back(fetch_order(id));
  }
  long together = 0;
  for (int v : co_await weft::gather(std::move(calls))) {
    together += v;
  }
  std::printf("1. fan-out: sequential %.1f ms, gather %.1f ms, same result: %s\n", seq_ms, ms_since(t0),
              sequential == together ? "yes" : "NO");
}

weft::task<void> wait_loop() {
  std::vector<weft::join_handle<int>> pending;
  int next_id = 0, finished = 0;
  for (; next_id < 3; ++next_id) {
    pending.push_back(weft::spawn(fetch_order(next_id)));
  }
  while (!pending.empty()) {
    auto r = co_await weft::wait(std::move(pending), weft::return_when::first_completed);
    for (auto& h : r.done) {
      (void)co_await h;
      ++finished;
      if (next_id < 10) { // inject new work as old work finishes
        r.pending.push_back(weft::spawn(fetch_order(next_id++)));
      }
    }
    pending = std::move(r.pending);
  }
  std::printf("2. wait(first_completed) loop: %d tasks finished\n", finished);
}

weft::task<void> completed_with_timeout() {
  std::vector<weft::join_handle<int>> hs;
  hs.push_back(weft::spawn(fetch_order(1)));
  hs.push_back(weft::spawn(fetch_order(2)));
  hs.push_back(weft::spawn([]() -> weft::task<int> {
    co_await weft::sleep(10s); // too slow
    co_return -1;
  }()));
  int got = 0;
  bool timed_out = false;
  for (auto next : weft::as_completed(std::move(hs), 200ms)) {
    try {
      (void)co_await next;
      ++got;
    } catch (const weft::timeout_error&) {
      timed_out = true;
      break;
    }
  }
  std::printf("3. as_completed with timeout: %d results, then %s\n", got, timed_out ? "timeout" : "no timeout");
}

weft::task<void> group_with_failure() {
  try {
    co_await weft::with_task_group([](weft::task_group& tg) -> weft::task<void> {
      tg.spawn(fetch_order(1));
      tg.spawn([]() -> weft::task<void> {
        co_await weft::sleep(5ms);
        throw std::runtime_error("payment service down");
      }());
      tg.spawn([]() -> weft::task<void> { co_await weft::sleep(10s); }()); // cancelled by the failure
      co_return;
    });
  } catch (const weft::exception_group& g) {
    std::printf("4. task group: %zu failure(s): %s\n", g.exceptions().size(), g.what());
  }
}

weft::task<std::string> simulated_get(std::string path) {
  co_await weft::sleep(std::chrono::milliseconds(10)); // a simulated request
  co_return "body of " + path;
}

weft::task<std::string> simulated_post(std::string path, std::string body) {
  co_await weft::sleep(std::chrono::milliseconds(10));
  co_return "posted [" + body + "] to " + path;
}

weft::task<std::string> get_then_post() {
  std::string body = co_await simulated_get("/a"); // the POST needs this result first
  co_return co_await simulated_post("/b", std::move(body));
}

weft::task<void> dependency_chain() {
  const auto t0 = clock_type::now();
  auto [chained, other] = co_await weft::gather(get_then_post(), simulated_get("/c"));
  // The chain takes two round trips; the independent GET overlaps with it.
  std::printf("5. chain: %s; concurrently: %s; %.1f ms for three requests\n", chained.c_str(), other.c_str(),
              ms_since(t0));
}

// A callback-style API, as a C library or a vendor SDK offers: it does the work on its
// own thread and calls back from there. (The service owns its thread and joins it.)
class legacy_service {
public:
  legacy_service() = default;
  legacy_service(const legacy_service&) = delete;
  legacy_service& operator=(const legacy_service&) = delete;
  ~legacy_service() {
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }
  void lookup(int key, std::function<void(std::string)> on_done) {
    m_thread = std::thread([key, done = std::move(on_done)] {
      std::this_thread::sleep_for(5ms);
      done("value-" + std::to_string(key));
    });
  }

private:
  std::thread m_thread;
};

weft::task<void> bridged_callback(legacy_service& service) {
  weft::future<std::string> result;
  // The callback holds a copy of the future; try_set_result, because the waiting task may
  // have been cancelled (which cancels the future) by the time the callback runs.
  service.lookup(7, [result](std::string v) mutable { (void)result.try_set_result(std::move(v)); });
  const std::string v = co_await result;
  std::printf("6. callback bridged with a future: %s\n", v.c_str());
}

weft::task<void> amain(legacy_service& service) {
  co_await fan_out();
  co_await wait_loop();
  co_await completed_with_timeout();
  co_await group_with_failure();
  co_await dependency_chain();
  co_await bridged_callback(service);
}

} // namespace

int main() {
  legacy_service service; // outlives the runtime: its callback may still be returning
  weft::run(amain(service));
  return 0;
}
