// weft::net: TCP and UDP over the runtime's reactor.
//
// Every operation first tries the system call on the calling worker (sockets are
// non-blocking) and falls back to waiting for readiness with async_wait through
// weft::use_task, then tries again (a read instead queues an async_read_some, which
// Asio completes when data arrives). A busy connection so never round-trips through the
// reactor, and the data never moves in a reactor handler at all: it only reports
// readiness. docs/design.md, "Network I/O".

#include <weft/net/connect.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/net/udp_socket.hpp>

#include "scheduler.hpp"

#include <weft/detail/current_cancellation.hpp>
#include <weft/detail/worker_context.hpp>
#include <weft/errors.hpp>
#include <weft/runtime.hpp>
#include <weft/sleep.hpp>
#include <weft/use_task.hpp>
#include <weft/yield.hpp>

#include <asio/connect.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>

#include <algorithm>
#include <cerrno>
#include <array>
#include <cstdio>
#include <span>
#include <string>
#include <system_error>

namespace weft::net {

namespace {

asio::io_context& current_io() {
  if (detail::worker_context* w = detail::tl_worker) {
    return detail::io_context_of(*w->sched);
  }
  return runtime::current_or_throw().io_context();
}

bool would_block(const std::error_code& ec) noexcept {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// Where a task is cancelled while its operations keep succeeding at once, it still sees
// the cancellation: each operation checks before it starts.
task<void> check_cancelled(const char* what) {
  if (detail::cancel_state* c = co_await detail::current_cancellation(); c != nullptr && c->is_requested()) {
    throw cancelled_error(std::string(what) + ": task cancelled");
  }
}

[[noreturn]] void throw_io(const std::error_code& ec, const std::string& what) { throw io_error(ec, what); }

void throw_if_stopping(const char* what) {
  detail::worker_context* w = detail::tl_worker;
  // relaxed: a flag, as in use_task.
  if (w != nullptr && w->signals->stopping.load(std::memory_order_relaxed)) {
    throw cancelled_error(std::string(what) + ": runtime is shutting down");
  }
}

asio::ip::address parse_address(std::string_view host, const char* what) {
  std::error_code ec;
  auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) {
    throw_io(ec, std::string(what) + ": bad address '" + std::string(host) + "'");
  }
  return address;
}

// Whether a read should first let the work that is ready run (see tcp_stream::read_some):
// only if other tasks wait (worker::others_waiting), and only while no worker sleeps: then
// the reads wait in the reactor again, whose completions go to whichever worker polls it,
// the sleeper included. The yield itself spreads the connections over the workers (it
// queues in the pool's shared queue when others wait; docs/design.md, "Yield").
bool yield_before_read(detail::worker_context& w) noexcept {
  // relaxed: hints, as on every local push; a stale value costs one EAGAIN or one yield.
  if (w.signals->sleepers.load(std::memory_order_relaxed) != 0 ||
      w.signals->stopping.load(std::memory_order_relaxed)) {
    return false;
  }
  return w.sched->worker_at(w.index).others_waiting();
}

bool is_resource_shortage(const std::error_code& ec) noexcept {
  // Asio reports errno values in its system category; compare the numbers.
  const int v = ec.value();
  return ec.category() == asio::error::get_system_category() &&
         (v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM);
}

} // namespace

// ---- tcp_stream ---------------------------------------------------------------------

tcp_stream::tcp_stream(asio::ip::tcp::socket socket) : m_socket(std::move(socket)) {
  std::error_code ec;
  m_socket.non_blocking(true, ec);
  if (ec) {
    throw_io(ec, "weft::net::tcp_stream: cannot make the socket non-blocking");
  }
}

task<std::size_t> tcp_stream::read_some(asio::mutable_buffer buffer) {
  co_await check_cancelled("weft::net::tcp_stream::read_some");
  if (buffer.size() == 0) {
    co_return 0;
  }
  if (detail::worker_context* w = detail::tl_worker; m_drained && w != nullptr && yield_before_read(*w)) {
    // A request-response peer has rarely answered yet when we read right after writing to
    // it: the try would be an EAGAIN (a wasted system call) and the wait a trip through
    // the reactor. Let the work that is ready run first (the other connections of the
    // reactor's last batch), as Asio's FIFO queue does; by then the answer is usually
    // there and one read takes it.
    co_await yield();
    m_drained = false;
  }
  if (!m_drained) {
    std::error_code ec;
    const std::size_t n = m_socket.read_some(buffer, ec);
    if (!ec) {
      m_drained = n < buffer.size();
      co_return n;
    }
    if (ec == asio::error::eof) {
      co_return 0;
    }
    if (!would_block(ec)) {
      throw_io(ec, "weft::net::tcp_stream::read_some");
    }
  }
  // Nothing yet (or drained last time): let the reactor read when data arrives. An
  // async_read_some is queued on the socket's existing edge-triggered registration (after
  // one more try by Asio), where an async_wait costs an epoll_ctl each time. Asio retries
  // EAGAIN itself.
  auto [wait_ec, got] = co_await m_socket.async_read_some(buffer, asio::experimental::as_tuple(use_task));
  if (!wait_ec) {
    m_drained = got < buffer.size();
    co_return got;
  }
  m_drained = false;
  if (wait_ec == asio::error::eof) {
    co_return 0;
  }
  if (wait_ec == asio::error::operation_aborted) {
    // As use_task reports it: cancelled_error if our task or the runtime cancelled it.
    co_await check_cancelled("weft::net::tcp_stream::read_some");
    throw_if_stopping("weft::net::tcp_stream::read_some");
  }
  throw_io(wait_ec, "weft::net::tcp_stream::read_some");
}

task<void> tcp_stream::read_exact(asio::mutable_buffer buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    const std::size_t n = co_await read_some(buffer + done);
    if (n == 0) {
      throw_io(asio::error::eof, "weft::net::tcp_stream::read_exact: stream ended after " + std::to_string(done) +
                                     " of " + std::to_string(buffer.size()) + " bytes");
    }
    done += n;
  }
}

