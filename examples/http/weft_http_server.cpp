#include "weft_http_server.hpp"

#include <weft/errors.hpp>
#include <weft/join_handle.hpp>
#include <weft/spawn.hpp>
#include <weft/wait.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace weft_examples {

namespace {

using clock = std::chrono::steady_clock;

// What a closing connection reads and drops at most before it closes anyway.
constexpr std::size_t k_linger_bytes = 1024 * 1024;

std::int64_t now_ticks() noexcept { return clock::now().time_since_epoch().count(); }

// Reads requests and writes responses. Owns the stream, so it stays valid if the idle
// watchdog is cancelled first. Notes the time of every read in last_read.
weft::task<void> serve_requests(weft::net::tcp_stream stream, std::shared_ptr<std::atomic<std::int64_t>> last_read,
                                http_server_options options) {
  http_connection_handler handler(options.limits);
  std::array<char, 16 * 1024> in;
  std::string out;
  std::size_t reported = 0; // requests already added to options.requests_served
  for (;;) {
    const std::size_t n = co_await stream.read_some(asio::buffer(in));
    if (n == 0) {
      co_return; // the client closed
    }
    // relaxed: a timestamp the watchdog reads; it needs no ordering with the data.
    last_read->store(now_ticks(), std::memory_order_relaxed);
    const bool keep_open = handler.feed(in.data(), n, out);
    if (!out.empty()) {
      co_await stream.write_all(asio::buffer(out));
      out.clear();
      if (options.requests_served != nullptr) {
        // relaxed: a statistic.
        options.requests_served->fetch_add(handler.requests() - reported, std::memory_order_relaxed);
        reported = handler.requests();
      }
    }
    if (!keep_open) {
      // Lingering close: half-close, then read and drop what the client still sends until
      // it closes (at most k_linger_bytes; the idle watchdog bounds the time, since these
      // reads do not count as activity). Closing with unread data in the socket sends a
      // reset, which can destroy the response before the client has read it: the rest of
      // an oversized request arrives after its 413 (CI saw the 413 lost once).
      stream.shutdown();
      for (std::size_t dropped = 0; dropped < k_linger_bytes;) {
        const std::size_t m = co_await stream.read_some(asio::buffer(in));
        if (m == 0) {
          break;
        }
        dropped += m;
      }
      co_return;
    }
  }
}

} // namespace

weft::task<void> serve_http_connection(weft::net::tcp_stream stream, http_server_options options) {
  auto last_read = std::make_shared<std::atomic<std::int64_t>>(now_ticks());
  std::vector<weft::join_handle<void>> reader;
  reader.push_back(weft::spawn(serve_requests(std::move(stream), last_read, options)));
  // The watchdog sleeps until the connection could have idled out, and only then looks:
  // a busy connection costs one timer per idle period, not one per read.
  for (;;) {
    // relaxed: see serve_requests().
    const clock::time_point idle_at =
        clock::time_point(clock::duration(last_read->load(std::memory_order_relaxed))) + options.idle_timeout;
    auto r = co_await weft::wait(std::move(reader), weft::return_when::all_completed, idle_at - clock::now());
    if (!r.done.empty()) {
      try {
        co_await r.done.front();
      } catch (const weft::io_error&) {
        // a reset or broken connection: nothing to answer
      } catch (const weft::cancelled_error&) {
      }
      co_return;
    }
    reader = std::move(r.pending);
    if (clock::now() >= clock::time_point(clock::duration(last_read->load(std::memory_order_relaxed))) +
                            options.idle_timeout) {
      reader.front().cancel(); // idle: the pending read ends with cancelled_error
      try {
        co_await reader.front();
      } catch (const weft::cancelled_error&) {
      } catch (const weft::io_error&) {
      }
      co_return;
    }
  }
}

weft::task<void> serve_http(weft::net::tcp_listener& listener, http_server_options options) {
  for (;;) {
    weft::net::tcp_stream stream = co_await listener.accept();
    try {
      stream.set_nodelay(true);
    } catch (const weft::io_error&) {
      continue; // the peer is already gone
    }
    weft::spawn(serve_http_connection(std::move(stream), options)).detach();
  }
}

} // namespace weft_examples
