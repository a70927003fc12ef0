#include "bench_support.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace weft::bench {

std::string bench_name(const std::string& workload, const std::string& impl,
                       const std::vector<std::pair<std::string, long>>& args, unsigned workers) {
  std::string name = workload + "/" + impl;
  for (const auto& [k, v] : args) {
    name += "/" + k + ":" + std::to_string(v);
  }
  if (workers != 0) {
    name += "/workers:" + std::to_string(workers);
  }
  return name;
}

benchmark::internal::Benchmark* add(const std::string& name, std::function<void(benchmark::State&)> fn) {
  return benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State& s) { fn(s); })
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

void set_tasks(benchmark::State& state, double tasks_per_iteration) {
  state.SetItemsProcessed(static_cast<std::int64_t>(tasks_per_iteration * static_cast<double>(state.iterations())));
  state.counters["tasks"] = tasks_per_iteration;
}

double cross_core_round_trip_ns() {
  constexpr int k_trips = 2'000;
  std::vector<double> samples;
  for (int s = 0; s < 5; ++s) {
    std::atomic<int> ball{0};
    std::thread partner([&ball] {
      for (int i = 0; i < k_trips; ++i) {
        // acquire/release: the ball is the only data; each side waits for the other's move.
        while (ball.load(std::memory_order_acquire) != 1) {
        }
        ball.store(0, std::memory_order_release);
      }
    });
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < k_trips; ++i) {
      ball.store(1, std::memory_order_release);
      while (ball.load(std::memory_order_acquire) != 0) {
      }
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    partner.join();
    samples.push_back(std::chrono::duration<double, std::nano>(elapsed).count() / k_trips);
  }
  std::nth_element(samples.begin(), samples.begin() + 2, samples.end());
  return samples[2];
}

runtime_counters::runtime_counters(const runtime& rt) : m_before(rt.stats()) {}

void runtime_counters::report(benchmark::State& state, const runtime& rt) const {
  const auto after = rt.stats();
  double steals = 0, failed = 0, parks = 0, wakeups = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    steals += static_cast<double>(after[i].steals - m_before[i].steals);
    failed += static_cast<double>(after[i].failed_steals - m_before[i].failed_steals);
    parks += static_cast<double>(after[i].parks - m_before[i].parks);
    wakeups += static_cast<double>(after[i].wakeups - m_before[i].wakeups);
  }
  const auto per_iter = benchmark::Counter::kAvgIterations;
  state.counters["steals"] = benchmark::Counter(steals, per_iter);
  state.counters["failed_steals"] = benchmark::Counter(failed, per_iter);
  state.counters["parks"] = benchmark::Counter(parks, per_iter);
  state.counters["wakeups"] = benchmark::Counter(wakeups, per_iter);
}

} // namespace weft::bench
