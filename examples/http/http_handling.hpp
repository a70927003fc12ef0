#pragma once
// The HTTP/1.1 request handling shared by examples/http_server (weft) and the plain-Asio
// server in bench/: parsing with libhttp_parser, the routes, and response bytes. No I/O
// here, so both servers do exactly the same work per request.

#include <http_parser.h>

#include <cstddef>
#include <string>

namespace weft_examples {

struct http_limits {
  /// Bytes of one request (request line, headers and body) beyond which it is refused
  /// with 413 and the connection closes.
  std::size_t max_request_bytes = 16 * 1024;
};

/// Parses the requests of one connection, pipelined or not, and writes their responses.
///
/// Routes: GET / and GET /hello give "Hello, World!"; GET /json a small JSON object;
/// POST /echo echoes the body; anything else 404. A malformed request gets 400 and an
/// oversized one 413, and the connection then closes.
class http_connection_handler {
public:
  explicit http_connection_handler(http_limits limits = {});
  http_connection_handler(const http_connection_handler&) = delete;
  http_connection_handler& operator=(const http_connection_handler&) = delete;

  /// Feeds bytes read from the connection; appends the responses of the requests they
  /// complete to out, in order. Returns false when the connection must close once out is
  /// written (an error response, `Connection: close`, HTTP/1.0 without keep-alive).
  bool feed(const char* data, std::size_t size, std::string& out);

  /// Requests answered so far.
  [[nodiscard]] std::size_t requests() const noexcept { return m_requests; }

private:
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, std::size_t n);
  static int on_header(http_parser* p, const char* at, std::size_t n);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t n);
  static int on_message_complete(http_parser* p);

  bool count(std::size_t n) noexcept; // false once the request is too large
  void respond(std::string& out);

  http_limits m_limits;
  http_parser m_parser{};
  http_parser_settings m_settings{};
  std::string* m_out = nullptr;
  std::string m_url;
  std::string m_body;
  std::size_t m_request_bytes = 0;
  std::size_t m_requests = 0;
  bool m_too_large = false;
  bool m_keep_alive = true;
};

/// Appends a complete response.
void append_response(std::string& out, int status, const char* reason, const char* content_type,
                     const std::string& body, bool keep_alive);

} // namespace weft_examples
