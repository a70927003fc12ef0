#pragma once
// Shared pieces of weft_bench: options, registration helpers, counters.

#include <weft/runtime.hpp>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_scheduler_observer.h>
#include <sched.h>

#include <cstdint>
#include <functional>
#include <optional>
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

/// The CPUs this process may run on (its affinity mask when first asked), in increasing
/// order: the k-th is where runtime_options::pin_workers puts worker k.
const std::vector<int>& allowed_cpus();

/// Pins the calling thread to allowed_cpus()[k % size] while it lives; restores the
/// thread's previous mask after.
///
/// Why the compute workloads pin: the cores of a shared host need not be equally fast. On
/// the 2-core VM the matmul kernel once ran 1.75x slower on one vCPU than on the other
/// (its neighbour's load, not the clock: a scalar loop ran at the same speed on both), so
/// a twin timed on one core against a serial time taken on the other measured the cores,
/// not the scheduler.
class pinned_thread {
public:
  explicit pinned_thread(std::size_t k);
  ~pinned_thread();
  pinned_thread(const pinned_thread&) = delete;
  pinned_thread& operator=(const pinned_thread&) = delete;

private:
  cpu_set_t m_saved{};
  bool m_restore = false;
};

/// Pins each thread that enters `arena` to allowed_cpus()[slot % size] (slot 0 is the
/// thread that calls execute()), as pin_workers does for weft's workers, and restores its
/// mask when it leaves.
class tbb_slot_pinning : public tbb::task_scheduler_observer {
public:
  explicit tbb_slot_pinning(tbb::task_arena& arena);
  ~tbb_slot_pinning() override;
  void on_scheduler_entry(bool is_worker) override;
  void on_scheduler_exit(bool is_worker) override;
};

/// The name of the serial twin pinned to the k-th allowed CPU: "<serial name>/cpu:<k>".
std::string pinned_serial_name(const std::string& serial_name, std::size_t k);

/// How many CPUs the pinned serial twins cover: the largest worker count of the sweep,
/// at most the allowed CPUs.
std::size_t cpus_for_sweep(const options& opt);

/// Fails the benchmark loudly (no time is reported) when got != want.
template <class T>
bool verify(benchmark::State& state, const T& got, const T& want) {
  if (!(got == want)) {
    state.SkipWithError("result disagrees with the serial value");
    return false;
  }
  return true;
}

/// Whether a twin's threads are pinned (the compute workloads, measured against the
/// pinned serial twins) or placed by the OS.
enum class placement { os, pinned };

/// Registers the usual weft twin: a runtime of `workers`, `make_task()` run by block_on
/// each iteration, its result checked against want, runtime counters reported.
template <class MakeTask, class T>
void add_weft(const std::string& name, unsigned workers, MakeTask make_task, T want, double tasks,
              placement where = placement::os) {
  add(name, [=](benchmark::State& state) {
    weft::runtime rt({.workers = workers, .pin_workers = where == placement::pinned});
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
void add_tbb(const std::string& name, unsigned workers, Run run, T want, double tasks,
             placement where = placement::os) {
  add(name, [=](benchmark::State& state) {
    tbb::task_arena arena(static_cast<int>(workers));
    std::optional<tbb_slot_pinning> pinning;
    if (where == placement::pinned) {
      pinning.emplace(arena);
    }
    T got{};
    for (auto _ : state) {
      arena.execute([&] { got = run(); });
    }
    verify(state, got, want);
    set_tasks(state, tasks);
  });
}

/// Registers the serial twin pinned to each of the first cpus_for_sweep(opt) CPUs; the
/// report takes the ideal time at w workers from them (see report.cpp, ideal_seconds).
template <class Run, class T>
void add_pinned_serials(const std::string& serial_name, const options& opt, Run run, T want, double tasks) {
  for (std::size_t k = 0; k < cpus_for_sweep(opt); ++k) {
    add(pinned_serial_name(serial_name, k), [=](benchmark::State& state) {
      const pinned_thread pin(k);
      T got{};
      for (auto _ : state) {
        got = run();
        benchmark::DoNotOptimize(got);
      }
      verify(state, got, want);
      set_tasks(state, tasks);
    });
  }
}

} // namespace weft::bench
