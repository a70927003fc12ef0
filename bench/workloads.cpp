#include "workloads.hpp"

namespace weft::bench {

const std::vector<workload>& workloads() {
  static const std::vector<workload> all = {fib_workload()};
  return all;
}

} // namespace weft::bench
