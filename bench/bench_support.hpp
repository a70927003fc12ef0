#pragma once
// Shared pieces of weft_bench: options, registration helpers, counters.

#include <weft/runtime.hpp>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/task_arena.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace weft::bench {

/// What the command line selected.
struct options {
  std::vector<unsigned> threads; // worker counts of the sweep
  bool quick = false;            // small problem sizes (smoke test in ctest)
  bool interleaved = false;      // repetitions run in random interleaved order
};

/// A workload: its name and how it registers its benchmarks.
struct workload {
  std::string name;
  std::string description;
  std::function<void(const options&)> register_all;
  std::string compare_to = {}; // another workload whose weft ns/task the report sets beside this one's
};

/// Every workload, in report order.
const std::vector<workload>& workloads();

/// Name "<workload>/<impl>/<arg>:<v>/.../workers:<w>" (workers omitted when w == 0).
std::string bench_name(const std::string& workload, const std::string& impl,
                       const std::vector<std::pair<std::string, long>>& args, unsigned workers);

/// Registers fn under name with the settings every threaded benchmark uses.
benchmark::internal::Benchmark* add(const std::string& name, std::function<void(benchmark::State&)> fn);

/// Sets items (tasks) processed and the per-iteration task count the report reads.
void set_tasks(benchmark::State& state, double tasks_per_iteration);

/// Counters from weft's per-worker statistics, per iteration.
class runtime_counters {
public:
  explicit runtime_counters(const runtime& rt);
  void report(benchmark::State& state, const runtime& rt) const;

private:
  std::vector<worker_stats> m_before;
};

/// Median time of a round trip between two threads bouncing one cache line (ns), over a
/// few milliseconds. Benchmarks that cross cores on every task (outside submission)
/// report it beside their time: on a shared host it moves between phases within seconds
/// (about 90 against 400 ns on the 2-core VM), and their time with it.
double cross_core_round_trip_ns();

/// Fails the benchmark loudly (no time is reported) when got != want.
template <class T>
bool verify(benchmark::State& state, const T& got, const T& want) {
  if (!(got == want)) {
    state.SkipWithError("result disagrees with the serial value");
    return false;
  }
  return true;
}

/// Registers the usual weft twin: a runtime of `workers`, `make_task()` run by block_on
/// each iteration, its result checked against want, runtime counters reported.
template <class MakeTask, class T>
void add_weft(const std::string& name, unsigned workers, MakeTask make_task, T want, double tasks) {
  add(name, [=](benchmark::State& state) {
    weft::runtime rt({.workers = workers});
    const runtime_counters counters(rt);
    T got{};
    for (auto _ : state) {
      got = rt.block_on(make_task());
    }
    verify(state, got, want);
    set_tasks(state, tasks);
    counters.report(state, rt);
  });
}

/// Registers the usual oneTBB twin: `run()` inside a task_arena of `workers` threads.
template <class Run, class T>
void add_tbb(const std::string& name, unsigned workers, Run run, T want, double tasks) {
  add(name, [=](benchmark::State& state) {
    tbb::task_arena arena(static_cast<int>(workers));
    T got{};
    for (auto _ : state) {
      arena.execute([&] { got = run(); });
    }
    verify(state, got, want);
    set_tasks(state, tasks);
  });
}

/// Registers the serial twin: `run()` on the benchmark thread.
template <class Run, class T>
void add_serial(const std::string& name, Run run, T want, double tasks) {
  add(name, [=](benchmark::State& state) {
    T got{};
    for (auto _ : state) {
      got = run();
      benchmark::DoNotOptimize(got);
    }
    verify(state, got, want);
    set_tasks(state, tasks);
  });
}

} // namespace weft::bench
