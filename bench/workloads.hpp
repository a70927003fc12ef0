#pragma once
// The workloads weft_bench knows; each is defined in its <name>_bench.cpp.

#include "bench_support.hpp"

namespace weft::bench {

workload fib_workload();

} // namespace weft::bench
