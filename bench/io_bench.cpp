// I/O workloads:
//   io_resume - the cost of one I/O resumption: `co_await asio::post(io, weft::use_task)`
//               in a loop (the completion runs on the reactor thread and hands the task back
//               to a worker), beside plain Asio's handler dispatch (a self-posting handler
//               on one io_context thread);
//   echo      - ping-pong of 64-byte messages over loopback TCP with 1 and 64 connections:
//               a weft::net echo server beside a plain-Asio echo server (C++20 Asio
//               coroutines, one io_context thread), driven by the same plain-Asio client on
//               its own thread. Counters: messages per second, p50 and p99 latency (µs).
//               With work (work:N): each message also costs the server N steps of a
//               dependent multiply chain (~1 ns each), a handler with CPU work of its own,
//               where the load must spread over the workers; the plain-Asio twin then runs
//               its io_context on as many threads as weft has workers.

#include "bench_support.hpp"
#include "workloads.hpp"

#include <weft/join_handle.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/spawn.hpp>
#include <weft/use_task.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace weft::bench {
namespace {

using asio::ip::tcp;
constexpr auto k_no_throw = asio::experimental::as_tuple(asio::use_awaitable);

// ---- io_resume ----

weft::task<long> post_loop(long n) {
  asio::io_context& io = weft::runtime::current()->io_context();
  long count = 0;
  for (long i = 0; i < n; ++i) {
    co_await asio::post(io, weft::use_task);
    ++count;
  }
  co_return count;
}

struct self_poster {
  asio::io_context* io;
  long left;
  long* count;
  void operator()() {
    ++*count;
    if (--left > 0) {
      asio::post(*io, *this);
    }
  }
};

void register_io_resume(const options& opt) {
  const long n = opt.quick ? 1'000 : 100'000;
  for (unsigned w : opt.threads) {
    add(bench_name("io_resume", "weft", {{"resumes", n}}, w), [=](benchmark::State& state) {
      weft::runtime rt({.workers = w});
      long got = 0;
      for (auto _ : state) {
        got = rt.block_on(post_loop(n));
      }
      verify(state, got, n);
      set_tasks(state, static_cast<double>(n));
    });
  }
  add(bench_name("io_resume", "asio", {{"resumes", n}}, 1), [=](benchmark::State& state) {
    long got = 0;
    for (auto _ : state) {
      asio::io_context io(1);
      got = 0;
      asio::post(io, self_poster{&io, n, &got});
      io.run();
    }
    verify(state, got, n);
    set_tasks(state, static_cast<double>(n));
  });
}

// ---- echo ----

constexpr std::size_t k_message = 64;

// The handler's own work: `steps` dependent multiply-adds, whose result is kept alive by
// an empty asm statement so that the compiler cannot drop the loop.
[[gnu::noinline]] void handler_work(long steps) noexcept {
  std::uint64_t x = static_cast<std::uint64_t>(steps);
  for (long i = 0; i < steps; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  }
  asm volatile("" : : "r"(x));
}

weft::task<void> weft_echo_session(weft::net::tcp_stream s, long work) {
  std::array<char, 4096> buf;
  try {
    for (;;) {
      const std::size_t n = co_await s.read_some(asio::buffer(buf));
      if (n == 0) {
        co_return;
      }
      if (work > 0) {
        handler_work(work);
      }
      co_await s.write_all(asio::buffer(buf.data(), n));
    }
  } catch (const weft::error&) {
  } catch (const weft::io_error&) {
  }
}

weft::task<void> weft_echo_listener(weft::net::tcp_listener& l, long work) {
  for (;;) {
    weft::net::tcp_stream s = co_await l.accept();
    s.set_nodelay(true);
    weft::spawn(weft_echo_session(std::move(s), work)).detach();
  }
}

asio::awaitable<void> asio_echo_session(tcp::socket s, long work) {
  std::array<char, 4096> buf;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), k_no_throw);
    if (ec) {
      co_return;
    }
    if (work > 0) {
      handler_work(work);
    }
    auto [wec, written] = co_await asio::async_write(s, asio::buffer(buf.data(), n), k_no_throw);
    (void)written;
    if (wec) {
      co_return;
    }
  }
}

asio::awaitable<void> asio_echo_listener(tcp::acceptor& a, long work) {
  for (;;) {
    auto [ec, s] = co_await a.async_accept(k_no_throw);
    if (ec) {
      co_return;
    }
    s.set_option(tcp::no_delay(true));
    asio::co_spawn(a.get_executor(), asio_echo_session(std::move(s), work), asio::detached);
  }
}

