// Micro-benchmarks of single runtime operations:
//   spawn_join  - spawn an empty task and join it at once (the un-stolen fast path);
//   yield       - two tasks passing control with co_await weft::yield();
//   inject      - tasks submitted from a thread outside the pool;
//   timer       - co_await weft::sleep(0) (a yield) and sleep(1us) (a reactor round trip);
//   frame_alloc - the per-thread frame allocator against oneTBB's scalable_malloc and
//                 the system allocator (serial), alloc+free of a LIFO batch of frames.
#include "bench_support.hpp"
#include "workloads.hpp"

#include <weft/sleep.hpp>
#include <weft/spawn.hpp>
#include <weft/task.hpp>
#include <weft/yield.hpp>
#include <weft/detail/frame_allocator.hpp>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <oneapi/tbb/scalable_allocator.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace weft::bench {
namespace {

// ---- spawn_join ----

weft::task<void> empty_task() { co_return; }
[[gnu::noinline]] void empty_fn() noexcept { benchmark::ClobberMemory(); }

weft::task<long> spawn_join_loop(long n) {
  long done = 0;
  for (long i = 0; i < n; ++i) {
    co_await weft::spawn(empty_task());
    ++done;
  }
  co_return done;
}

long empty_calls(long n) {
  for (long i = 0; i < n; ++i) {
    empty_fn();
  }
  return n;
}

long tbb_spawn_join_loop(long n) {
  long done = 0;
  tbb::task_group tg;
  for (long i = 0; i < n; ++i) {
    tg.run([] { empty_fn(); });
    tg.wait();
    ++done;
  }
  return done;
}

void register_spawn_join(const options& opt) {
  const long n = opt.quick ? 10'000 : 1'000'000;
  const double tasks = static_cast<double>(n);
  add_pinned_serials(bench_name("spawn_join", "serial", {{"tasks", n}}, 0), opt, [n] { return empty_calls(n); }, n,
                     tasks);
  for (unsigned w : opt.threads) {
    add_weft(bench_name("spawn_join", "weft", {{"tasks", n}}, w), w, [n] { return spawn_join_loop(n); }, n, tasks,
             placement::pinned);
    add_tbb(bench_name("spawn_join", "tbb", {{"tasks", n}}, w), w, [n] { return tbb_spawn_join_loop(n); }, n, tasks,
            placement::pinned);
  }
}

// ---- yield ----

weft::task<long> yielder(long n) {
  long count = 0;
  for (long i = 0; i < n; ++i) {
    co_await weft::yield();
    ++count;
  }
  co_return count;
}

weft::task<long> yield_pair(long n) {
  auto a = weft::spawn(yielder(n));
  auto b = weft::spawn(yielder(n));
  const long x = co_await a;
  co_return x + co_await b;
}

// Plain Asio twin: two handlers that each re-post themselves n times.
struct asio_pinger {
  asio::io_context* io;
  long left;
  long* count;
  void operator()() {
    ++*count;
    if (--left > 0) {
      asio::post(*io, *this);
    }
  }
};

void register_yield(const options& opt) {
  const long n = opt.quick ? 10'000 : 200'000;
  for (unsigned w : opt.threads) {
    add(bench_name("yield", "weft", {{"yields", 2 * n}}, w), [=](benchmark::State& state) {
      weft::runtime rt({.workers = w});
      long got = 0;
      for (auto _ : state) {
        got = rt.block_on(yield_pair(n));
      }
      verify(state, got, 2 * n);
      set_tasks(state, static_cast<double>(2 * n));
    });
    add(bench_name("yield", "asio", {{"yields", 2 * n}}, w), [=](benchmark::State& state) {
      long got = 0;
      for (auto _ : state) {
        asio::io_context io(static_cast<int>(w));
        got = 0;
        asio::post(io, asio_pinger{&io, n, &got});
        asio::post(io, asio_pinger{&io, n, &got});
        std::vector<std::thread> extra;
        for (unsigned t = 1; t < w; ++t) {
          extra.emplace_back([&io] { io.run(); });
        }
        io.run();
        for (auto& t : extra) {
          t.join();
        }
      }
      // With several threads the counter is not synchronised; check it on one only.
      if (w == 1) {
        verify(state, got, 2 * n);
      }
      set_tasks(state, static_cast<double>(2 * n));
    });
  }
}

// ---- inject ----

void register_inject(const options& opt) {
  const long n = opt.quick ? 2'000 : 100'000;
  for (unsigned w : opt.threads) {
    add(bench_name("inject", "weft", {{"tasks", n}}, w), [=](benchmark::State& state) {
      weft::runtime rt({.workers = w});
      std::atomic<long> done{0};
      for (auto _ : state) {
        done.store(0);
        for (long i = 0; i < n; ++i) {
          rt.spawn([](std::atomic<long>& d) -> weft::task<void> {
            d.fetch_add(1, std::memory_order_relaxed);
            co_return;
          }(done)).detach();
        }
        while (done.load(std::memory_order_relaxed) < n) {
          std::this_thread::yield();
        }
      }
      verify(state, done.load(), n);
      set_tasks(state, static_cast<double>(n));
      state.counters["cross_core_rtt_ns"] = cross_core_round_trip_ns();
    });
    add(bench_name("inject", "tbb", {{"tasks", n}}, w), [=](benchmark::State& state) {
      tbb::task_arena arena(static_cast<int>(w), 0); // no slot reserved for this thread
      std::atomic<long> done{0};
      for (auto _ : state) {
        done.store(0);
        for (long i = 0; i < n; ++i) {
          arena.enqueue([&done] { done.fetch_add(1, std::memory_order_relaxed); });
        }
        while (done.load(std::memory_order_relaxed) < n) {
          std::this_thread::yield();
        }
      }
      verify(state, done.load(), n);
      set_tasks(state, static_cast<double>(n));
      state.counters["cross_core_rtt_ns"] = cross_core_round_trip_ns();
    });
  }
}

// ---- timer ----

template <class Duration>
weft::task<long> sleeper(long n, Duration d) {
  long count = 0;
  for (long i = 0; i < n; ++i) {
    co_await weft::sleep(d);
    ++count;
  }
  co_return count;
}

struct asio_timer_chain {
  asio::steady_timer* timer;
  std::chrono::nanoseconds d;
  long left;
  long* count;
  void operator()(const std::error_code&) {
    ++*count;
    if (--left > 0) {
      timer->expires_after(d);
      timer->async_wait(*this);
    }
  }
};

void register_timer(const options& opt) {
  const long n0 = opt.quick ? 1'000 : 100'000;
  const long n1 = opt.quick ? 200 : 5'000;
  for (unsigned w : opt.threads) {
    add(bench_name("timer", "weft", {{"sleep_ns", 0}}, w), [=](benchmark::State& state) {
      weft::runtime rt({.workers = w});
      long got = 0;
      for (auto _ : state) {
        got = rt.block_on(sleeper(n0, std::chrono::nanoseconds(0)));
      }
      verify(state, got, n0);
      set_tasks(state, static_cast<double>(n0));
    });
    add(bench_name("timer", "weft", {{"sleep_ns", 1000}}, w), [=](benchmark::State& state) {
      weft::runtime rt({.workers = w});
      long got = 0;
      for (auto _ : state) {
        got = rt.block_on(sleeper(n1, std::chrono::microseconds(1)));
      }
      verify(state, got, n1);
      set_tasks(state, static_cast<double>(n1));
    });
  }
  // sleep(0) is a yield (asyncio.sleep(0)); its plain-Asio twin is a self-posting handler.
  add(bench_name("timer", "asio", {{"sleep_ns", 0}}, 1), [=](benchmark::State& state) {
    long got = 0;
    for (auto _ : state) {
      asio::io_context io(1);
      got = 0;
      asio::post(io, asio_pinger{&io, n0, &got});
      io.run();
    }
    verify(state, got, n0);
    set_tasks(state, static_cast<double>(n0));
  });
  add(bench_name("timer", "asio", {{"sleep_ns", 1000}}, 1), [=](benchmark::State& state) {
    long got = 0;
    for (auto _ : state) {
      asio::io_context io(1);
      asio::steady_timer timer(io);
      got = 0;
      timer.expires_after(std::chrono::microseconds(1));
      timer.async_wait(asio_timer_chain{&timer, std::chrono::microseconds(1), n1, &got});
      io.run();
    }
    verify(state, got, n1);
    set_tasks(state, static_cast<double>(n1));
  });
}

// ---- frame_alloc ----

constexpr std::size_t k_frame_bytes = 192;
constexpr int k_batch = 16;

template <class Alloc, class Free>
void alloc_loop(benchmark::State& state, long rounds, Alloc alloc, Free release) {
  void* blocks[k_batch];
  for (auto _ : state) {
    for (long r = 0; r < rounds; ++r) {
      for (int i = 0; i < k_batch; ++i) {
        blocks[i] = alloc(k_frame_bytes);
        benchmark::DoNotOptimize(blocks[i]);
      }
      for (int i = k_batch - 1; i >= 0; --i) {
        release(blocks[i], k_frame_bytes);
      }
    }
  }
  set_tasks(state, static_cast<double>(rounds * k_batch));
}

void register_frame_alloc(const options& opt) {
  const long rounds = opt.quick ? 1'000 : 100'000;
  add(bench_name("frame_alloc", "weft", {{"bytes", k_frame_bytes}}, 1), [=](benchmark::State& state) {
    alloc_loop(state, rounds, [](std::size_t n) { return weft::detail::allocate_frame(n); },
               [](void* p, std::size_t n) { weft::detail::deallocate_frame(p, n); });
  });
  add(bench_name("frame_alloc", "tbb", {{"bytes", k_frame_bytes}}, 1), [=](benchmark::State& state) {
    alloc_loop(state, rounds, [](std::size_t n) { return scalable_malloc(n); },
               [](void* p, std::size_t) { scalable_free(p); });
  });
  add(bench_name("frame_alloc", "serial", {{"bytes", k_frame_bytes}}, 0), [=](benchmark::State& state) {
    alloc_loop(state, rounds, [](std::size_t n) { return std::malloc(n); }, [](void* p, std::size_t) { std::free(p); });
  });
}

} // namespace

workload spawn_join_workload() {
  return {"spawn_join", "spawn an empty task and join it at once, in a loop (serial twin: a call)",
          register_spawn_join};
}
workload yield_workload() {
  return {"yield", "two tasks taking turns with co_await yield() (plain Asio twin: two self-posting handlers)",
          register_yield};
}
workload inject_workload() {
  return {"inject", "empty tasks submitted from a thread outside the pool (oneTBB twin: task_arena::enqueue)",
          register_inject};
}
workload timer_workload() {
  return {"timer",
          "co_await sleep(d) in a loop; sleep(0) yields (plain Asio twins: a self-posting handler for d = 0, a "
          "steady_timer chain on one thread otherwise)",
          register_timer};
}
workload frame_alloc_workload() {
  return {"frame_alloc",
          "allocate 16 frames of 192 bytes and free them in LIFO order (oneTBB: scalable_malloc; serial: malloc)",
          register_frame_alloc};
}

} // namespace weft::bench
