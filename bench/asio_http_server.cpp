// The plain-Asio baseline for the HTTP benchmark: the same handling as examples/
// http_server (examples/http/http_handling.cpp: the same parser, routes and responses,
// the same lazily re-armed idle watchdog per connection), written with C++20 Asio
// coroutines on one io_context run by --threads threads (a strand per connection).
//
//   asio_http_server [--port P] [--threads N] [--idle-ms M]
//
// Prints the port it listens on; SIGINT or SIGTERM stops it.

#include "http/http_handling.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto k_no_throw = asio::experimental::as_tuple(asio::use_awaitable);

struct connection {
  explicit connection(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  tcp::socket socket;
  asio::steady_timer timer;
  clock_type::time_point last_read = clock_type::now();
  bool finished = false;
};

asio::awaitable<void> watchdog(std::shared_ptr<connection> c, std::chrono::milliseconds idle) {
  while (!c->finished) {
    c->timer.expires_at(c->last_read + idle);
    (void)co_await c->timer.async_wait(k_no_throw);
    if (!c->finished && clock_type::now() >= c->last_read + idle) {
      std::error_code ec;
      c->socket.close(ec); // idle: the pending read ends
      co_return;
    }
  }
}

asio::awaitable<void> session(std::shared_ptr<connection> c, std::chrono::milliseconds idle) {
  asio::co_spawn(c->socket.get_executor(), watchdog(c, idle), asio::detached);
  weft_examples::http_connection_handler handler;
  std::array<char, 16 * 1024> in;
  std::string out;
  for (;;) {
    auto [ec, n] = co_await c->socket.async_read_some(asio::buffer(in), k_no_throw);
    if (ec || n == 0) {
      break;
    }
    c->last_read = clock_type::now();
    const bool keep_open = handler.feed(in.data(), n, out);
    if (!out.empty()) {
      auto [wec, written] = co_await asio::async_write(c->socket, asio::buffer(out), k_no_throw);
      (void)written;
      out.clear();
      if (wec) {
        break;
      }
    }
    if (!keep_open) {
      std::error_code ignored;
      c->socket.shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
  }
  c->finished = true;
  c->timer.cancel();
}

asio::awaitable<void> listener(asio::io_context& io, tcp::acceptor& acceptor, std::chrono::milliseconds idle) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), k_no_throw);
    if (ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(socket.get_executor(), session(std::make_shared<connection>(std::move(socket)), idle),
                   asio::detached);
  }
}

} // namespace

int main(int argc, char** argv) {
  unsigned long port = 8081;
  unsigned long threads = 1;
  unsigned long idle_ms = 10'000;
  for (int i = 1; i < argc; ++i) {
    unsigned long* target = nullptr;
    if (std::strcmp(argv[i], "--port") == 0) {
      target = &port;
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      target = &threads;
    } else if (std::strcmp(argv[i], "--idle-ms") == 0) {
      target = &idle_ms;
    }
    char* end = nullptr;
    if (target == nullptr || i + 1 >= argc || (*target = std::strtoul(argv[++i], &end, 10), *end != '\0') ||
        port > 65535 || threads == 0 || threads > 256) {
      std::fprintf(stderr, "usage: asio_http_server [--port P] [--threads N] [--idle-ms M]\n");
      return 2;
    }
  }
  asio::io_context io(static_cast<int>(threads));
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)));
  std::printf("listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::co_spawn(io, listener(io, acceptor, std::chrono::milliseconds(idle_ms)), asio::detached);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code&, int) { io.stop(); });
  std::vector<std::thread> pool;
  for (unsigned long t = 1; t < threads; ++t) {
    pool.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (auto& t : pool) {
    t.join();
  }
  std::printf("stopping\n");
  return 0;
}
