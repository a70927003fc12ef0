// matmul(n): C += A * B by recursive 4-way splitting of each matrix into quadrants (two
// phases of four independent quadrant products), down to a tiled serial kernel.
// Coarse-grained: the kernel dominates.
#include "bench_support.hpp"
#include "workloads.hpp"

#include <weft/spawn.hpp>
#include <weft/task.hpp>

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

namespace weft::bench {
namespace {

constexpr long k_tile = 64;

struct view {
  double* p;
  long stride;
  view quad(long size, int r, int c) const noexcept { return {p + r * (size / 2) * stride + c * (size / 2), stride}; }
};

// Out of line, so that the serial, weft and oneTBB versions run the same machine code:
// inlined into a coroutine's body, clang 14 compiled this loop about 3x slower (its
// coroutine lowering runs after the loop optimisations that would apply here).
[[gnu::noinline]] void kernel(view c, view a, view b, long size) noexcept {
  for (long i = 0; i < size; ++i) {
    double* ci = c.p + i * c.stride;
    for (long k = 0; k < size; ++k) {
      const double aik = a.p[i * a.stride + k];
      const double* bk = b.p + k * b.stride;
      for (long j = 0; j < size; ++j) {
        ci[j] += aik * bk[j];
      }
    }
  }
}

// The two phases of products: C(r,c) += A(r,k) * B(k,c) with k = phase.
template <class Fn>
void for_quadrants(int phase, Fn&& fn) {
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 2; ++c) {
      fn(r, c, phase);
    }
  }
}

void matmul_serial_rec(view c, view a, view b, long size) {
  if (size <= k_tile) {
    kernel(c, a, b, size);
    return;
  }
  for (int phase = 0; phase < 2; ++phase) {
    for_quadrants(phase, [&](int r, int col, int k) {
      matmul_serial_rec(c.quad(size, r, col), a.quad(size, r, k), b.quad(size, k, col), size / 2);
    });
  }
}

// The parallel twins run the quadrants in the serial twin's order: each spawns quadrants
// 3, 2, 1 (of 0 = (0,0), 1 = (0,1), 2 = (1,0), 3 = (1,1)), runs quadrant 0 itself, then
// joins 1, 2, 3, which a worker whose children were not stolen takes back from its deque
// newest first. Spawning 0, 1, 2 and running 3 itself (as these twins did before
// 2026-12-07) ran every level in reverse order: the same products, but 3-5% slower than
// the serial order at one worker, for weft and oneTBB alike, a cost of the order that the
// ratio to the serial ideal then charged to scheduling.
weft::task<void> matmul_weft(view c, view a, view b, long size) {
  if (size <= k_tile) {
    kernel(c, a, b, size);
    co_return;
  }
  for (int phase = 0; phase < 2; ++phase) {
    std::array<weft::join_handle<void>, 3> hs;
    hs[0] = weft::spawn(matmul_weft(c.quad(size, 1, 1), a.quad(size, 1, phase), b.quad(size, phase, 1), size / 2));
    hs[1] = weft::spawn(matmul_weft(c.quad(size, 1, 0), a.quad(size, 1, phase), b.quad(size, phase, 0), size / 2));
    hs[2] = weft::spawn(matmul_weft(c.quad(size, 0, 1), a.quad(size, 0, phase), b.quad(size, phase, 1), size / 2));
    co_await matmul_weft(c.quad(size, 0, 0), a.quad(size, 0, phase), b.quad(size, phase, 0), size / 2);
    for (int i = 2; i >= 0; --i) {
      co_await hs[static_cast<std::size_t>(i)];
    }
  }
}

void matmul_tbb(view c, view a, view b, long size) {
  if (size <= k_tile) {
    kernel(c, a, b, size);
    return;
  }
  for (int phase = 0; phase < 2; ++phase) {
    tbb::task_group tg;
    tg.run([=] { matmul_tbb(c.quad(size, 1, 1), a.quad(size, 1, phase), b.quad(size, phase, 1), size / 2); });
    tg.run([=] { matmul_tbb(c.quad(size, 1, 0), a.quad(size, 1, phase), b.quad(size, phase, 0), size / 2); });
    tg.run([=] { matmul_tbb(c.quad(size, 0, 1), a.quad(size, 0, phase), b.quad(size, phase, 1), size / 2); });
    matmul_tbb(c.quad(size, 0, 0), a.quad(size, 0, phase), b.quad(size, phase, 0), size / 2);
    tg.wait();
  }
}

double matmul_tasks(long size) {
  return size <= k_tile ? 1 : 1 + 8 * matmul_tasks(size / 2);
}

