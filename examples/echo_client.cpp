// examples/echo_client: opens C connections to an echo server at once and sends M
// messages on each, checking every echo.
//
//   echo_client --port P [--connections C] [--messages M]

#include "fd_limit.hpp"

#include <weft/gather.hpp>
#include <weft/net/connect.hpp>
#include <weft/run.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

weft::task<int> client(std::uint16_t port, unsigned long id, unsigned long messages) {
  weft::net::tcp_stream stream = co_await weft::net::connect("127.0.0.1", port);
  std::string back;
  for (unsigned long m = 0; m < messages; ++m) {
    const std::string msg = "connection " + std::to_string(id) + " message " + std::to_string(m) + "\n";
    co_await stream.write_all(asio::buffer(msg));
    back.resize(msg.size());
    co_await stream.read_exact(asio::buffer(back));
    if (back != msg) {
      co_return 0;
    }
  }
  co_return 1;
}

weft::task<int> amain(std::uint16_t port, unsigned long connections, unsigned long messages) {
  std::vector<weft::task<int>> clients;
  for (unsigned long i = 0; i < connections; ++i) {
    clients.push_back(client(port, i, messages));
  }
  const std::vector<int> ok = co_await weft::gather(std::move(clients));
  unsigned long good = 0;
  for (int b : ok) {
    good += b != 0 ? 1 : 0;
  }
  std::printf("%lu connections, %lu messages each, all echoed: %s\n", connections, messages,
              good == connections ? "yes" : "no");
  co_return good == connections ? 0 : 1;
}

bool parse(const char* s, unsigned long& out, unsigned long max) {
  char* end = nullptr;
  out = std::strtoul(s, &end, 10);
  return end != s && *end == '\0' && out <= max;
}

} // namespace

int main(int argc, char** argv) {
  unsigned long port = 0;
  unsigned long connections = 10;
  unsigned long messages = 10;
  for (int i = 1; i < argc; ++i) {
    unsigned long* target = nullptr;
    unsigned long max = 100'000;
    if (std::strcmp(argv[i], "--port") == 0) {
      target = &port;
      max = 65535;
    } else if (std::strcmp(argv[i], "--connections") == 0) {
      target = &connections;
    } else if (std::strcmp(argv[i], "--messages") == 0) {
      target = &messages;
    }
    if (target == nullptr || i + 1 >= argc || !parse(argv[++i], *target, max)) {
      port = 0;
      break;
    }
  }
  if (port == 0) {
    std::fprintf(stderr, "usage: echo_client --port P [--connections C] [--messages M]\n");
    return 2;
  }
  weft_examples::raise_fd_limit(); // many connections need many descriptors
  try {
    return weft::run(amain(static_cast<std::uint16_t>(port), connections, messages));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_client: %s\n", e.what());
    return 1;
  }
}
