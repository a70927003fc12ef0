#pragma once
// Storage for a task's outcome: nothing yet, a value, or an exception.

#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace weft::detail {

template <class T>
class task_result {
  // A reference result is kept as a pointer.
  using stored = std::conditional_t<std::is_reference_v<T>, std::remove_reference_t<T>*, T>;

public:
  task_result() noexcept {}
  task_result(const task_result&) = delete;
  task_result& operator=(const task_result&) = delete;
  ~task_result() { reset(); }

  template <class U>
  void set_value(U&& v) noexcept(std::is_nothrow_constructible_v<stored, U&&> || std::is_reference_v<T>) {
    if constexpr (std::is_reference_v<T>) {
      std::construct_at(&m_value, std::addressof(v));
    } else {
      std::construct_at(&m_value, std::forward<U>(v));
    }
    m_kind = kind::value;
  }

  void set_exception(std::exception_ptr e) noexcept {
    std::construct_at(&m_exception, std::move(e));
    m_kind = kind::exception;
  }

  [[nodiscard]] bool has_exception() const noexcept { return m_kind == kind::exception; }
  [[nodiscard]] std::exception_ptr exception() const noexcept {
    return m_kind == kind::exception ? m_exception : nullptr;
  }

  /// Moves the value out, or rethrows the stored exception.
  T take() {
    if (m_kind == kind::exception) {
      std::rethrow_exception(m_exception);
    }
    if constexpr (std::is_reference_v<T>) {
      return static_cast<T>(*m_value);
    } else {
      return std::move(m_value);
    }
  }

private:
  enum class kind : unsigned char { empty, value, exception };

  void reset() noexcept {
    if (m_kind == kind::value) {
      std::destroy_at(&m_value);
    } else if (m_kind == kind::exception) {
      std::destroy_at(&m_exception);
    }
    m_kind = kind::empty;
  }

  union {
    stored m_value;
    std::exception_ptr m_exception;
  };
  kind m_kind = kind::empty;
};

template <>
class task_result<void> {
public:
  void set_value() noexcept {}
  void set_exception(std::exception_ptr e) noexcept { m_exception = std::move(e); }
  [[nodiscard]] bool has_exception() const noexcept { return m_exception != nullptr; }
  [[nodiscard]] std::exception_ptr exception() const noexcept { return m_exception; }
  void take() {
    if (m_exception) {
      std::rethrow_exception(m_exception);
    }
  }

private:
  std::exception_ptr m_exception;
};

} // namespace weft::detail
