// examples/load_test: fan out N GET requests with gather, capped by a semaphore so that
// never more than K sockets are open at once (the seeds' warning: an unbounded fan-out
// runs into the open-file limit), then check that every status is 200.
//
//   load_test [--requests N] [--connections K] [--port P]
//
// Without --port it starts examples/http_server's server in the same process.

#include "fd_limit.hpp"
#include "http/http_fetch.hpp"
#include "http/weft_http_server.hpp"

#include <weft/gather.hpp>
#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/semaphore.hpp>
#include <weft/spawn.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

namespace {

struct config {
  unsigned long requests = 1000;
  unsigned long connections = 50;
  unsigned long port = 0;
};

struct open_sockets {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
};

weft::task<int> one_request(weft::semaphore& sem, open_sockets& open, std::uint16_t port) {
  auto unit = co_await sem.scoped_acquire(); // at most K requests (sockets) at once
  const int n = open.now.fetch_add(1) + 1;
  int peak = open.peak.load();
  while (n > peak && !open.peak.compare_exchange_weak(peak, n)) {
  }
  int status = 0;
  try {
    status = (co_await weft_examples::http_fetch("127.0.0.1", port, "GET", "/hello")).status;
  } catch (const weft::io_error& e) {
    std::fprintf(stderr, "load_test: %s\n", e.what());
  }
  open.now.fetch_sub(1);
  co_return status;
}

weft::task<int> amain(config cfg) {
  std::optional<weft::net::tcp_listener> listener;
  std::optional<weft::join_handle<void>> server;
  auto port = static_cast<std::uint16_t>(cfg.port);
  if (port == 0) {
    listener.emplace(weft::net::tcp_listener::bind("127.0.0.1", 0));
    port = listener->local_endpoint().port();
    server.emplace(weft::spawn(weft_examples::serve_http(*listener, {})));
  }
  weft::semaphore sem(cfg.connections);
  open_sockets open;
  std::vector<weft::task<int>> requests;
  for (unsigned long i = 0; i < cfg.requests; ++i) {
    requests.push_back(one_request(sem, open, port));
  }
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int> statuses = co_await weft::gather(std::move(requests));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto ok = std::count(statuses.begin(), statuses.end(), 200);
  std::printf("%lu requests, %ld with status 200, all 200: %s\n", cfg.requests, static_cast<long>(ok),
              ok == static_cast<long>(cfg.requests) ? "yes" : "no");
  std::printf("open sockets at most %d (limit %lu); %.0f requests/s\n", open.peak.load(), cfg.connections,
              static_cast<double>(cfg.requests) / seconds);
  if (server) {
    server->cancel();
    try {
      co_await *server;
    } catch (const weft::cancelled_error&) {
    }
  }
  co_return ok == static_cast<long>(cfg.requests) && open.peak.load() <= static_cast<int>(cfg.connections) ? 0 : 1;
}

bool parse(const char* s, unsigned long& out, unsigned long max) {
  char* end = nullptr;
  out = std::strtoul(s, &end, 10);
  return end != s && *end == '\0' && out <= max;
}

} // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i < argc; ++i) {
    unsigned long* target = nullptr;
    unsigned long max = 10'000'000;
    if (std::strcmp(argv[i], "--requests") == 0) {
      target = &cfg.requests;
    } else if (std::strcmp(argv[i], "--connections") == 0) {
      target = &cfg.connections;
    } else if (std::strcmp(argv[i], "--port") == 0) {
      target = &cfg.port;
      max = 65535;
    }
    if (target == nullptr || i + 1 >= argc || !parse(argv[++i], *target, max)) {
      std::fprintf(stderr, "usage: load_test [--requests N] [--connections K] [--port P]\n");
      return 2;
    }
  }
  if (cfg.connections == 0) {
    std::fprintf(stderr, "load_test: --connections must be at least 1\n");
    return 2;
  }
  weft_examples::raise_fd_limit();
  try {
    return weft::run(amain(cfg));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load_test: %s\n", e.what());
    return 1;
  }
}