task<std::size_t> tcp_stream::read_until(std::string& buffer, std::string_view delimiter, std::size_t max_size) {
  if (delimiter.empty()) {
    throw usage_error("weft::net::tcp_stream::read_until: empty delimiter");
  }
  std::size_t search_from = 0;
  for (;;) {
    if (const std::size_t pos = buffer.find(delimiter, search_from); pos != std::string::npos) {
      co_return pos + delimiter.size();
    }
    if (buffer.size() >= max_size) {
      throw_io(std::make_error_code(std::errc::message_size),
               "weft::net::tcp_stream::read_until: no delimiter in " + std::to_string(max_size) + " bytes");
    }
    search_from = buffer.size() >= delimiter.size() ? buffer.size() - delimiter.size() + 1 : 0;
    const std::size_t old_size = buffer.size();
    const std::size_t chunk = std::min<std::size_t>(16 * 1024, max_size - old_size);
    buffer.resize(old_size + chunk);
    std::size_t n = 0;
    try {
      n = co_await read_some(asio::buffer(buffer.data() + old_size, chunk));
    } catch (...) {
      buffer.resize(old_size);
      throw;
    }
    buffer.resize(old_size + n);
    if (n == 0) {
      if (buffer.empty()) {
        co_return 0;
      }
      throw_io(asio::error::eof, "weft::net::tcp_stream::read_until: stream ended inside a message");
    }
  }
}

task<void> tcp_stream::write_all(asio::const_buffer data) { co_await write_all(&data, 1); }

task<void> tcp_stream::write_all(const asio::const_buffer* buffers, std::size_t count) {
  co_await check_cancelled("weft::net::tcp_stream::write_all");
  std::size_t index = 0;  // first buffer not fully written
  std::size_t offset = 0; // bytes of it already written
  while (index < count) {
    // Gather up to 16 buffers into one writev.
    std::array<asio::const_buffer, 16> batch;
    std::size_t used = 0;
    for (std::size_t i = index; i < count && used < batch.size(); ++i) {
      batch[used++] = i == index ? buffers[i] + offset : buffers[i];
    }
    std::error_code ec;
    std::size_t n = m_socket.write_some(std::span<const asio::const_buffer>(batch.data(), used), ec);
    if (ec) {
      if (!would_block(ec)) {
        throw_io(ec, "weft::net::tcp_stream::write_all");
      }
      co_await m_socket.async_wait(asio::socket_base::wait_write, use_task);
      continue;
    }
    while (index < count && n >= buffers[index].size() - offset) {
      n -= buffers[index].size() - offset;
      offset = 0;
      ++index;
    }
    offset += n;
  }
}

