#pragma once
// Helpers for the network tests: an echo session, descriptor counting, RLIMIT_NOFILE.

#include <weft/net/tcp_stream.hpp>
#include <weft/task.hpp>

#include <sys/resource.h>

#include <array>
#include <cstddef>
#include <filesystem>

namespace weft::test {

/// Echoes everything until the peer ends the stream.
inline task<void> echo_session(net::tcp_stream stream) {
  std::array<char, 16 * 1024> buf;
  for (;;) {
    const std::size_t n = co_await stream.read_some(asio::buffer(buf));
    if (n == 0) {
      co_return;
    }
    co_await stream.write_all(asio::buffer(buf.data(), n));
  }
}

/// Open descriptors of this process.
inline std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

/// Sets the soft RLIMIT_NOFILE for its lifetime; ok() is false if the hard limit is lower.
class scoped_fd_limit {
public:
  explicit scoped_fd_limit(rlim_t soft) {
    getrlimit(RLIMIT_NOFILE, &m_saved);
    if (soft > m_saved.rlim_max) {
      return;
    }
    rlimit l = m_saved;
    l.rlim_cur = soft;
    m_ok = setrlimit(RLIMIT_NOFILE, &l) == 0;
  }
  scoped_fd_limit(const scoped_fd_limit&) = delete;
  scoped_fd_limit& operator=(const scoped_fd_limit&) = delete;
  ~scoped_fd_limit() { setrlimit(RLIMIT_NOFILE, &m_saved); }
  [[nodiscard]] bool ok() const noexcept { return m_ok; }

private:
  rlimit m_saved{};
  bool m_ok = false;
};

} // namespace weft::test
