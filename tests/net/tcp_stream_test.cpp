#include <weft/net/tcp_stream.hpp>

#include <weft/event.hpp>
#include <weft/gather.hpp>
#include <weft/join_handle.hpp>
#include <weft/net/connect.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/run.hpp>
#include <weft/runtime.hpp>
#include <weft/sleep.hpp>
#include <weft/spawn.hpp>

#include "net/net_support.hpp"
#include "support.hpp"

#include <asio/error.hpp>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::net::tcp_listener;
using weft::net::tcp_stream;

class TcpStream : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, TcpStream, weft::test::worker_counts(), weft::test::workers_name);

std::uint64_t fnv1a(std::uint64_t h, const char* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ULL;
  }
  return h;
}

// 64 MiB of seeded pseudo-random bytes through an echo server, written in random-sized
// chunks while a second task reads the echo: same bytes, same order.
TEST_P(TcpStream, EchoesSixtyFourMebibytesIntact) {
  const unsigned seed = weft::test::test_seed("TcpStream.EchoesSixtyFourMebibytesIntact");
  auto body = [](unsigned seed) -> weft::task<bool> {
    auto listener = tcp_listener::bind("127.0.0.1", 0);
    auto server = weft::spawn([](tcp_listener& l) -> weft::task<void> {
      co_await weft::test::echo_session(co_await l.accept());
    }(listener));
    tcp_stream client = co_await weft::net::connect("127.0.0.1", listener.local_endpoint().port());
    constexpr std::size_t total = 64u << 20;
    std::uint64_t sent_hash = 14695981039346656037ULL;
    auto reader = weft::spawn([](tcp_stream& s) -> weft::task<std::uint64_t> {
      std::uint64_t h = 14695981039346656037ULL;
      std::vector<char> buf(64 * 1024);
      std::size_t got = 0;
      while (got < total) {
        const std::size_t n = co_await s.read_some(asio::buffer(buf));
        if (n == 0) {
          break;
        }
        h = fnv1a(h, buf.data(), n);
        got += n;
      }
      co_return got == total ? h : 0;
    }(client));
    std::mt19937_64 rng(seed);
    std::vector<char> chunk(256 * 1024);
    for (std::size_t sent = 0; sent < total;) {
      const std::size_t n = std::min<std::size_t>(total - sent, 1 + rng() % chunk.size());
      for (std::size_t i = 0; i < n; ++i) {
        chunk[i] = static_cast<char>(rng());
      }
      sent_hash = fnv1a(sent_hash, chunk.data(), n);
      co_await client.write_all(asio::buffer(chunk.data(), n));
      sent += n;
    }
    const std::uint64_t echoed_hash = co_await reader;
    client.shutdown();
    co_await server;
    co_return echoed_hash == sent_hash;
  };
  EXPECT_TRUE(weft::run(body(seed), options()));
}

