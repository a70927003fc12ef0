// The worker threads themselves: their names, CPU pinning, and the start and stop hooks
// of runtime_options.
#include <weft/runtime.hpp>

#include <weft/task.hpp>
#include <weft/to_thread.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>
#include <sched.h>

namespace {

using namespace std::chrono_literals;

std::string this_thread_name() {
  char name[16] = {};
  EXPECT_EQ(pthread_getname_np(pthread_self(), name, sizeof name), 0);
  return name;
}

std::vector<int> cpus_in(const cpu_set_t& set) {
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) {
      cpus.push_back(cpu);
    }
  }
  return cpus;
}

std::vector<int> this_thread_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
  return cpus_in(set);
}

std::vector<int> process_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  return cpus_in(set);
}

TEST(WorkerThreads, AreNamedAfterTheirIndexAndTheBlockingPoolAfterItself) {
  std::vector<std::string> names(2); // one element per worker: no two threads share one
  weft::runtime rt({.workers = 2, .on_worker_start = [&](unsigned i) { names[i] = this_thread_name(); }});
  EXPECT_EQ(names[0], "weft-w0");
  EXPECT_EQ(names[1], "weft-w1");
  const auto [worker, blocking] = rt.block_on([]() -> weft::task<std::pair<std::string, std::string>> {
    std::string on_worker = this_thread_name();
    std::string on_blocking = co_await weft::to_thread([] { return this_thread_name(); });
    co_return std::pair{on_worker, on_blocking};
  }());
  EXPECT_TRUE(worker == "weft-w0" || worker == "weft-w1") << worker;
  EXPECT_EQ(blocking, "weft-blocking");
}

TEST(WorkerThreads, StartHookRunsOnEveryWorkerBeforeTheConstructorReturns) {
  std::atomic<unsigned> started{0};
  std::mutex lock;
  std::set<std::thread::id> threads;
  weft::runtime rt({.workers = 3, .on_worker_start = [&](unsigned) {
                      std::this_thread::sleep_for(20ms); // a constructor that did not wait returns first
                      {
                        std::lock_guard guard(lock);
                        threads.insert(std::this_thread::get_id());
                      }
                      started.fetch_add(1);
                    }});
  EXPECT_EQ(started.load(), 3u);
  std::lock_guard guard(lock);
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  // Tasks run on the threads the hook saw.
  const std::thread::id ran_on = rt.block_on([]() -> weft::task<std::thread::id> { co_return std::this_thread::get_id(); }());
  EXPECT_EQ(threads.count(ran_on), 1u);
}

TEST(WorkerThreads, StopHookRunsOnEveryWorkerAtShutdownOnItsOwnThread) {
  std::mutex lock;
  std::set<std::thread::id> started;
  std::set<std::thread::id> stopped;
  std::vector<unsigned> stopped_indices;
  {
    weft::runtime rt({.workers = 2,
                      .on_worker_start =
                          [&](unsigned) {
                            std::lock_guard guard(lock);
                            started.insert(std::this_thread::get_id());
                          },
                      .on_worker_stop =
                          [&](unsigned i) {
                            std::lock_guard guard(lock);
                            stopped.insert(std::this_thread::get_id());
                            stopped_indices.push_back(i);
                          }});
    EXPECT_EQ(rt.block_on([]() -> weft::task<int> { co_return 7; }()), 7);
    std::lock_guard guard(lock);
    EXPECT_TRUE(stopped.empty());
  }
  EXPECT_EQ(started.size(), 2u);
  EXPECT_EQ(stopped, started);
  EXPECT_EQ(std::set<unsigned>(stopped_indices.begin(), stopped_indices.end()), (std::set<unsigned>{0, 1}));
}

TEST(WorkerThreads, AStartHookThatThrowsFailsTheConstructorAndStopsTheOthers) {
  std::atomic<unsigned> stops{0};
  std::atomic<bool> stopped_the_failed_one{false};
  try {
    weft::runtime rt({.workers = 3,
                      .on_worker_start =
                          [](unsigned i) {
                            if (i == 1) {
                              throw std::runtime_error("worker 1 cannot start");
                            }
                          },
                      .on_worker_stop =
                          [&](unsigned i) {
                            if (i == 1) {
                              stopped_the_failed_one = true;
                            }
                            stops.fetch_add(1);
                          }});
    ADD_FAILURE() << "the constructor returned";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "worker 1 cannot start");
  }
  EXPECT_EQ(stops.load(), 2u); // the two that started, joined before the throw
  EXPECT_FALSE(stopped_the_failed_one.load());
  EXPECT_EQ(weft::runtime::current(), nullptr); // nothing left half-made
}

TEST(WorkerThreads, PinnedWorkersTakeOneCpuEachInTurn) {
  const std::vector<int> allowed = process_cpus();
  ASSERT_FALSE(allowed.empty());
  // One worker more than CPUs, so the last one wraps around to the first CPU.
  const auto n = static_cast<unsigned>(allowed.size() + 1);
  std::vector<std::vector<int>> pinned(n);
  weft::runtime rt({.workers = n, .pin_workers = true, .on_worker_start = [&](unsigned i) { pinned[i] = this_thread_cpus(); }});
  for (unsigned i = 0; i < n; ++i) {
    EXPECT_EQ(pinned[i], std::vector<int>{allowed[i % allowed.size()]}) << "worker " << i;
  }
  // Tasks run pinned too.
  const std::vector<int> task_cpus = rt.block_on([]() -> weft::task<std::vector<int>> { co_return this_thread_cpus(); }());
  EXPECT_EQ(task_cpus.size(), 1u);
}

TEST(WorkerThreads, UnpinnedWorkersMayRunOnEveryCpuOfTheProcess) {
  const std::vector<int> allowed = process_cpus();
  std::vector<std::vector<int>> cpus(2);
  weft::runtime rt({.workers = 2, .on_worker_start = [&](unsigned i) { cpus[i] = this_thread_cpus(); }});
  EXPECT_EQ(cpus[0], allowed);
  EXPECT_EQ(cpus[1], allowed);
}

} // namespace
