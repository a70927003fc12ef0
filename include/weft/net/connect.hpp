#pragma once
// weft::net::connect (asyncio.open_connection): resolve a name and connect to it.

#include "weft/net/tcp_stream.hpp"
#include "weft/task.hpp"

#include <asio/ip/tcp.hpp>

#include <cstdint>
#include <string_view>

namespace weft::net {

/// Resolves host (a name or an address) and connects to the first of its addresses that
/// accepts, on the calling task's runtime.
/// Throws: io_error (name not found, connection refused...; the message names host:port);
/// cancelled_error if cancelled (the resolution itself is not interruptible in Asio; a
/// cancelled connect attempt is).
/// Resumes on: a pool worker.
[[nodiscard]] task<tcp_stream> connect(std::string_view host, std::uint16_t port);
/// Connects to endpoint.
[[nodiscard]] task<tcp_stream> connect(asio::ip::tcp::endpoint endpoint);

} // namespace weft::net
