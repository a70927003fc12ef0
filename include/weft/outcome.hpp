#pragma once
// weft::outcome<T>: a value or an exception, as gather(return_exceptions, ...) returns.

#include "weft/errors.hpp"

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft {

/// Stands for the result of a task<void> where a value is needed (asyncio's None).
struct void_result {
  friend bool operator==(void_result, void_result) noexcept { return true; }
};

/// The value type a combinator gives for a task<T>: T, or void_result for void.
template <class T>
using result_of_t = std::conditional_t<std::is_void_v<T>, void_result, T>;

/// Either the value of a finished task or the exception it ended with.
template <class T>
class outcome {
public:
  using value_type = result_of_t<T>;

  explicit outcome(value_type v) : m_state(std::in_place_index<0>, std::move(v)) {}
  explicit outcome(std::exception_ptr e) : m_state(std::in_place_index<1>, std::move(e)) {}

  [[nodiscard]] bool has_value() const noexcept { return m_state.index() == 0; }
  [[nodiscard]] bool has_exception() const noexcept { return m_state.index() == 1; }

  /// The value. Throws: the stored exception if there is one.
  value_type& value() & {
    if (has_exception()) {
      std::rethrow_exception(std::get<1>(m_state));
    }
    return std::get<0>(m_state);
  }
  value_type&& value() && { return std::move(value()); }

  /// The exception, or null.
  [[nodiscard]] std::exception_ptr exception() const noexcept {
    return has_exception() ? std::get<1>(m_state) : nullptr;
  }

private:
  std::variant<value_type, std::exception_ptr> m_state;
};

} // namespace weft
