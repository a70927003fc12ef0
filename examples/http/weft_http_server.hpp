#pragma once
// The weft HTTP server of examples/http_server, as functions the example, its tests and
// the benchmarks share.

#include "http_handling.hpp"

#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/task.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace weft_examples {

struct http_server_options {
  http_limits limits;
  /// A connection that sends nothing for this long is closed.
  std::chrono::milliseconds idle_timeout{10'000};
  /// Counts the requests answered (may be null).
  std::atomic<std::uint64_t>* requests_served = nullptr;
};

/// Serves one connection until the peer closes it, it idles out, or a request is refused.
weft::task<void> serve_http_connection(weft::net::tcp_stream stream, http_server_options options);

/// Accepts connections and serves each on its own task until the listener is closed or
/// the task is cancelled.
weft::task<void> serve_http(weft::net::tcp_listener& listener, http_server_options options);

} // namespace weft_examples
