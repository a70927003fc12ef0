#pragma once
// weft::net::udp_socket: datagrams, awaitable.

#include "weft/task.hpp"

#include <asio/buffer.hpp>
#include <asio/ip/udp.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace weft::net {

/// A UDP socket bound to a runtime's reactor. Operations are tried at once on the calling
/// worker and wait for readiness through the reactor only when they must.
/// Throws (every operation): io_error; cancelled_error if cancelled while waiting.
/// Resumes on: a pool worker.
class udp_socket {
public:
  /// Binds to host:port (port 0: any free port) on the current runtime.
  [[nodiscard]] static udp_socket bind(std::string_view host, std::uint16_t port);
  [[nodiscard]] static udp_socket bind(const asio::ip::udp::endpoint& endpoint);

  udp_socket(udp_socket&&) noexcept = default;
  udp_socket& operator=(udp_socket&&) noexcept = default;
  ~udp_socket() = default;

  /// Sends one datagram to destination; returns the bytes sent.
  [[nodiscard]] task<std::size_t> send_to(asio::const_buffer data, asio::ip::udp::endpoint destination);
  /// Receives one datagram: its size (truncated to buffer) and its sender.
  [[nodiscard]] task<std::pair<std::size_t, asio::ip::udp::endpoint>> receive_from(asio::mutable_buffer buffer);

  void close() noexcept;
  [[nodiscard]] asio::ip::udp::endpoint local_endpoint() const;
  [[nodiscard]] asio::ip::udp::socket& socket() noexcept { return m_socket; }

private:
  explicit udp_socket(asio::ip::udp::socket socket) noexcept : m_socket(std::move(socket)) {}
  asio::ip::udp::socket m_socket;
};

} // namespace weft::net