void tcp_stream::shutdown(asio::socket_base::shutdown_type what) {
  std::error_code ec;
  m_socket.shutdown(what, ec);
  if (ec && ec != asio::error::not_connected) {
    throw_io(ec, "weft::net::tcp_stream::shutdown");
  }
}

void tcp_stream::close() noexcept {
  std::error_code ec;
  m_socket.close(ec);
}

void tcp_stream::set_nodelay(bool on) {
  std::error_code ec;
  m_socket.set_option(asio::ip::tcp::no_delay(on), ec);
  if (ec) {
    throw_io(ec, "weft::net::tcp_stream::set_nodelay");
  }
}

asio::ip::tcp::endpoint tcp_stream::local_endpoint() const {
  std::error_code ec;
  auto ep = m_socket.local_endpoint(ec);
  if (ec) {
    throw_io(ec, "weft::net::tcp_stream::local_endpoint");
  }
  return ep;
}

asio::ip::tcp::endpoint tcp_stream::remote_endpoint() const {
  std::error_code ec;
  auto ep = m_socket.remote_endpoint(ec);
  if (ec) {
    throw_io(ec, "weft::net::tcp_stream::remote_endpoint");
  }
  return ep;
}

// ---- tcp_listener -------------------------------------------------------------------

tcp_listener tcp_listener::bind(std::string_view host, std::uint16_t port, listen_options options) {
  return bind(asio::ip::tcp::endpoint(parse_address(host, "weft::net::tcp_listener::bind"), port), options);
}

tcp_listener tcp_listener::bind(const asio::ip::tcp::endpoint& endpoint, listen_options options) {
  asio::ip::tcp::acceptor acceptor(current_io());
  const std::string where = "weft::net::tcp_listener::bind " + endpoint.address().to_string() + ":" +
                            std::to_string(endpoint.port());
  std::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) {
    throw_io(ec, where + ": open");
  }
  acceptor.set_option(asio::socket_base::reuse_address(options.reuse_address), ec);
  if (!ec && options.reuse_port) {
    using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    acceptor.set_option(reuse_port(true), ec);
  }
  if (ec) {
    throw_io(ec, where + ": setsockopt");
  }
  acceptor.bind(endpoint, ec);
  if (ec) {
    throw_io(ec, where);
  }
  acceptor.listen(options.backlog, ec);
  if (ec) {
    throw_io(ec, where + ": listen");
  }
  acceptor.non_blocking(true, ec);
  if (ec) {
    throw_io(ec, where + ": non-blocking");
  }
  return tcp_listener(std::move(acceptor), options);
}

task<tcp_stream> tcp_listener::accept() {
  co_await check_cancelled("weft::net::tcp_listener::accept");
  for (;;) {
    std::error_code ec;
    asio::ip::tcp::socket socket = m_acceptor.accept(ec);
    if (!ec) {
      co_return tcp_stream(std::move(socket));
    }
    if (would_block(ec) || ec == asio::error::connection_aborted || ec == std::errc::protocol_error) {
      // Nothing pending, or a connection that died in the backlog: wait for the next.
      co_await m_acceptor.async_wait(asio::socket_base::wait_read, use_task);
      continue;
    }
    if (is_resource_shortage(ec)) {
      detail::worker_counters::bump(m_backoffs); // one writer: accept() runs one at a time
      if (!m_logged_shortage) {
        m_logged_shortage = true;
        std::fprintf(stderr, "weft::net::tcp_listener::accept: %s; backing off and retrying (logged once)\n",
                     ec.message().c_str());
      }
      co_await weft::sleep(m_options.resource_backoff);
      continue;
    }
    throw_io(ec, "weft::net::tcp_listener::accept");
  }
}

void tcp_listener::close() noexcept {
  std::error_code ec;
  m_acceptor.close(ec);
}

