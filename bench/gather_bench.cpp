// Combinators:
//   gather       - co_await gather(N trivial tasks), beside oneTBB task_group run x N +
//                  wait; per child. The report also sets it against spawn_join (weft) and
//                  against its by-hand twin: the same N children spawned one by one and
//                  joined in reverse order, the code a gather replaces; and against the
//                  same children spawned and joined one at a time (spawn_join twin).
//   wait_first   - spawn N tasks, then wait(first_completed) in a loop until all are
//                  done; per completion.
//   as_completed - as_completed over N handles; per completion.
// The gather benchmark at N = 1,000,000 also reports the heap bytes per pending child
// beyond the children's own frames (measured with mallinfo2 in a fresh runtime).
#include "bench_support.hpp"
#include "workloads.hpp"

#include <weft/as_completed.hpp>
#include <weft/gather.hpp>
#include <weft/spawn.hpp>
#include <weft/task.hpp>
#include <weft/wait.hpp>

#include <malloc.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <tuple>
#include <utility>
#include <vector>

namespace weft::bench {
namespace {

weft::task<int> trivial(int v) { co_return v & 1; }

std::size_t heap_in_use() { return mallinfo2().uordblks; }

std::atomic<std::size_t> g_heap_when_pending{0};

weft::task<int> first_child_measures(int v) {
  // Runs first, inline, while every sibling waits on the deque: the peak of pending state.
  g_heap_when_pending.store(heap_in_use(), std::memory_order_relaxed);
  co_return v & 1;
}

weft::task<long> gather_n(long n, double* bytes_per_child) {
  std::vector<weft::task<int>> ts;
  ts.reserve(static_cast<std::size_t>(n));
  ts.push_back(bytes_per_child != nullptr ? first_child_measures(0) : trivial(0));
  for (long i = 1; i < n; ++i) {
    ts.push_back(trivial(static_cast<int>(i)));
  }
  // mallinfo2 walks the heap's bins (microseconds): only in the measuring run, never in
  // a timed one.
  const std::size_t before = bytes_per_child != nullptr ? heap_in_use() : 0;
  auto r = co_await weft::gather(std::move(ts));
  if (bytes_per_child != nullptr) {
    const double extra = static_cast<double>(g_heap_when_pending.load()) - static_cast<double>(before);
    // The task handles in the input vector are the other per-child cost.
    *bytes_per_child = extra / static_cast<double>(n) + static_cast<double>(sizeof(weft::task<int>));
  }
  long sum = 0;
  for (int v : r) {
    sum += v;
  }
  co_return sum;
}

[[gnu::noinline]] int trivial_fn(int v) noexcept { return v & 1; }

// Small gathers are repeated inside one task so that the block_on round trip (an
// outside-thread hand-off, ~10 us) does not swamp them; likewise for oneTBB.
long repeats_for(long n) { return std::max(1L, 100'000 / n); }

// Small fixed N uses the variadic form, as code with a known number of children would
// (no vectors: the results come back in a tuple). The loop awaits gather directly, so
// that no task of the benchmark's own sits between two gathers.
template <std::size_t... I>
weft::task<long> gather_fixed_repeated(long reps, std::index_sequence<I...>) {
  long sum = 0;
  for (long r = 0; r < reps; ++r) {
    const auto got = co_await weft::gather(trivial(static_cast<int>(I))...);
    sum += std::apply([](auto... v) { return (0L + ... + v); }, got);
  }
  co_return sum;
}

weft::task<long> gather_vector_repeated(long n, long reps) {
  long sum = 0;
  for (long r = 0; r < reps; ++r) {
    sum += co_await gather_n(n, nullptr);
  }
  co_return sum;
}

// The by-hand twin: spawn every child, then join them newest first (so that each join
// takes its child back from the deque, as gather's own chain does).
weft::task<long> by_hand_repeated(long n, long reps) {
  long sum = 0;
  std::vector<weft::join_handle<int>> handles(static_cast<std::size_t>(n));
  for (long r = 0; r < reps; ++r) {
    for (long i = 0; i < n; ++i) {
      handles[static_cast<std::size_t>(i)] = weft::spawn(trivial(static_cast<int>(i)));
    }
    for (long i = n - 1; i >= 0; --i) {
      sum += co_await handles[static_cast<std::size_t>(i)];
    }
  }
  co_return sum;
}

// The same children spawned and joined one at a time: the bare spawn + join that a gather
// child is set against (the "within 1.2x of a bare spawn + join"), with the child
// that gather runs, an int-returning task, rather than spawn_join's empty void one.
weft::task<long> spawn_join_repeated(long n, long reps) {
  long sum = 0;
  for (long r = 0; r < reps; ++r) {
    for (long i = 0; i < n; ++i) {
      sum += co_await weft::spawn(trivial(static_cast<int>(i)));
    }
  }
  co_return sum;
}

weft::task<long> gather_repeated(long n, long reps) {
  switch (n) {
  case 2:
    return gather_fixed_repeated(reps, std::make_index_sequence<2>{});
  case 16:
    return gather_fixed_repeated(reps, std::make_index_sequence<16>{});
  default:
    return gather_vector_repeated(n, reps);
  }
}

void register_gather(const options& opt) {
  const std::vector<long> sizes = opt.quick ? std::vector<long>{2, 16, 1000} : std::vector<long>{2, 16, 1000, 1'000'000};
  for (long n : sizes) {
    const long reps = repeats_for(n);
    const long want = (n / 2) * reps;
    const double tasks = static_cast<double>(n * reps);
    for (unsigned w : opt.threads) {
      add(bench_name("gather", "weft", {{"children", n}}, w), [=](benchmark::State& state) {
        weft::runtime rt({.workers = w, .pin_workers = true});
        double bytes = 0;
        if (n >= 1'000'000 && w == opt.threads.front()) {
          (void)rt.block_on(gather_n(n, &bytes)); // fresh runtime: the deque grows here
        }
        const runtime_counters counters(rt);
        long got = 0;
        for (auto _ : state) {
          got = rt.block_on(gather_repeated(n, reps));
        }
        verify(state, got, want);
        set_tasks(state, tasks);
        counters.report(state, rt);
        if (bytes > 0) {
          state.counters["bytes_per_pending_child"] = bytes;
        }
      });
      add_weft(bench_name("gather", "by_hand", {{"children", n}}, w), w, [=] { return by_hand_repeated(n, reps); }, want,
               tasks, placement::pinned);
      add_weft(bench_name("gather", "spawn_join", {{"children", n}}, w), w,
               [=] { return spawn_join_repeated(n, reps); }, want, tasks, placement::pinned);
      add(bench_name("gather", "tbb", {{"children", n}}, w), [=](benchmark::State& state) {
        tbb::task_arena arena(static_cast<int>(w));
        const tbb_slot_pinning pinning(arena);
        long got = 0;
        for (auto _ : state) {
          arena.execute([&] {
            got = 0;
            std::vector<int> r(static_cast<std::size_t>(n));
            for (long k = 0; k < reps; ++k) {
              tbb::task_group tg;
              for (long i = 0; i < n; ++i) {
                tg.run([&r, i] { r[static_cast<std::size_t>(i)] = trivial_fn(static_cast<int>(i)); });
              }
              tg.wait();
              for (int v : r) {
                got += v;
              }
            }
          });
        }
        verify(state, got, want);
        set_tasks(state, tasks);
      });
    }
  }
}

weft::task<long> wait_loop(long n) {
  std::vector<weft::join_handle<int>> pending;
  pending.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    pending.push_back(weft::spawn(trivial(static_cast<int>(i))));
  }
  long done = 0;
  while (!pending.empty()) {
    auto r = co_await weft::wait(std::move(pending), weft::return_when::first_completed);
    for (auto& h : r.done) {
      done += 1 + co_await h * 0;
    }
    pending = std::move(r.pending);
  }
  co_return done;
}

weft::task<long> as_completed_loop(long n) {
  std::vector<weft::join_handle<int>> hs;
  hs.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    hs.push_back(weft::spawn(trivial(static_cast<int>(i))));
  }
  long done = 0;
  for (auto next : weft::as_completed(std::move(hs))) {
    done += 1 + co_await next * 0;
  }
  co_return done;
}

void register_wait(const options& opt) {
  const long n = opt.quick ? 200 : 2'000;
  for (unsigned w : opt.threads) {
    add_weft(bench_name("wait_first", "weft", {{"handles", n}}, w), w, [n] { return wait_loop(n); }, n,
             static_cast<double>(n));
  }
}

void register_as_completed(const options& opt) {
  const long n = opt.quick ? 1'000 : 10'000;
  for (unsigned w : opt.threads) {
    add_weft(bench_name("as_completed", "weft", {{"handles", n}}, w), w, [n] { return as_completed_loop(n); }, n,
             static_cast<double>(n));
  }
}

} // namespace

workload gather_workload() {
  return {"gather",
          "co_await gather(N trivial tasks), the variadic form for N = 2 and 16 and the vector form above (oneTBB "
          "twin: task_group run x N, wait, into a reused array; by-hand twin: the same N children spawned one by one, "
          "then joined newest first); per child, repeated to 100,000 children per iteration",
          register_gather, "spawn_join"};
}
workload wait_first_workload() {
  return {"wait_first",
          "spawn N trivial tasks, then wait(first_completed) in a loop until none is pending (the pending set is "
          "re-registered each round, so this is O(N^2) listener work in the worst case); per completion",
          register_wait, ""};
}
workload as_completed_workload() {
  return {"as_completed", "spawn N trivial tasks, take their results through as_completed; per completion",
          register_as_completed, ""};
}

} // namespace weft::bench
