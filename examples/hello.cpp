// The smallest weft program: run a task that spawns a few tasks, each of which sleeps and
// returns a value, then sums what they return.
#include <weft/weft.hpp>

#include <chrono>
#include <cstdio>
#include <vector>

using namespace std::chrono_literals;

weft::task<int> greet(int id) {
  co_await weft::sleep(10ms * id);
  std::printf("hello from task %d (worker %u)\n", id, *weft::this_worker_index());
  co_return id * id;
}

weft::task<int> amain() {
  std::vector<weft::join_handle<int>> handles;
  for (int id = 1; id <= 4; ++id) {
    handles.push_back(weft::spawn(greet(id)));
  }
  int sum = 0;
  for (auto& h : handles) {
    sum += co_await h;
  }
  co_return sum;
}

int main() {
  const int sum = weft::run(amain());
  std::printf("sum of squares: %d\n", sum);
  return sum == 30 ? 0 : 1;
}
