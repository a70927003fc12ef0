// examples/http_server: an HTTP/1.1 server on weft (keep-alive, pipelining, idle timeout,
// request size limit; requests parsed by libhttp_parser).
//
//   http_server [--port P] [--workers N] [--idle-ms M] [--max-request-bytes B] [--spin-rounds R]
//               [--pin]
//
// --pin pins worker i to the i-th CPU the process may use (runtime_options::pin_workers).
// Routes: GET / and /hello ("Hello, World!"), GET /json, POST /echo. Prints the port it
// listens on; SIGINT or SIGTERM stops it and prints how many requests it served; SIGUSR1
// prints weft::runtime::dump() to stderr (workers, queues, and what every waiting task
// waits on, with where it was spawned) and goes on serving.

#include "fd_limit.hpp"
#include "http/weft_http_server.hpp"

#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/use_task.hpp>

#include <asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace {

struct config {
  unsigned port = 8080;
  unsigned workers = 0;
  unsigned idle_ms = 10'000;
  unsigned max_request_bytes = 16 * 1024;
  unsigned spin_rounds = 64;
  bool pin = false;
};

int usage() {
  std::fprintf(stderr, "usage: http_server [--port P] [--workers N] [--idle-ms M] [--max-request-bytes B] [--spin-rounds R]"
                       " [--pin]\n");
  return 2;
}

bool parse_number(const char* s, unsigned& out) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(s, &end, 10);
  if (end == s || *end != '\0' || v > 1'000'000'000UL) {
    return false;
  }
  out = static_cast<unsigned>(v);
  return true;
}

// SIGUSR1 -> runtime::dump(). Asio's signal_set turns the signal into a completion on the
// reactor (its handler only writes to a pipe), so the dump runs in a task, not in the
// signal handler, where taking the runtime's locks would not be safe.
weft::task<void> dump_on_sigusr1() {
  asio::signal_set signals(weft::runtime::current()->io_context(), SIGUSR1);
  for (;;) {
    (void)co_await signals.async_wait(weft::use_task);
    weft::runtime::current()->dump(std::cerr);
  }
}

weft::task<void> amain(config cfg) {
  std::atomic<std::uint64_t> served{0};
  auto listener = weft::net::tcp_listener::bind("127.0.0.1", static_cast<std::uint16_t>(cfg.port));
  std::printf("listening on 127.0.0.1:%u\n", listener.local_endpoint().port());
  std::fflush(stdout);
  weft_examples::http_server_options options;
  options.idle_timeout = std::chrono::milliseconds(cfg.idle_ms);
  options.limits.max_request_bytes = cfg.max_request_bytes;
  options.requests_served = &served;
  asio::signal_set signals(weft::runtime::current()->io_context(), SIGINT, SIGTERM);
  auto server = weft::spawn(weft_examples::serve_http(listener, options));
  auto dumper = weft::spawn(dump_on_sigusr1());
  const int sig = co_await signals.async_wait(weft::use_task);
  dumper.cancel();
  server.cancel();
  try {
    co_await dumper;
  } catch (const weft::cancelled_error&) {
  }
  try {
    co_await server;
  } catch (const weft::cancelled_error&) {
  }
  std::uint64_t tasks = 0;
  std::uint64_t parks = 0;
  for (const weft::worker_stats& w : weft::runtime::current()->stats()) {
    tasks += w.tasks_run;
    parks += w.parks;
  }
  std::printf("signal %d: stopping; served %llu requests (workers ran %llu tasks, parked %llu times)\n", sig,
              static_cast<unsigned long long>(served.load()), static_cast<unsigned long long>(tasks),
              static_cast<unsigned long long>(parks));
}

} // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    unsigned* target = nullptr;
    if (std::strcmp(argv[i], "--pin") == 0) {
      cfg.pin = true;
      continue;
    }
    if (std::strcmp(argv[i], "--port") == 0) {
      target = &cfg.port;
    } else if (std::strcmp(argv[i], "--workers") == 0) {
      target = &cfg.workers;
    } else if (std::strcmp(argv[i], "--idle-ms") == 0) {
      target = &cfg.idle_ms;
    } else if (std::strcmp(argv[i], "--max-request-bytes") == 0) {
      target = &cfg.max_request_bytes;
    } else if (std::strcmp(argv[i], "--spin-rounds") == 0) {
      target = &cfg.spin_rounds;
    }
    if (target == nullptr || !has_value || !parse_number(argv[++i], *target)) {
      return usage();
    }
  }
  if (cfg.port > 65535) {
    return usage();
  }
  weft_examples::raise_fd_limit();
  try {
    weft::run(amain(cfg), {.workers = cfg.workers, .spin_rounds = cfg.spin_rounds, .pin_workers = cfg.pin});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
