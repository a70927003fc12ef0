// examples/http_client: the asyncio "dependency chain" with real HTTP: GET a resource,
// then POST its body to another route, while an independent GET runs concurrently.
//
//   http_client PORT [HOST]
//
// Talks to examples/http_server (GET /json, POST /echo, GET /hello).

#include "http/http_fetch.hpp"

#include <weft/gather.hpp>
#include <weft/run.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using weft_examples::http_fetch;
using weft_examples::http_response;

// GET, then POST what it returned: the second request depends on the first.
weft::task<http_response> get_then_post(std::string host, std::uint16_t port) {
  const http_response got = co_await http_fetch(host, port, "GET", "/json");
  co_return co_await http_fetch(host, port, "POST", "/echo", got.body);
}

weft::task<int> amain(std::string host, std::uint16_t port) {
  auto [chained, independent] = co_await weft::gather(get_then_post(host, port), http_fetch(host, port, "GET", "/hello"));
  std::printf("chain: GET /json then POST /echo -> %d %s\n", chained.status, chained.body.c_str());
  std::printf("concurrent: GET /hello -> %d %s\n", independent.status, independent.body.c_str());
  co_return chained.status == 200 && independent.status == 200 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: http_client PORT [HOST]\n");
    return 2;
  }
  char* end = nullptr;
  const unsigned long port = std::strtoul(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || port == 0 || port > 65535) {
    std::fprintf(stderr, "usage: http_client PORT [HOST]\n");
    return 2;
  }
  try {
    return weft::run(amain(argc == 3 ? argv[2] : "127.0.0.1", static_cast<std::uint16_t>(port)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_client: %s\n", e.what());
    return 1;
  }
}
