#pragma once
// Shared pieces of weft_bench: options, registration helpers, counters.

#include <weft/runtime.hpp>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_scheduler_observer.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <thread>
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

/// --fail-every-check (a test of the checks themselves): every result check fails, as if
/// each workload had computed a wrong value.
extern bool g_fail_every_check;

/// Fails the benchmark loudly (no time is reported) when got != want.
template <class T>
bool verify(benchmark::State& state, const T& got, const T& want) {
  if (g_fail_every_check || !(got == want)) {
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


/// The three runs of a paired round (add_paired). Each returns the workload's result,
/// which check() verifies after the run's time is taken.
template <class T>
struct paired_runs {
  std::function<T(weft::runtime&)> weft;
  std::function<T()> tbb; // called inside the round's task_arena
  std::function<T()> serial;
  std::function<bool(const T&)> check;
};

/// Median of v (v is reordered); 0 when empty.
double median_of(std::vector<double>& v);

/// Waits until this process's other threads have stopped spinning: sleeps 1 ms at a time
/// until one such pause costs the process under 5% of a CPU, for at most 200 ms. A paired
/// round (add_paired) calls it before each run, since weft's and oneTBB's idle threads spin
/// for a while before they sleep (oneTBB's for more than a millisecond after fib at 2
/// workers), and would take CPU time from the next run on the same CPUs. Returns the
/// seconds it waited.
double wait_until_idle();

/// Registers "<workload>/paired/<args>/workers:<w>": each iteration is one round that runs
/// weft (a pinned runtime of `workers`), oneTBB (a pinned arena of as many slots) and the
/// serial twin on each CPU the workers use (cpus_for_sweep), one after the other, the
/// order shuffled every round, each run after wait_until_idle(). The ratios are
/// taken within each round, so a phase of a shared host that lasts longer than a round
/// slows both sides of a ratio alike; the counters are the medians over the rounds:
/// weft_over_tbb, weft_over_ideal and tbb_over_ideal (ideal as in the report: 1 / (1/s_0 +
/// ... + 1/s_{w-1}) from this round's serial times), beside weft_ms, tbb_ms, ideal_ms,
/// rounds, weft_faster_rounds (those in which weft beat oneTBB) and settle_ms (the mean
/// wait before a run). The iteration time itself (a whole round) means nothing on its own.
template <class T>
void add_paired(const std::string& name, unsigned workers, const options& opt, paired_runs<T> runs) {
  const std::size_t cpus = std::min<std::size_t>(std::max(1u, workers), cpus_for_sweep(opt));
  add(name, [=](benchmark::State& state) {
    weft::runtime rt({.workers = workers, .pin_workers = true});
    tbb::task_arena arena(static_cast<int>(workers));
    const tbb_slot_pinning pinning(arena);
    bool correct = true;
    double settled = 0; // seconds spent in wait_until_idle
    // Run k of a round: 0 weft, 1 oneTBB, 2 + c the serial twin on CPU c. Returns seconds.
    const auto run = [&](std::size_t k) {
      settled += wait_until_idle();
      std::optional<pinned_thread> pin;
      if (k >= 2) {
        pin.emplace(k - 2);
      }
      const auto start = std::chrono::steady_clock::now();
      T got{};
      if (k == 0) {
        got = runs.weft(rt);
      } else if (k == 1) {
        arena.execute([&] { got = runs.tbb(); });
      } else {
        got = runs.serial();
      }
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      correct = correct && runs.check(got);
      return took.count();
    };
    const std::size_t n_runs = 2 + cpus;
    for (std::size_t k = 0; k < n_runs; ++k) {
      (void)run(k); // warm-up: threads started, caches and frame lists filled
    }
    std::vector<double> w_t, t_t, i_t, w_over_t, w_over_i, t_over_i;
    std::vector<double> secs(n_runs);
    std::size_t round = 0;
    // A new random order every round: with a fixed order, or one reversed every other
    // round, a twin keeps the same neighbours and the same places (oneTBB always in the
    // middle at one worker), and any effect of place would favour one twin throughout.
    std::vector<std::size_t> order(n_runs);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937 shuffle_rng(static_cast<std::mt19937::result_type>(workers)); // the same sequence every run
    for (auto _ : state) {
      std::shuffle(order.begin(), order.end(), shuffle_rng);
      for (std::size_t k : order) {
        secs[k] = run(k);
      }
      ++round;
      double rate = 0;
      for (std::size_t c = 0; c < cpus; ++c) {
        rate += 1.0 / secs[2 + c];
      }
      const double ideal = 1.0 / rate;
      w_t.push_back(secs[0]);
      t_t.push_back(secs[1]);
      i_t.push_back(ideal);
      w_over_t.push_back(secs[0] / secs[1]);
      w_over_i.push_back(secs[0] / ideal);
      t_over_i.push_back(secs[1] / ideal);
    }
    if (!verify(state, correct, true)) {
      return;
    }
    state.counters["weft_over_tbb"] = median_of(w_over_t);
    state.counters["weft_over_ideal"] = median_of(w_over_i);
    state.counters["tbb_over_ideal"] = median_of(t_over_i);
    state.counters["weft_ms"] = median_of(w_t) * 1e3;
    state.counters["tbb_ms"] = median_of(t_t) * 1e3;
    state.counters["ideal_ms"] = median_of(i_t) * 1e3;
    state.counters["rounds"] = static_cast<double>(round);
    state.counters["weft_faster_rounds"] = static_cast<double>(
        std::count_if(w_over_t.begin(), w_over_t.end(), [](double r) { return r < 1.0; }));
    state.counters["settle_ms"] = settled * 1e3 / static_cast<double>((round + 1) * n_runs);
  })->MinTime(opt.quick ? 0.01 : 0.5); // a round of nqueens takes ~0.3 s: at least two per repetition
}

/// The usual pinned twins of a compute workload, named "<workload>/<impl>/<args>...":
/// the serial twin on each CPU (add_pinned_serials), and for each worker count of the
/// sweep weft (make_task() run by block_on), oneTBB (run_tbb() in an arena) and the paired
/// rounds of the three (add_paired). Every result is checked against want.
template <class MakeTask, class RunTbb, class RunSerial, class T>
void add_pinned_twins(const std::string& workload, const std::vector<std::pair<std::string, long>>& args,
                      const options& opt, MakeTask make_task, RunTbb run_tbb, RunSerial run_serial, T want,
                      double tasks) {
  add_pinned_serials(bench_name(workload, "serial", args, 0), opt, run_serial, want, tasks);
  for (unsigned w : opt.threads) {
    add_weft(bench_name(workload, "weft", args, w), w, make_task, want, tasks, placement::pinned);
    add_tbb(bench_name(workload, "tbb", args, w), w, run_tbb, want, tasks, placement::pinned);
    add_paired(bench_name(workload, "paired", args, w), w, opt,
               paired_runs<T>{[make_task](weft::runtime& rt) { return rt.block_on(make_task()); }, run_tbb, run_serial,
                              [want](const T& got) { return got == want; }});
  }
}

} // namespace weft::bench
