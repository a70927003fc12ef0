#include "http_fetch.hpp"

#include <weft/errors.hpp>
#include <weft/net/connect.hpp>

#include <asio/error.hpp>
#include <http_parser.h>

#include <array>
#include <system_error>

namespace weft_examples {

namespace {

struct response_parser {
  http_response response;
  bool complete = false;
};

int on_body(http_parser* p, const char* at, std::size_t n) {
  static_cast<response_parser*>(p->data)->response.body.append(at, n);
  return 0;
}

int on_complete(http_parser* p) {
  auto* r = static_cast<response_parser*>(p->data);
  r->response.status = static_cast<int>(p->status_code);
  r->complete = true;
  return 0;
}

} // namespace

weft::task<http_response> http_fetch(std::string host, std::uint16_t port, std::string method, std::string path,
                                     std::string body) {
  weft::net::tcp_stream stream = co_await weft::net::connect(host, port);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  co_await stream.write_all(asio::buffer(request));

  response_parser state;
  http_parser parser;
  http_parser_init(&parser, HTTP_RESPONSE);
  parser.data = &state;
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_body = &on_body;
  settings.on_message_complete = &on_complete;
  std::array<char, 16 * 1024> buf;
  while (!state.complete) {
    const std::size_t n = co_await stream.read_some(asio::buffer(buf));
    http_parser_execute(&parser, &settings, buf.data(), n); // n == 0 signals the end
    if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
      throw weft::io_error(std::make_error_code(std::errc::bad_message),
                           std::string("http_fetch: malformed response: ") +
                               http_errno_description(HTTP_PARSER_ERRNO(&parser)));
    }
    if (n == 0 && !state.complete) {
      throw weft::io_error(asio::error::eof, "http_fetch: connection closed before the response ended");
    }
  }
  co_return std::move(state.response);
}

} // namespace weft_examples