// The shared client: `connections` sockets, each doing `per_connection` round trips.
asio::awaitable<void> ping_pong(tcp::socket& s, long rounds, std::vector<std::uint32_t>& latencies_ns,
                                long& completed) {
  std::array<char, k_message> out{};
  std::array<char, k_message> in{};
  for (long r = 0; r < rounds; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto [wec, w] = co_await asio::async_write(s, asio::buffer(out), k_no_throw);
    auto [rec, n] = co_await asio::async_read(s, asio::buffer(in), k_no_throw);
    (void)w;
    if (wec || rec || n != k_message) {
      co_return;
    }
    latencies_ns.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
    ++completed;
  }
}

void run_echo(benchmark::State& state, std::uint16_t port, long connections, long per_connection) {
  asio::io_context io(1);
  std::vector<tcp::socket> sockets;
  for (long c = 0; c < connections; ++c) {
    sockets.emplace_back(io).connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    sockets.back().set_option(tcp::no_delay(true));
  }
  std::vector<std::uint32_t> latencies;
  latencies.reserve(static_cast<std::size_t>(connections * per_connection) * 8);
  long completed = 0;
  long expected = 0;
  for (auto _ : state) {
    for (auto& s : sockets) {
      asio::co_spawn(io, ping_pong(s, per_connection, latencies, completed), asio::detached);
    }
    io.restart();
    io.run();
    expected += connections * per_connection;
  }
  verify(state, completed, expected);
  set_tasks(state, static_cast<double>(connections * per_connection));
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    state.counters["p50_us"] = latencies[latencies.size() / 2] / 1000.0;
    state.counters["p99_us"] = latencies[latencies.size() * 99 / 100] / 1000.0;
  }
}

// One echo cell: weft at each worker count, plain Asio on `asio_threads` counts.
void register_echo_cell(const options& opt, const std::vector<std::pair<std::string, long>>& params, long connections, long messages, long work,
                        const std::vector<unsigned>& asio_threads) {
  const long per_connection = messages / connections;
  for (unsigned w : opt.threads) {
    add(bench_name("echo", "weft", params, w), [=](benchmark::State& state) {
      weft::runtime rt({.workers = w});
      auto listener = rt.block_on([]() -> weft::task<weft::net::tcp_listener> {
        co_return weft::net::tcp_listener::bind("127.0.0.1", 0);
      }());
      auto server = weft::spawn(weft_echo_listener(listener, work));
      run_echo(state, listener.local_endpoint().port(), connections, per_connection);
      server.cancel();
      rt.block_on([](weft::join_handle<void> h) -> weft::task<void> {
        try {
          co_await h;
        } catch (const weft::cancelled_error&) {
        }
      }(std::move(server)));
    });
  }
  for (unsigned t : asio_threads) {
    add(bench_name("echo", "asio", params, t), [=](benchmark::State& state) {
      asio::io_context server_io(static_cast<int>(t));
      tcp::acceptor acceptor(server_io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
      asio::co_spawn(server_io, asio_echo_listener(acceptor, work), asio::detached);
      std::vector<std::thread> server_threads;
      for (unsigned i = 0; i < t; ++i) {
        server_threads.emplace_back([&server_io] { server_io.run(); });
      }
      run_echo(state, acceptor.local_endpoint().port(), connections, per_connection);
      server_io.stop();
      for (auto& th : server_threads) {
        th.join();
      }
    });
  }
}

void register_echo(const options& opt) {
  const long messages = opt.quick ? 2'000 : 40'000;
  for (long connections : {1L, 64L}) {
    register_echo_cell(opt, {{"connections", connections}}, connections, messages, 0, {1});
  }
  // About 5 us of handler work per message, on the order of the kernel's cost of a
  // loopback message: with 2 workers the server should get close to twice the messages.
  constexpr long k_work = 5'000;
  register_echo_cell(opt, {{"connections", 64}, {"work", k_work}}, 64, messages / 4, k_work, opt.threads);
}

} // namespace

workload io_resume_workload() {
  return {"io_resume",
          "co_await asio::post(io, weft::use_task) in a loop: completion on the reactor thread, resumption on a "
          "worker (plain Asio twin: a self-posting handler on one thread)",
          register_io_resume};
}

workload echo_workload() {
  return {"echo",
          "64-byte ping-pong over loopback TCP through a weft::net echo server (plain Asio twin: a C++20 Asio "
          "coroutine echo server on one thread, or with work, on as many threads as weft has workers); the same "
          "plain-Asio client drives both; work:N adds N multiply-adds (~1 ns each) of handler work per message",
          register_echo};
}

} // namespace weft::bench
