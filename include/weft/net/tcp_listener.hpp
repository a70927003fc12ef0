#pragma once
// weft::net::tcp_listener: a listening TCP socket that accepts weft::net::tcp_streams.

#include "weft/net/tcp_stream.hpp"
#include "weft/task.hpp"

#include <asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace weft::net {

struct listen_options {
  /// SO_REUSEPORT: several listeners (processes or runtimes) share the port and the
  /// kernel spreads connections between them.
  bool reuse_port = false;
  /// SO_REUSEADDR (on by default, as servers expect: restart without waiting for
  /// TIME_WAIT).
  bool reuse_address = true;
  int backlog = asio::socket_base::max_listen_connections;
  /// When accept fails for lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
  /// ENOMEM), accept() waits this long and tries again instead of failing.
  std::chrono::milliseconds resource_backoff{50};
};

/// A bound, listening TCP socket.
/// Thread safety: one accept() in flight at a time.
class tcp_listener {
public:
  /// Binds and listens on host:port (port 0: any free port; see local_endpoint()), on the
  /// calling task's runtime (or the thread's current one).
  /// Throws: io_error (address in use, bad address...); no_runtime_error without a runtime.
  [[nodiscard]] static tcp_listener bind(std::string_view host, std::uint16_t port, listen_options options = {});
  [[nodiscard]] static tcp_listener bind(const asio::ip::tcp::endpoint& endpoint, listen_options options = {});

  // Moves take the statistics along (the counter is atomic, so not movable by default).
  // Not while an accept() is in flight, as for any move of a socket.
  tcp_listener(tcp_listener&& other) noexcept
      : m_acceptor(std::move(other.m_acceptor)), m_options(other.m_options),
        m_backoffs(other.resource_backoffs()), m_logged_shortage(other.m_logged_shortage) {}
  tcp_listener& operator=(tcp_listener&& other) noexcept {
    m_acceptor = std::move(other.m_acceptor);
    m_options = other.m_options;
    // relaxed: as resource_backoffs().
    m_backoffs.store(other.resource_backoffs(), std::memory_order_relaxed);
    m_logged_shortage = other.m_logged_shortage;
    return *this;
  }
  ~tcp_listener() = default;

  /// Waits for the next connection.
  /// Out of descriptors or memory: logs once to stderr, waits options.resource_backoff
  /// and tries again, so a server rides out the shortage instead of stopping.
  /// Throws: io_error on other failures; cancelled_error if cancelled while waiting.
  /// Resumes on: a pool worker.
  [[nodiscard]] task<tcp_stream> accept();

  /// Stops listening; a pending accept() ends with cancelled_error or io_error.
  void close() noexcept;
  [[nodiscard]] asio::ip::tcp::endpoint local_endpoint() const;
  [[nodiscard]] asio::ip::tcp::acceptor& acceptor() noexcept { return m_acceptor; }
  /// How many times accept() met a descriptor or memory shortage and backed off. Any
  /// thread, while accept() runs (a TSan run caught a test reading it so).
  [[nodiscard]] std::uint64_t resource_backoffs() const noexcept {
    // relaxed: a statistic; it orders nothing.
    return m_backoffs.load(std::memory_order_relaxed);
  }

private:
  tcp_listener(asio::ip::tcp::acceptor acceptor, listen_options options) noexcept
      : m_acceptor(std::move(acceptor)), m_options(options) {}

  asio::ip::tcp::acceptor m_acceptor;
  listen_options m_options;
  std::atomic<std::uint64_t> m_backoffs{0}; // written by accept() only
  bool m_logged_shortage = false;
};

} // namespace weft::net
