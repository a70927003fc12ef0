#pragma once
// Cancellation of one task (and of the lazy tasks it awaits, which share its state).
//
// A task is one thread of control, so at most one of its suspension points is pending at a
// time: the state has a single callback slot. A suspension point installs a callback that
// can interrupt what it waits for (cancel a timer, cancel a child), and removes it when it
// resumes. request() sets the flag and runs the installed callback, if any.
//
// Protocol (docs/design.md, "Cancellation"):
// - request(): (R1) m_requested = true; (R2) slot -> k_running, runs the callback it took;
//   (R3) slot -> empty.
// - install(cb): (I1) CAS slot empty -> cb; (I2) reads m_requested. If I1 comes before R2,
//   R2 takes cb and runs it. If after R3, I1 read R3's release store, so I2 sees R1.
//   Between R2 and R3 the CAS fails. Either way a request is never missed.
// - remove(cb): CAS slot cb -> empty; if a request took cb, wait (briefly) until it has
//   finished running it, so the callback never outlives the awaiter it lives in.

#include "weft/detail/config.hpp"
#include "weft/source_location.hpp"

#include <atomic>
#include <cstdint>
#include <thread>

namespace weft::detail {

/// How a task was started, for runtime::dump().
enum class start_kind : std::uint8_t { unrecorded, spawned, block_on, gathered };

struct cancel_callback {
  void (*fn)(cancel_callback* self) noexcept = nullptr;
};

class cancel_state {
public:
  [[nodiscard]] bool is_requested() const noexcept {
    // acquire: pairs with the acq_rel exchange in request(); a flag read.
    return m_requested.load(std::memory_order_acquire);
  }

  /// Requests cancellation. Returns false if it had already been requested.
  bool request() noexcept {
    // acq_rel: R1; release publishes it to install()'s acquire via the slot operations.
    if (m_requested.exchange(true, std::memory_order_acq_rel)) {
      return false;
    }
    // acq_rel: R2; acquire sees the fields of the callback install() published.
    const std::uintptr_t s = m_slot.exchange(k_running, std::memory_order_acq_rel);
    if (s != k_empty && s != k_running) {
      auto* cb = reinterpret_cast<cancel_callback*>(s);
      cb->fn(cb);
    }
    // release: R3; tells remove() the callback has finished and install() that R1 happened.
    m_slot.store(k_empty, std::memory_order_release);
    return true;
  }

  /// Installs cb. Returns false (and leaves nothing installed) if cancellation was
  /// requested already; the caller then must not suspend on the strength of cb.
  [[nodiscard]] bool install(cancel_callback* cb) noexcept {
    std::uintptr_t expected = k_empty;
    // acq_rel on success: I1; release publishes cb's fields to R2, acquire reads R3.
    // acquire on failure: we then read m_requested, set before R2.
    if (!m_slot.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(cb), std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return false; // a request is running (or, by contract, never: one callback at a time)
    }
    if (is_requested()) { // I2
      remove(cb);
      return false;
    }
    return true;
  }

  /// Removes cb; returns once no request can still be running it.
  void remove(cancel_callback* cb) noexcept {
    std::uintptr_t expected = reinterpret_cast<std::uintptr_t>(cb);
    // acq_rel: pairs with R2/R3; failure means a request took cb.
    if (m_slot.compare_exchange_strong(expected, k_empty, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return;
    }
    // A request took cb and is running it: wait for R3. The callback only flips flags and
    // cancels an operation, so this wait is short and bounded.
    // acquire: pairs with R3, so everything the callback did is visible.
    while (m_slot.load(std::memory_order_acquire) == k_running) {
      std::this_thread::yield();
    }
  }

  /// Where the task that owns this state was started, for runtime::dump(). Written before
  /// the task starts; read (by dump) only while the task is suspended in a registry.
  void set_origin(const weft::source_location& where, start_kind how) noexcept {
    m_origin_file = where.file_name();
    m_origin_function = where.function_name();
    m_origin_line = where.line();
    m_origin_kind = how;
  }
  /// Where the task was started; a default location (line 0) if that was not recorded.
  [[nodiscard]] weft::source_location origin() const noexcept {
    if (m_origin_kind == start_kind::unrecorded) {
      return {};
    }
    return weft::source_location::current(m_origin_file, m_origin_function, m_origin_line);
  }
  /// "spawned", "run by block_on", ...: how the task at origin() was started; "started"
  /// if not recorded.
  [[nodiscard]] const char* origin_kind() const noexcept {
    switch (m_origin_kind) {
    case start_kind::spawned:
      return "spawned";
    case start_kind::block_on:
      return "run by block_on";
    case start_kind::gathered:
      return "gathered by the task started at";
    case start_kind::unrecorded:
      break;
    }
    return "started";
  }

private:
  static constexpr std::uintptr_t k_empty = 0;
  static constexpr std::uintptr_t k_running = 1;

  std::atomic<std::uintptr_t> m_slot{k_empty};
  // The line, the kind and the flag share one word: the state is 32 bytes, so a small
  // task's frame fits a 128-byte block. That word comes before the two pointers so that
  // everything set_origin writes sits in the first 32 bytes (see promise_base's layout).
  unsigned m_origin_line;
  start_kind m_origin_kind = start_kind::unrecorded;
  std::atomic<bool> m_requested{false};
  // Written by set_origin, read only when m_origin_kind says they were: a task is created
  // for every call, so its construction writes the kind here, not four fields.
  const char* m_origin_file;
  const char* m_origin_function;
};

} // namespace weft::detail
