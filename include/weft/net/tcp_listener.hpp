#pragma once
// weft::net::tcp_listener: a listening TCP socket that accepts weft::net::tcp_streams.

#include "weft/net/tcp_stream.hpp"
#include "weft/task.hpp"

#include <asio/ip/tcp.hpp>

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

  tcp_listener(tcp_listener&&) noexcept = default;
  tcp_listener& operator=(tcp_listener&&) noexcept = default;
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
  /// How many times accept() met a descriptor or memory shortage and backed off.
  [[nodiscard]] std::uint64_t resource_backoffs() const noexcept { return m_backoffs; }

private:
  tcp_listener(asio::ip::tcp::acceptor acceptor, listen_options options) noexcept
      : m_acceptor(std::move(acceptor)), m_options(options) {}

  asio::ip::tcp::acceptor m_acceptor;
  listen_options m_options;
  std::uint64_t m_backoffs = 0;
  bool m_logged_shortage = false;
};

} // namespace weft::net
