#include "workloads.hpp"

namespace weft::bench {

const std::vector<workload>& workloads() {
  static const std::vector<workload> all = {
      fib_workload(),        skynet_workload(), nqueens_workload(), matmul_workload(),     spawn_join_workload(),
      yield_workload(),      inject_workload(), timer_workload(),   frame_alloc_workload(), gather_workload(),
      wait_first_workload(), as_completed_workload(), io_resume_workload(), echo_workload(),
  };
  return all;
}

} // namespace weft::bench
