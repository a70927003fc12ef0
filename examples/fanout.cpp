// The core lesson of async code: independent calls awaited one by one take the sum of
// their latencies; spawned together and then joined, they take about the longest one.
//
// usage: fanout [calls] [latency_ms]
#include <weft/weft.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// A simulated remote call: waits for its latency without blocking a worker.
weft::task<int> fake_rpc(int id, std::chrono::milliseconds latency) {
  co_await weft::sleep(latency);
  co_return id * 2;
}

weft::task<long> sequential(int calls, std::chrono::milliseconds latency) {
  long sum = 0;
  for (int i = 0; i < calls; ++i) {
    sum += co_await fake_rpc(i, latency); // each call starts after the previous one ends
  }
  co_return sum;
}

weft::task<long> concurrent(int calls, std::chrono::milliseconds latency) {
  std::vector<weft::join_handle<int>> handles;
  handles.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    handles.push_back(weft::spawn(fake_rpc(i, latency))); // all start now
  }
  long sum = 0;
  for (auto& h : handles) {
    sum += co_await h;
  }
  co_return sum;
}

int parse(const char* s, int fallback) {
  if (s == nullptr) {
    return fallback;
  }
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (*end != '\0' || v <= 0 || v > 100000) {
    std::fprintf(stderr, "usage: fanout [calls 1..100000] [latency_ms 1..100000]\n");
    std::exit(2);
  }
  return static_cast<int>(v);
}

} // namespace

int main(int argc, char** argv) {
  const int calls = parse(argc > 1 ? argv[1] : nullptr, 20);
  const auto latency = std::chrono::milliseconds(parse(argc > 2 ? argv[2] : nullptr, 20));
  weft::runtime rt;

  auto t0 = clock_type::now();
  const long a = rt.block_on(sequential(calls, latency));
  auto t1 = clock_type::now();
  const long b = rt.block_on(concurrent(calls, latency));
  auto t2 = clock_type::now();

  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("%d calls of %lld ms each\n", calls, static_cast<long long>(latency.count()));
  std::printf("awaited one by one: %8.1f ms\n", ms(t1 - t0));
  std::printf("spawned and joined: %8.1f ms (%.1fx faster)\n", ms(t2 - t1), ms(t1 - t0) / ms(t2 - t1));
  return a == b ? 0 : 1;
}
