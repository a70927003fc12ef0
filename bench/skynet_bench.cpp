// skynet: a tree with fan-out 10 per level and 1,000,000 leaves; each leaf returns its id
// and each node the sum of its children (sum of 0..999,999). Fine-grained.
#include "bench_support.hpp"
#include "workloads.hpp"

#include <weft/spawn.hpp>
#include <weft/task.hpp>

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <array>

namespace weft::bench {
namespace {

constexpr int k_fanout = 10;

weft::task<long> skynet_weft(long id, long size) {
  if (size == 1) {
    co_return id;
  }
  const long child = size / k_fanout;
  std::array<weft::join_handle<long>, k_fanout - 1> handles;
  for (int i = 0; i < k_fanout - 1; ++i) {
    handles[static_cast<std::size_t>(i)] = weft::spawn(skynet_weft(id + i * child, child));
  }
  long sum = co_await skynet_weft(id + (k_fanout - 1) * child, child);
  for (int i = k_fanout - 2; i >= 0; --i) {
    sum += co_await handles[static_cast<std::size_t>(i)];
  }
  co_return sum;
}

long skynet_tbb(long id, long size) {
  if (size == 1) {
    return id;
  }
  const long child = size / k_fanout;
  std::array<long, k_fanout> sums{};
  tbb::task_group tg;
  for (int i = 0; i < k_fanout - 1; ++i) {
    tg.run([&sums, i, id, child] { sums[static_cast<std::size_t>(i)] = skynet_tbb(id + i * child, child); });
  }
  sums[k_fanout - 1] = skynet_tbb(id + (k_fanout - 1) * child, child);
  tg.wait();
  long sum = 0;
  for (long s : sums) {
    sum += s;
  }
  return sum;
}

[[gnu::noinline]] long skynet_serial(long id, long size) {
  if (size == 1) {
    return id;
  }
  const long child = size / k_fanout;
  long sum = 0;
  for (int i = 0; i < k_fanout; ++i) {
    sum += skynet_serial(id + i * child, child);
  }
  return sum;
}

double skynet_tasks(long size) {
  double nodes = 0;
  for (long level = 1; level <= size; level *= k_fanout) {
    nodes += static_cast<double>(level);
  }
  return nodes;
}

void register_skynet(const options& opt) {
  const long size = opt.quick ? 10'000 : 1'000'000;
  const long want = size * (size - 1) / 2;
  const double tasks = skynet_tasks(size);
  add_pinned_twins("skynet", {{"leaves", size}}, opt, [size] { return skynet_weft(0, size); },
                   [size] { return skynet_tbb(0, size); }, [size] { return skynet_serial(0, size); }, want, tasks);
}

} // namespace

workload skynet_workload() {
  return {"skynet", "1,000,000 leaves, fan-out 10 per level, sum of leaf ids (fine-grained)", register_skynet};
}

} // namespace weft::bench
