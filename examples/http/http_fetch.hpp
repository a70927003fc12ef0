#pragma once
// A minimal HTTP/1.1 client for the examples: one request per connection.

#include <weft/task.hpp>

#include <cstdint>
#include <string>

namespace weft_examples {

struct http_response {
  int status = 0;
  std::string body;
};

/// Sends one request (with `Connection: close`) and reads the whole response, parsed with
/// libhttp_parser. Throws: weft::io_error on connection failures or a malformed response.
weft::task<http_response> http_fetch(std::string host, std::uint16_t port, std::string method, std::string path,
                                     std::string body = {});

} // namespace weft_examples
