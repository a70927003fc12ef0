// nqueens(n): count the placements of n queens; each of the first rows fans out one task
// per safe column (up to n), deeper rows run serially. Coarse-grained.
#include "bench_support.hpp"
#include "workloads.hpp"

#include <weft/spawn.hpp>
#include <weft/task.hpp>

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <array>
#include <vector>

namespace weft::bench {
namespace {

constexpr int k_max_n = 16;
constexpr int k_spawn_rows = 4; // rows that fan out into tasks; the rest is serial work

struct board {
  std::array<signed char, k_max_n> cols{};
  bool safe(int row, int col) const noexcept {
    for (int r = 0; r < row; ++r) {
      const int c = cols[static_cast<std::size_t>(r)];
      if (c == col || c - col == r - row || c - col == row - r) {
        return false;
      }
    }
    return true;
  }
};

// Out of line, so that every twin runs the same code for the serial rows (see the matmul
// kernel: clang 14 optimises loops inlined into a coroutine's body less well).
[[gnu::noinline]] long nqueens_serial_from(board b, int n, int row) {
  if (row == n) {
    return 1;
  }
  long count = 0;
  for (int col = 0; col < n; ++col) {
    if (b.safe(row, col)) {
      b.cols[static_cast<std::size_t>(row)] = static_cast<signed char>(col);
      count += nqueens_serial_from(b, n, row + 1);
    }
  }
  return count;
}

[[gnu::noinline]] long nqueens_serial(int n) { return nqueens_serial_from(board{}, n, 0); }

// The serial twin: the parallel twins' split with a loop where they spawn, so that all
// three run nqueens_serial_from from row k_spawn_rows on. Recursing from row 0 instead, as
// nqueens_serial does, was 9% faster than both parallel twins at one worker (GCC compiles
// the recursion from a known first row better), which the ratio to the ideal charged to
// the schedulers (measured 2026-12-07: weft and oneTBB alike 1.09-1.10x of it).
long nqueens_serial_split(board b, int n, int row) {
  if (row >= k_spawn_rows || row == n) {
    return nqueens_serial_from(b, n, row);
  }
  long count = 0;
  for (int col = 0; col < n; ++col) {
    if (b.safe(row, col)) {
      board next = b;
      next.cols[static_cast<std::size_t>(row)] = static_cast<signed char>(col);
      count += nqueens_serial_split(next, n, row + 1);
    }
  }
  return count;
}

weft::task<long> nqueens_weft(board b, int n, int row) {
  if (row >= k_spawn_rows || row == n) {
    co_return nqueens_serial_from(b, n, row);
  }
  std::array<weft::join_handle<long>, k_max_n> handles;
  int spawned = 0;
  for (int col = 0; col < n; ++col) {
    if (b.safe(row, col)) {
      board next = b;
      next.cols[static_cast<std::size_t>(row)] = static_cast<signed char>(col);
      handles[static_cast<std::size_t>(spawned++)] = weft::spawn(nqueens_weft(next, n, row + 1));
    }
  }
  long count = 0;
  for (int i = spawned - 1; i >= 0; --i) {
    count += co_await handles[static_cast<std::size_t>(i)];
  }
  co_return count;
}

long nqueens_tbb(board b, int n, int row) {
  if (row >= k_spawn_rows || row == n) {
    return nqueens_serial_from(b, n, row);
  }
  std::array<long, k_max_n> counts{};
  tbb::task_group tg;
  for (int col = 0; col < n; ++col) {
    if (b.safe(row, col)) {
      board next = b;
      next.cols[static_cast<std::size_t>(row)] = static_cast<signed char>(col);
      tg.run([&counts, next, n, row, col] { counts[static_cast<std::size_t>(col)] = nqueens_tbb(next, n, row + 1); });
    }
  }
  tg.wait();
  long count = 0;
  for (long c : counts) {
    count += c;
  }
  return count;
}

double nqueens_tasks(board b, int n, int row) {
  if (row >= k_spawn_rows || row == n) {
    return 1;
  }
  double t = 1;
  for (int col = 0; col < n; ++col) {
    if (b.safe(row, col)) {
      b.cols[static_cast<std::size_t>(row)] = static_cast<signed char>(col);
      t += nqueens_tasks(b, n, row + 1);
    }
  }
  return t;
}

void register_nqueens(const options& opt) {
  const int n = opt.quick ? 8 : 12;
  const long want = nqueens_serial(n);
  const double tasks = nqueens_tasks(board{}, n, 0);
  // Pinned, as every compute workload (bench_support.hpp, pinned_thread).
  add_pinned_twins("nqueens", {{"n", n}}, opt, [n] { return nqueens_weft(board{}, n, 0); },
                   [n] { return nqueens_tbb(board{}, n, 0); }, [n] { return nqueens_serial_split(board{}, n, 0); },
                   want, tasks);
}

} // namespace

workload nqueens_workload() {
  return {"nqueens", "count n-queens solutions; the first 4 rows fan out up to n tasks each (coarse-grained)",
          register_nqueens};
}

} // namespace weft::bench
