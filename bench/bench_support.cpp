#include "bench_support.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <time.h>
#include <thread>
#include <vector>

namespace weft::bench {

bool g_fail_every_check = false;

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

const std::vector<int>& allowed_cpus() {
  static const std::vector<int> cpus = [] {
    std::vector<int> found;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) {
          found.push_back(cpu);
        }
      }
    }
    if (found.empty()) {
      // A mask larger than cpu_set_t (over 1024 CPUs): pin nothing rather than guess.
      std::fprintf(stderr, "weft_bench: cannot read this process's CPU mask; the compute workloads run unpinned\n");
    }
    return found;
  }();
  return cpus;
}

namespace {

// Pins the calling thread to the k-th allowed CPU; false if there is none to pin to.
bool pin_calling_thread(std::size_t k, cpu_set_t* saved) {
  const auto& cpus = allowed_cpus();
  if (cpus.empty()) {
    return false;
  }
  if (pthread_getaffinity_np(pthread_self(), sizeof *saved, saved) != 0) {
    return false;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpus[k % cpus.size()], &one);
  if (const int err = pthread_setaffinity_np(pthread_self(), sizeof one, &one); err != 0) {
    // A benchmark that cannot pin would compare cores, not schedulers: stop loudly.
    std::fprintf(stderr, "weft_bench: pthread_setaffinity_np failed (error %d)\n", err);
    std::abort();
  }
  return true;
}

void restore_calling_thread(const cpu_set_t& saved) {
  (void)pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
}

// The mask each thread had before it entered a pinned oneTBB arena (one arena at a time
// per thread, as the benchmarks nest none).
thread_local cpu_set_t tl_mask_before_arena;
thread_local bool tl_pinned_in_arena = false;

} // namespace

pinned_thread::pinned_thread(std::size_t k) : m_restore(pin_calling_thread(k, &m_saved)) {}

pinned_thread::~pinned_thread() {
  if (m_restore) {
    restore_calling_thread(m_saved);
  }
}

tbb_slot_pinning::tbb_slot_pinning(tbb::task_arena& arena) : tbb::task_scheduler_observer(arena) { observe(true); }

tbb_slot_pinning::~tbb_slot_pinning() { observe(false); }

void tbb_slot_pinning::on_scheduler_entry(bool) {
  const int slot = tbb::this_task_arena::current_thread_index();
  if (slot >= 0) {
    tl_pinned_in_arena = pin_calling_thread(static_cast<std::size_t>(slot), &tl_mask_before_arena);
  }
}

void tbb_slot_pinning::on_scheduler_exit(bool) {
  if (tl_pinned_in_arena) {
    restore_calling_thread(tl_mask_before_arena);
    tl_pinned_in_arena = false;
  }
}

std::string pinned_serial_name(const std::string& serial_name, std::size_t k) {
  return serial_name + "/cpu:" + std::to_string(k);
}

std::size_t cpus_for_sweep(const options& opt) {
  const unsigned most = opt.threads.empty() ? 1 : *std::max_element(opt.threads.begin(), opt.threads.end());
  return std::min<std::size_t>(most, std::max<std::size_t>(1, allowed_cpus().size()));
}

double wait_until_idle() {
  const auto process_cpu = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  };
  constexpr auto k_pause = std::chrono::milliseconds(1);
  constexpr double k_quiet_share = 0.05;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    const double before = process_cpu();
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(k_pause);
    const std::chrono::duration<double> slept = std::chrono::steady_clock::now() - t0;
    if (process_cpu() - before < k_quiet_share * slept.count()) {
      break;
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median_of(std::vector<double>& v) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
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
