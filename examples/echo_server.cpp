// examples/echo_server: echoes every byte back, one task per connection.
//
//   echo_server [--port P]
//
// Prints the port it listens on; SIGINT or SIGTERM stops it.

#include "fd_limit.hpp"
#include <weft/errors.hpp>
#include <weft/join_handle.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/run.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/use_task.hpp>

#include <asio/signal_set.hpp>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

weft::task<void> echo(weft::net::tcp_stream stream) {
  std::array<char, 16 * 1024> buf;
  try {
    for (;;) {
      const std::size_t n = co_await stream.read_some(asio::buffer(buf));
      if (n == 0) {
        co_return;
      }
      co_await stream.write_all(asio::buffer(buf.data(), n));
    }
  } catch (const weft::io_error&) {
    // the client reset the connection: nothing to do
  }
}

weft::task<void> accept_loop(weft::net::tcp_listener& listener, std::atomic<unsigned long>& accepted) {
  for (;;) {
    weft::net::tcp_stream stream = co_await listener.accept();
    accepted.fetch_add(1, std::memory_order_relaxed);
    weft::spawn(echo(std::move(stream))).detach();
  }
}

weft::task<void> amain(std::uint16_t port) {
  auto listener = weft::net::tcp_listener::bind("127.0.0.1", port);
  std::printf("listening on 127.0.0.1:%u\n", listener.local_endpoint().port());
  std::fflush(stdout);
  std::atomic<unsigned long> accepted{0};
  asio::signal_set signals(weft::runtime::current()->io_context(), SIGINT, SIGTERM);
  auto server = weft::spawn(accept_loop(listener, accepted));
  (void)co_await signals.async_wait(weft::use_task);
  server.cancel();
  try {
    co_await server;
  } catch (const weft::cancelled_error&) {
  }
  std::printf("stopping; accepted %lu connections\n", accepted.load());
}

} // namespace

int main(int argc, char** argv) {
  unsigned long port = 7000;
  if (argc == 3 && std::strcmp(argv[1], "--port") == 0) {
    char* end = nullptr;
    port = std::strtoul(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || port > 65535) {
      argc = 0;
    }
  }
  if (argc != 1 && argc != 3) {
    std::fprintf(stderr, "usage: echo_server [--port P]\n");
    return 2;
  }
  weft_examples::raise_fd_limit();
  try {
    weft::run(amain(static_cast<std::uint16_t>(port)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