struct matrices {
  explicit matrices(long n) : n(n), a(static_cast<std::size_t>(n * n)), b(a.size()), c(a.size()) {
    // Small integers, so every sum is exact and results compare bit for bit.
    for (long i = 0; i < n * n; ++i) {
      a[static_cast<std::size_t>(i)] = static_cast<double>((i * 7 + 3) % 5) - 2;
      b[static_cast<std::size_t>(i)] = static_cast<double>((i * 11 + 1) % 7) - 3;
    }
  }
  void clear() { std::fill(c.begin(), c.end(), 0.0); }
  view va() { return {a.data(), n}; }
  view vb() { return {b.data(), n}; }
  view vc() { return {c.data(), n}; }
  long n;
  std::vector<double> a, b, c;
};

// Each twin clears C on the thread that then starts the product: oneTBB's arena and the
// serial twin run on the benchmark's thread, weft's root task on a worker, and a clear
// done on the benchmark's thread would leave C (2 MiB) in the other core's cache for weft
// alone (measured: weft 1.07-1.09x the serial time at 1 worker with the clear outside).
weft::task<void> clear_then_matmul_weft(matrices& m, long n) {
  m.clear();
  co_await matmul_weft(m.vc(), m.va(), m.vb(), n);
}

void register_matmul(const options& opt) {
  const long n = opt.quick ? 128 : 512;
  // One set of matrices for every twin (and for the reference result): the kernel's speed
  // depends on where A, B and C lie relative to each other (their rows are 4 KiB apart, so
  // they compete for the same cache sets; up to 7% between layouts here), and matrices
  // allocated per benchmark land wherever the heap puts them, which would bias one twin
  // against another. Every twin clears C before each product.
  const auto shared = std::make_shared<matrices>(n);
  matmul_serial_rec(shared->vc(), shared->va(), shared->vb(), n);
  const std::vector<double> want = shared->c;
  const double tasks = matmul_tasks(n);
  // Every twin is pinned (bench_support.hpp, pinned_thread): the serial one to each CPU in
  // turn, weft's workers and oneTBB's slots to the first CPUs, one thread each.
  for (std::size_t k = 0; k < cpus_for_sweep(opt); ++k) {
    add(pinned_serial_name(bench_name("matmul", "serial", {{"n", n}}, 0), k), [=](benchmark::State& state) {
      const pinned_thread pin(k);
      matrices& m = *shared;
      for (auto _ : state) {
        m.clear();
        matmul_serial_rec(m.vc(), m.va(), m.vb(), n);
        benchmark::DoNotOptimize(m.c.data());
      }
      verify(state, m.c, want);
      set_tasks(state, tasks);
    });
  }
  for (unsigned w : opt.threads) {
    add(bench_name("matmul", "weft", {{"n", n}}, w), [=](benchmark::State& state) {
      weft::runtime rt({.workers = w, .pin_workers = true});
      const runtime_counters counters(rt);
      matrices& m = *shared;
      for (auto _ : state) {
        rt.block_on(clear_then_matmul_weft(m, n));
      }
      verify(state, m.c, want);
      set_tasks(state, tasks);
      counters.report(state, rt);
    });
    add(bench_name("matmul", "tbb", {{"n", n}}, w), [=](benchmark::State& state) {
      tbb::task_arena arena(static_cast<int>(w));
      const tbb_slot_pinning pinning(arena);
      matrices& m = *shared;
      for (auto _ : state) {
        arena.execute([&] {
          m.clear();
          matmul_tbb(m.vc(), m.va(), m.vb(), n);
        });
      }
      verify(state, m.c, want);
      set_tasks(state, tasks);
    });
    // Each run gives C's address; the check compares C with the reference, untimed.
    add_paired(bench_name("matmul", "paired", {{"n", n}}, w), w, opt,
               paired_runs<const std::vector<double>*>{
                   [=](weft::runtime& rt) {
                     rt.block_on(clear_then_matmul_weft(*shared, n));
                     return &shared->c;
                   },
                   [=] {
                     shared->clear();
                     matmul_tbb(shared->vc(), shared->va(), shared->vb(), n);
                     return &shared->c;
                   },
                   [=] {
                     shared->clear();
                     matmul_serial_rec(shared->vc(), shared->va(), shared->vb(), n);
                     return &shared->c;
                   },
                   [want](const std::vector<double>* c) { return *c == want; }});
  }
}

} // namespace

workload matmul_workload() {
  return {"matmul", "C += A*B, recursive 4-way quadrant split down to 64x64 serial tiles (coarse-grained)",
          register_matmul};
}

} // namespace weft::bench
