// fib(n) with one spawn + join per call: the scheduler's overhead per task, since the work
// per call is about a nanosecond. Twins: oneTBB task_group, and the plain recursion.
#include "bench_support.hpp"
#include "workloads.hpp"

#include <weft/spawn.hpp>
#include <weft/task.hpp>

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

namespace weft::bench {
namespace {

weft::task<long> fib_weft(int n) {
  if (n < 2) {
    co_return n;
  }
  auto a = weft::spawn(fib_weft(n - 1));
  const long b = co_await fib_weft(n - 2);
  co_return co_await a + b;
}

long fib_tbb(int n) {
  if (n < 2) {
    return n;
  }
  long a = 0;
  tbb::task_group tg;
  tg.run([&a, n] { a = fib_tbb(n - 1); });
  const long b = fib_tbb(n - 2);
  tg.wait();
  return a + b;
}

[[gnu::noinline]] long fib_serial(int n) { return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2); }

// Calls (= tasks) made by fib(n): c(n) = 1 + c(n-1) + c(n-2), c(0) = c(1) = 1.
double fib_calls(int n) {
  double a = 1, b = 1;
  for (int i = 2; i <= n; ++i) {
    const double c = 1 + a + b;
    a = b;
    b = c;
  }
  return b;
}

void register_fib(const options& opt) {
  const int n = opt.quick ? 18 : 27;
  const long want = fib_serial(n);
  add(bench_name("fib", "serial", {{"n", n}}, 0), [n, want](benchmark::State& state) {
    long got = 0;
    for (auto _ : state) {
      got = fib_serial(n);
      benchmark::DoNotOptimize(got);
    }
    verify(state, got, want);
    set_tasks(state, fib_calls(n));
  });
  for (unsigned w : opt.threads) {
    add(bench_name("fib", "weft", {{"n", n}}, w), [n, w, want](benchmark::State& state) {
      weft::runtime rt({.workers = w});
      const runtime_counters counters(rt);
      long got = 0;
      for (auto _ : state) {
        got = rt.block_on(fib_weft(n));
      }
      verify(state, got, want);
      set_tasks(state, fib_calls(n));
      counters.report(state, rt);
    });
    add(bench_name("fib", "tbb", {{"n", n}}, w), [n, w, want](benchmark::State& state) {
      tbb::task_arena arena(static_cast<int>(w));
      long got = 0;
      for (auto _ : state) {
        arena.execute([&] { got = fib_tbb(n); });
      }
      verify(state, got, want);
      set_tasks(state, fib_calls(n));
    });
  }
}

} // namespace

workload fib_workload() {
  return {"fib", "recursive fib(n), one spawn + join per call (fine-grained)", register_fib};
}

} // namespace weft::bench
