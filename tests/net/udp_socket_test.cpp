#include <weft/net/udp_socket.hpp>

#include <weft/join_handle.hpp>
#include <weft/run.hpp>
#include <weft/spawn.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace {

using weft::net::udp_socket;

class UdpSocket : public weft::test::with_workers {};
INSTANTIATE_TEST_SUITE_P(Workers, UdpSocket, weft::test::worker_counts(), weft::test::workers_name);

TEST_P(UdpSocket, DatagramsRoundTripWithTheirSender) {
  auto body = []() -> weft::task<bool> {
    auto server = udp_socket::bind("127.0.0.1", 0);
    auto client = udp_socket::bind("127.0.0.1", 0);
    auto echo = weft::spawn([](udp_socket& s) -> weft::task<void> {
      std::array<char, 256> buf;
      auto [n, from] = co_await s.receive_from(asio::buffer(buf));
      (void)co_await s.send_to(asio::buffer(buf.data(), n), from);
    }(server));
    const std::string msg = "ping";
    (void)co_await client.send_to(asio::buffer(msg), server.local_endpoint());
    std::array<char, 256> buf{};
    auto [n, from] = co_await client.receive_from(asio::buffer(buf));
    co_await echo;
    co_return std::string(buf.data(), n) == msg && from == server.local_endpoint();
  };
  EXPECT_TRUE(weft::run(body(), options()));
}

} // namespace
