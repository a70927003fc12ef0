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
  const double tasks = fib_calls(n);
  add_pinned_twins("fib", {{"n", n}}, opt, [n] { return fib_weft(n); }, [n] { return fib_tbb(n); },
                   [n] { return fib_serial(n); }, want, tasks);
}

} // namespace

workload fib_workload() {
  return {"fib", "recursive fib(n), one spawn + join per call (fine-grained)", register_fib};
}

} // namespace weft::bench