asio::ip::tcp::endpoint tcp_listener::local_endpoint() const {
  std::error_code ec;
  auto ep = m_acceptor.local_endpoint(ec);
  if (ec) {
    throw_io(ec, "weft::net::tcp_listener::local_endpoint");
  }
  return ep;
}

// ---- connect ------------------------------------------------------------------------

task<tcp_stream> connect(asio::ip::tcp::endpoint endpoint) {
  co_await check_cancelled("weft::net::connect");
  asio::ip::tcp::socket socket(current_io());
  try {
    co_await socket.async_connect(endpoint, use_task);
  } catch (const io_error& e) {
    throw_io(e.code(), "weft::net::connect " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()));
  }
  co_return tcp_stream(std::move(socket));
}

task<tcp_stream> connect(std::string_view host_view, std::uint16_t port) {
  co_await check_cancelled("weft::net::connect");
  const std::string host(host_view);
  const std::string where = "weft::net::connect " + host + ":" + std::to_string(port);
  std::error_code parse_error;
  const auto address = asio::ip::make_address(host, parse_error);
  if (!parse_error) {
    co_return co_await connect(asio::ip::tcp::endpoint(address, port));
  }
  asio::ip::tcp::resolver resolver(current_io());
  asio::ip::tcp::resolver::results_type endpoints;
  try {
    endpoints = co_await resolver.async_resolve(host, std::to_string(port), use_task);
  } catch (const io_error& e) {
    throw_io(e.code(), where + ": resolve");
  }
  std::error_code last = asio::error::host_not_found;
  for (const auto& entry : endpoints) {
    asio::ip::tcp::socket socket(current_io());
    try {
      co_await socket.async_connect(entry.endpoint(), use_task);
      co_return tcp_stream(std::move(socket));
    } catch (const io_error& e) {
      last = e.code(); // try the next address
    }
  }
  throw_io(last, where);
}

// ---- udp_socket ---------------------------------------------------------------------

udp_socket udp_socket::bind(std::string_view host, std::uint16_t port) {
  return bind(asio::ip::udp::endpoint(parse_address(host, "weft::net::udp_socket::bind"), port));
}

udp_socket udp_socket::bind(const asio::ip::udp::endpoint& endpoint) {
  asio::ip::udp::socket socket(current_io());
  std::error_code ec;
  socket.open(endpoint.protocol(), ec);
  if (!ec) {
    socket.bind(endpoint, ec);
  }
  if (!ec) {
    socket.non_blocking(true, ec);
  }
  if (ec) {
    throw_io(ec, "weft::net::udp_socket::bind " + endpoint.address().to_string() + ":" +
                     std::to_string(endpoint.port()));
  }
  return udp_socket(std::move(socket));
}

task<std::size_t> udp_socket::send_to(asio::const_buffer data, asio::ip::udp::endpoint destination) {
  co_await check_cancelled("weft::net::udp_socket::send_to");
  for (;;) {
    std::error_code ec;
    const std::size_t n = m_socket.send_to(data, destination, 0, ec);
    if (!ec) {
      co_return n;
    }
    if (!would_block(ec)) {
      throw_io(ec, "weft::net::udp_socket::send_to");
    }
    co_await m_socket.async_wait(asio::socket_base::wait_write, use_task);
  }
}

task<std::pair<std::size_t, asio::ip::udp::endpoint>> udp_socket::receive_from(asio::mutable_buffer buffer) {
  co_await check_cancelled("weft::net::udp_socket::receive_from");
  for (;;) {
    std::error_code ec;
    asio::ip::udp::endpoint sender;
    const std::size_t n = m_socket.receive_from(buffer, sender, 0, ec);
    if (!ec) {
      co_return std::pair{n, sender};
    }
    if (!would_block(ec)) {
      throw_io(ec, "weft::net::udp_socket::receive_from");
    }
    co_await m_socket.async_wait(asio::socket_base::wait_read, use_task);
  }
}

void udp_socket::close() noexcept {
  std::error_code ec;
  m_socket.close(ec);
}

asio::ip::udp::endpoint udp_socket::local_endpoint() const {
  std::error_code ec;
  auto ep = m_socket.local_endpoint(ec);
  if (ec) {
    throw_io(ec, "weft::net::udp_socket::local_endpoint");
  }
  return ep;
}

} // namespace weft::net
