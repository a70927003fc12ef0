#pragma once
// weft::net::tcp_stream: a connected TCP socket with awaitable whole-buffer operations.

#include "weft/task.hpp"

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace weft::net {

/// A connected TCP socket bound to a runtime's reactor.
///
/// Reads and writes are tried at once on the calling worker (the socket is non-blocking)
/// and only wait for readiness through the reactor when the kernel has nothing to give or
/// no room, so a busy connection costs no trip through the reactor.
/// Throws (every operation): io_error carrying the error code and the operation's name;
/// cancelled_error when the task is cancelled while the operation waits.
/// Thread safety: one read and one write may be in flight at a time, from different
/// tasks; not two reads or two writes.
/// Resumes on: a pool worker.
class tcp_stream {
public:
  /// Takes over a connected socket (made non-blocking).
  /// Throws: io_error if the socket cannot be made non-blocking.
  explicit tcp_stream(asio::ip::tcp::socket socket);
  tcp_stream(tcp_stream&&) noexcept = default;
  tcp_stream& operator=(tcp_stream&&) noexcept = default;
  tcp_stream(const tcp_stream&) = delete;
  tcp_stream& operator=(const tcp_stream&) = delete;
  ~tcp_stream() = default; // closes the socket

  /// Reads what is available, at least one byte. Returns 0 at end of stream (and for an
  /// empty buffer), like asyncio's read() returning b"".
  [[nodiscard]] task<std::size_t> read_some(asio::mutable_buffer buffer);
  /// Fills buffer entirely. Throws: io_error with asio::error::eof if the stream ends
  /// first (asyncio: readexactly's IncompleteReadError).
  [[nodiscard]] task<void> read_exact(asio::mutable_buffer buffer);
  /// Reads into buffer (which keeps any bytes left over from the previous call) until it
  /// holds delimiter; returns the length up to and including it, which the caller consumes
  /// (buffer.erase(0, n)). Returns 0 if the stream ends with buffer empty.
  /// Throws: io_error with asio::error::eof if the stream ends inside a message, and with
  /// std::errc::message_size if max_size bytes hold no delimiter (asyncio: readuntil's
  /// IncompleteReadError / LimitOverrunError).
  [[nodiscard]] task<std::size_t> read_until(std::string& buffer, std::string_view delimiter,
                                             std::size_t max_size = 64 * 1024);
  /// Writes all of data.
  [[nodiscard]] task<void> write_all(asio::const_buffer data);
  /// Writes all of several buffers, in order, gathering them into as few calls as it can.
  [[nodiscard]] task<void> write_all(const asio::const_buffer* buffers, std::size_t count);

  /// Shuts down one or both directions (default: sending, which the peer reads as EOF).
  /// Throws: io_error.
  void shutdown(asio::socket_base::shutdown_type what = asio::socket_base::shutdown_send);
  /// Closes the socket; pending operations end with cancelled_error or io_error.
  void close() noexcept;
  /// Disables Nagle's algorithm (TCP_NODELAY). Throws: io_error.
  void set_nodelay(bool on);

  [[nodiscard]] bool is_open() const noexcept { return m_socket.is_open(); }
  [[nodiscard]] asio::ip::tcp::endpoint local_endpoint() const;
  [[nodiscard]] asio::ip::tcp::endpoint remote_endpoint() const;
  [[nodiscard]] asio::ip::tcp::socket& socket() noexcept { return m_socket; }

private:
  asio::ip::tcp::socket m_socket;
  // The last read returned data but less than it asked for: the socket was drained then,
  // so the next read skips its own first try (an EAGAIN, as a rule) and goes straight to
  // async_read_some, which tries once itself. Never set after end of stream: Asio stops
  // trying speculatively once it has read EOF, and that EOF gives no new readiness edge.
  // When other work is ready and no worker sleeps, the next read instead lets that work
  // run first and then tries itself (docs/design.md, "Reactor").
  bool m_drained = false;
};

} // namespace weft::net
