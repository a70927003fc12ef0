#include "http_handling.hpp"

#include <climits>
#include <string>

namespace weft_examples {

namespace {
constexpr char k_hello[] = "Hello, World!";
constexpr char k_json[] = R"({"message":"Hello, World!"})";
} // namespace

http_connection_handler::http_connection_handler(http_limits limits) : m_limits(limits) {
  http_parser_init(&m_parser, HTTP_REQUEST);
  m_parser.data = this;
  http_parser_settings_init(&m_settings);
  m_settings.on_message_begin = &on_message_begin;
  m_settings.on_url = &on_url;
  m_settings.on_header_field = &on_header;
  m_settings.on_header_value = &on_header;
  m_settings.on_headers_complete = &on_headers_complete;
  m_settings.on_body = &on_body;
  m_settings.on_message_complete = &on_message_complete;
}

bool http_connection_handler::feed(const char* data, std::size_t size, std::string& out) {
  m_out = &out;
  const std::size_t parsed = http_parser_execute(&m_parser, &m_settings, data, size);
  m_out = nullptr;
  if (m_too_large) {
    append_response(out, 413, "Payload Too Large", "text/plain", "request too large\n", false);
    return false;
  }
  if (HTTP_PARSER_ERRNO(&m_parser) != HPE_OK || parsed != size) {
    append_response(out, 400, "Bad Request", "text/plain",
                    std::string(http_errno_description(HTTP_PARSER_ERRNO(&m_parser))) + "\n", false);
    return false;
  }
  return m_keep_alive;
}

bool http_connection_handler::count(std::size_t n) noexcept {
  m_request_bytes += n;
  if (m_request_bytes > m_limits.max_request_bytes) {
    m_too_large = true;
    return false;
  }
  return true;
}

int http_connection_handler::on_message_begin(http_parser* p) {
  auto* self = static_cast<http_connection_handler*>(p->data);
  self->m_url.clear();
  self->m_body.clear();
  self->m_request_bytes = 0;
  return 0;
}

int http_connection_handler::on_url(http_parser* p, const char* at, std::size_t n) {
  auto* self = static_cast<http_connection_handler*>(p->data);
  if (!self->count(n)) {
    return 1;
  }
  self->m_url.append(at, n);
  return 0;
}

int http_connection_handler::on_header(http_parser* p, const char*, std::size_t n) {
  auto* self = static_cast<http_connection_handler*>(p->data);
  return self->count(n) ? 0 : 1;
}

int http_connection_handler::on_headers_complete(http_parser* p) {
  auto* self = static_cast<http_connection_handler*>(p->data);
  // A declared body that cannot fit is refused before it arrives.
  if (p->content_length != ULLONG_MAX && p->content_length > self->m_limits.max_request_bytes) {
    self->m_too_large = true;
    return -1; // abort parsing (1 would mean "no body")
  }
  return 0;
}

int http_connection_handler::on_body(http_parser* p, const char* at, std::size_t n) {
  auto* self = static_cast<http_connection_handler*>(p->data);
  if (!self->count(n)) {
    return 1;
  }
  self->m_body.append(at, n);
  return 0;
}

int http_connection_handler::on_message_complete(http_parser* p) {
  auto* self = static_cast<http_connection_handler*>(p->data);
  self->m_keep_alive = http_should_keep_alive(p) != 0;
  self->respond(*self->m_out);
  ++self->m_requests;
  return 0;
}

void http_connection_handler::respond(std::string& out) {
  const auto method = static_cast<http_method>(m_parser.method);
  if (method == HTTP_GET && (m_url == "/" || m_url == "/hello")) {
    append_response(out, 200, "OK", "text/plain", k_hello, m_keep_alive);
  } else if (method == HTTP_GET && m_url == "/json") {
    append_response(out, 200, "OK", "application/json", k_json, m_keep_alive);
  } else if (method == HTTP_POST && m_url == "/echo") {
    append_response(out, 200, "OK", "application/octet-stream", m_body, m_keep_alive);
  } else {
    append_response(out, 404, "Not Found", "text/plain", "not found\n", m_keep_alive);
  }
}

void append_response(std::string& out, int status, const char* reason, const char* content_type,
                     const std::string& body, bool keep_alive) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason;
  out += "\r\nServer: weft-example\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  out += body;
}

} // namespace weft_examples