TEST_P(TcpStream, EndOfStreamIsAResultForReadSomeAndAnErrorForReadExact) {
  auto body = []() -> weft::task<bool> {
    auto listener = tcp_listener::bind("127.0.0.1", 0);
    auto server = weft::spawn([](tcp_listener& l) -> weft::task<void> {
      tcp_stream s = co_await l.accept();
      co_await s.write_all(asio::buffer(std::string("abc")));
      s.shutdown();
      std::array<char, 8> buf;
      (void)co_await s.read_some(asio::buffer(buf)); // until the client closes
    }(listener));
    tcp_stream client = co_await weft::net::connect("127.0.0.1", listener.local_endpoint().port());
    std::array<char, 8> buf{};
    bool eof_error = false;
    try {
      co_await client.read_exact(asio::buffer(buf.data(), 5)); // only 3 bytes come
    } catch (const weft::io_error& e) {
      eof_error = e.code() == asio::error::eof;
    }
    const std::size_t after = co_await client.read_some(asio::buffer(buf));
    client.close();
    co_await server;
    co_return eof_error && after == 0;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

// After a read that drained the socket, read_some leaves the next try to Asio's
// async_read_some (net.cpp): data that comes later, and end of stream after it, must still
// be seen, and reads after end of stream must keep returning 0 instead of waiting for a
// readiness edge that never comes.
TEST_P(TcpStream, ReadsAfterADrainingReadSeeLaterDataAndEndOfStream) {
  auto body = []() -> weft::task<bool> {
    auto listener = tcp_listener::bind("127.0.0.1", 0);
    auto server = weft::spawn([](tcp_listener& l) -> weft::task<void> {
      tcp_stream s = co_await l.accept();
      co_await s.write_all(asio::buffer(std::string("abc")));
      std::array<char, 1> go{};
      co_await s.read_exact(asio::buffer(go)); // the client now waits in a drained read
      co_await weft::sleep(std::chrono::milliseconds(20));
      co_await s.write_all(asio::buffer(std::string("de")));
      co_await weft::sleep(std::chrono::milliseconds(20));
      s.shutdown();
      std::array<char, 8> buf{};
      (void)co_await s.read_some(asio::buffer(buf)); // until the client closes
    }(listener));
    tcp_stream client = co_await weft::net::connect("127.0.0.1", listener.local_endpoint().port());
    std::array<char, 16> buf{};
    std::size_t got = 0;
    while (got < 3) { // "abc", in one read as a rule: a short read drains the socket
      const std::size_t n = co_await client.read_some(asio::buffer(buf.data() + got, buf.size() - got));
      if (n == 0) {
        co_return false;
      }
      got += n;
    }
    co_await client.write_all(asio::buffer(std::string("g")));
    const std::size_t later = co_await client.read_some(asio::buffer(buf.data() + 3, buf.size() - 3));
    std::size_t rest = later;
    while (rest < 2) { // "de" may come in two pieces
      const std::size_t n = co_await client.read_some(asio::buffer(buf.data() + 3 + rest, buf.size() - 3 - rest));
      if (n == 0) {
        co_return false;
      }
      rest += n;
    }
    const std::size_t at_end = co_await client.read_some(asio::buffer(buf));
    const std::size_t after_end = co_await client.read_some(asio::buffer(buf));
    client.close();
    co_await server;
    co_return std::string(buf.data(), 3) == "abc" && later > 0 && at_end == 0 && after_end == 0;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

std::uint64_t io_waits_so_far() {
  std::uint64_t n = 0;
  for (const weft::worker_stats& w : weft::runtime::current()->stats()) {
    n += w.io_waits;
  }
  return n;
}

// A request-response server reads right after it answers; with other connections ready
// on its worker it serves them first, and then reads the next request at once instead of
// through the reactor (net.cpp, tcp_stream::read_some).
TEST(TcpStreamOneWorker, ADrainedReadLetsReadyTasksRunFirstThenReadsWithoutTheReactor) {
  auto body = []() -> weft::task<void> {
    auto listener = tcp_listener::bind("127.0.0.1", 0);
    auto accepted = weft::spawn([](tcp_listener& l) -> weft::task<tcp_stream> { co_return co_await l.accept(); }(listener));
    tcp_stream client = co_await weft::net::connect("127.0.0.1", listener.local_endpoint().port());
    tcp_stream server = co_await accepted;
    std::array<char, 64> buf{};
    co_await client.write_all(asio::buffer(std::string("abc")));
    std::size_t got = 0;
    while (got < 3) { // a short read: the socket is drained
      got += co_await server.read_some(asio::buffer(buf.data() + got, buf.size() - got));
    }
    co_await client.write_all(asio::buffer(std::string("defg")));
    co_await weft::sleep(20ms); // loopback has delivered it (a timer is no use_task wait)
    std::atomic<bool> other_ran{false};
    auto other = weft::spawn([](std::atomic<bool>& r) -> weft::task<void> {
      r.store(true);
      co_return;
    }(other_ran));
    const std::uint64_t waits_before = io_waits_so_far();
    const std::size_t n = co_await server.read_some(asio::buffer(buf));
    EXPECT_TRUE(other_ran.load());
    EXPECT_EQ(io_waits_so_far(), waits_before);
    EXPECT_EQ(std::string(buf.data(), n), "defg");
    co_await other;
    // With nothing else ready, a drained read waits in the reactor.
    auto late = weft::spawn([](tcp_stream& c) -> weft::task<void> {
      co_await weft::sleep(20ms);
      co_await c.write_all(asio::buffer(std::string("h")));
    }(client));
    const std::size_t m = co_await server.read_some(asio::buffer(buf));
    EXPECT_EQ(std::string(buf.data(), m), "h");
    EXPECT_GE(io_waits_so_far(), waits_before + 1);
    co_await late;
  };
  weft::run(body(), {.workers = 1});
}

TEST_P(TcpStream, ReadUntilSplitsMessagesAndEnforcesItsLimit) {
  auto body = []() -> weft::task<bool> {
    auto listener = tcp_listener::bind("127.0.0.1", 0);
    auto server = weft::spawn([](tcp_listener& l) -> weft::task<void> {
      tcp_stream s = co_await l.accept();
      co_await s.write_all(asio::buffer(std::string("one\r\ntwo\r\n") + std::string(300, 'x')));
      s.shutdown();
    }(listener));
    tcp_stream client = co_await weft::net::connect("127.0.0.1", listener.local_endpoint().port());
    std::string buffer;
    std::size_t n = co_await client.read_until(buffer, "\r\n");
    const std::string first = buffer.substr(0, n);
    buffer.erase(0, n);
    n = co_await client.read_until(buffer, "\r\n");
    const std::string second = buffer.substr(0, n);
    buffer.erase(0, n);
    bool too_long = false;
    try {
      (void)co_await client.read_until(buffer, "\r\n", 100);
    } catch (const weft::io_error& e) {
      too_long = e.code() == std::errc::message_size;
    }
    co_await server;
    co_return first == "one\r\n" && second == "two\r\n" && too_long;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(TcpStream, PeerResetMidReadGivesAnIoError) {
  auto body = []() -> weft::task<bool> {
    auto listener = tcp_listener::bind("127.0.0.1", 0);
    weft::event connected; // the reset must come after the client's connect completed
    auto server = weft::spawn([](tcp_listener& l, weft::event& connected) -> weft::task<void> {
      tcp_stream s = co_await l.accept();
      co_await connected.wait();
      co_await s.write_all(asio::buffer(std::string("partial")));
      s.socket().set_option(asio::socket_base::linger(true, 0)); // close() sends RST
      s.close();
    }(listener, connected));
    tcp_stream client = co_await weft::net::connect("127.0.0.1", listener.local_endpoint().port());
    connected.set();
    co_await server;
    std::array<char, 64> buf{};
    bool io_failed = false;
    try {
      co_await client.read_exact(asio::buffer(buf));
    } catch (const weft::io_error&) {
      io_failed = true;
    }
    co_return io_failed;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(TcpStream, CancellingAPendingReadThrowsCancelled) {
  auto body = []() -> weft::task<bool> {
    auto listener = tcp_listener::bind("127.0.0.1", 0);
    auto accepted = weft::spawn(listener.accept());
    tcp_stream client = co_await weft::net::connect("127.0.0.1", listener.local_endpoint().port());
    tcp_stream peer = co_await accepted; // keeps the connection open, sends nothing
    auto reader = weft::spawn([](tcp_stream& s) -> weft::task<std::size_t> {
      std::array<char, 8> buf;
      co_return co_await s.read_some(asio::buffer(buf));
    }(client));
    co_await weft::sleep(5ms);
    reader.cancel();
    bool cancelled = false;
    try {
      (void)co_await reader;
    } catch (const weft::cancelled_error&) {
      cancelled = true;
    }
    co_return cancelled && peer.is_open();
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST_P(TcpStream, ConnectResolvesNamesAndReportsRefusal) {
  auto body = []() -> weft::task<bool> {
    std::uint16_t port = 0;
    {
      auto listener = tcp_listener::bind("127.0.0.1", 0);
      port = listener.local_endpoint().port();
      auto accepted = weft::spawn(listener.accept());
      tcp_stream by_name = co_await weft::net::connect("localhost", port);
      (void)co_await accepted;
      EXPECT_EQ(by_name.remote_endpoint().port(), port);
    } // the listener closes: the port now refuses
    bool refused = false;
    try {
      (void)co_await weft::net::connect("127.0.0.1", port);
    } catch (const weft::io_error& e) {
      refused = e.code() == asio::error::connection_refused;
      EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
    }
    co_return refused;
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

TEST(TcpListener, BadAddressIsAnIoError) {
  weft::runtime rt({.workers = 1});
  EXPECT_THROW((void)tcp_listener::bind("not-an-address", 0), weft::io_error);
}

} // namespace
