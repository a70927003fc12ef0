#pragma once
// The workloads weft_bench knows; each is defined in its <name>_bench.cpp.

#include "bench_support.hpp"

namespace weft::bench {

workload fib_workload();
workload skynet_workload();
workload nqueens_workload();
workload matmul_workload();
workload spawn_join_workload();
workload yield_workload();
workload inject_workload();
workload timer_workload();
workload frame_alloc_workload();
workload gather_workload();
workload wait_first_workload();
workload as_completed_workload();
workload io_resume_workload();
workload echo_workload();

} // namespace weft::bench
