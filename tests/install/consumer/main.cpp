#include <weft/weft.hpp>

#include <cstdio>

weft::task<long> fib(int n) {
  if (n < 2) {
    co_return n;
  }
  auto a = weft::spawn(fib(n - 1));
  long b = co_await fib(n - 2);
  co_return co_await a + b;
}

int main() {
  std::printf("consumer: %ld\n", weft::run(fib(10), {.workers = 2}));
  return 0;
}
