#pragma once
// weft::source_location: where a task was started, for runtime::dump(). Not
// std::source_location: clang 14 with libstdc++ 12 (Debian 12's pair) lacks the builtin
// that std::source_location needs. The builtins used here exist in both compilers and, as
// default arguments, take the caller's position, so a defaulted
// `weft::source_location where = weft::source_location::current()` records the call site.

namespace weft {

class source_location {
public:
  constexpr source_location() noexcept = default;

  [[nodiscard]] static constexpr source_location current(const char* file = __builtin_FILE(),
                                                         const char* function = __builtin_FUNCTION(),
                                                         unsigned line = __builtin_LINE()) noexcept {
    source_location at;
    at.m_file = file;
    at.m_function = function;
    at.m_line = line;
    return at;
  }

  [[nodiscard]] constexpr const char* file_name() const noexcept { return m_file; }
  [[nodiscard]] constexpr const char* function_name() const noexcept { return m_function; }
  /// 0 for a default-constructed location (nothing recorded).
  [[nodiscard]] constexpr unsigned line() const noexcept { return m_line; }

private:
  const char* m_file = "";
  const char* m_function = "";
  unsigned m_line = 0;
};

} // namespace weft
