#pragma once
// Cancellation of one task (and of the lazy tasks it awaits, which share its state).
//
// A task is one thread of control, so at most one of its suspension points is pending at a
// time: the state has a single callback slot. A suspension point installs a callback that
// can interrupt what it waits for (cancel a timer, cancel a child), and removes it when it
// resumes. request() sets the flag and runs the installed callback, if any.
//
// Protocol (docs/design.md, "Cancellation"):
// - request(): (R1) set the requested flag; (R2) slot -> k_running, runs the callback it took;
//   (R3) slot -> empty.
// - install(cb): (I1) CAS slot empty -> cb; (I2) reads the flag. If I1 comes before R2,
//   R2 takes cb and runs it. If after R3, I1 read R3's release store, so I2 sees R1.
//   Between R2 and R3 the CAS fails. Either way a request is never missed.
// - remove(cb): CAS slot cb -> empty; if a request took cb, wait (briefly) until it has
//   finished running it, so the callback never outlives the awaiter it lives in.
//
// Linked states (gather's children): instead of a callback installed in the parent's slot
// up front (two locked RMWs per gather, a quarter of a small gather's time), each child's
// state points at a cancel_link in the gather. A child's flag check also reads the
// parent's flag through it, and the first child to install a callback of its own hooks
// the link into the parent's slot (once per gather), so a request then reaches the
// children that wait. A gather whose children never wait on anything costs no RMW here.
// A linked state's parent is never linked itself (a gather inside a linked task hooks at
// once instead), so a check is at most one hop.

#include "weft/detail/config.hpp"
#include "weft/source_location.hpp"

#include <atomic>
#include <cstdint>
#include <thread>

namespace weft::detail {

/// How a task was started, for runtime::dump().
enum class start_kind : std::uint8_t { unrecorded, spawned, block_on, gathered, linked };

class cancel_state;

struct cancel_callback {
  void (*fn)(cancel_callback* self) noexcept = nullptr;
};

/// A combinator's hook into its parent's cancellation, reached by its children (see the
/// top of this file). The hook itself (the callback part) requests every child; `fn` is
/// set by the combinator. Protocol of `status` (docs/design.md, "Cancellation"):
/// - idle -> installing -> installed, or -> fired (the parent was cancelled already and
///   the installer ran the hook itself): by the first child that waits (hook_once);
/// - idle or installed -> collecting -> back: by a gather that frees finished children
///   while the hook must not walk them (pause / resume).
/// A child that finds `installing` need not wait: the installer either installs the hook
/// before a request takes the parent's slot, or sees the request and runs the hook.
struct cancel_link : cancel_callback {
  enum : std::uint8_t { k_idle, k_installing, k_installed, k_fired, k_collecting };

  cancel_state* parent = nullptr;
  std::atomic<std::uint8_t> status{k_idle};

  /// For a child about to wait: makes sure a request on the parent will reach it.
  void hook_once() noexcept;
  /// Installs the hook now (a combinator that cannot link its children). The status must
  /// be idle.
  void hook_now() noexcept;
  /// Takes the hook out of the parent while the caller frees children. Returns the status
  /// to give to resume().
  std::uint8_t pause() noexcept;
  void resume(std::uint8_t before) noexcept;
  /// After every child has finished: takes the hook out of the parent if it is there.
  void unhook() noexcept;

private:
  // status is installing or collecting, held by the caller: install, or run the hook if
  // the parent's cancellation was requested already.
  void publish() noexcept;
};

class cancel_state {
public:
  // Always inlined: every suspension point and join checks it, and out of line (g++ left
  // it so once it had the linked test) it cost spawn+join ~2 ns of its ~9. The common
  // case (neither requested nor linked) is one load and one test.
  [[nodiscard, gnu::always_inline]] bool is_requested() const noexcept {
    // acquire: pairs with the acq_rel RMW in request(); a flag read. A linked state
    // reads its parent's flag too (one hop: the parent is not linked).
    const std::uint8_t f = m_flags.load(std::memory_order_acquire);
    if (WEFT_LIKELY(f == 0)) {
      return false;
    }
    return (f & k_requested) != 0 ||
           (m_link->parent->m_flags.load(std::memory_order_acquire) & k_requested) != 0;
  }

  /// True for the state of a gather child linked to its parent (see the top of this file).
  [[nodiscard]] bool linked() const noexcept {
    // relaxed: the bit is written before the task starts, and read by its own thread.
    return (m_flags.load(std::memory_order_relaxed) & k_linked) != 0;
  }

  /// Links this (not yet started) task's state to l: it reads l's parent's flag, and hooks
  /// l into the parent when it first installs a callback. l->parent must not be linked.
  void link_to(cancel_link* l) noexcept {
    m_origin_kind = start_kind::linked;
    m_link = l;
    // relaxed: published with the task itself (deque push, or run on this thread); no
    // other thread writes the flags of a task that has not started.
    m_flags.store(m_flags.load(std::memory_order_relaxed) | k_linked, std::memory_order_relaxed);
  }

  /// Requests cancellation. Returns false if it had already been requested.
  bool request() noexcept {
    // acq_rel: R1; release publishes it to install()'s acquire via the slot operations.
    if ((m_flags.fetch_or(k_requested, std::memory_order_acq_rel) & k_requested) != 0) {
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
    // acquire on failure: we then read the flag, set before R2.
    if (!m_slot.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(cb), std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return false; // a request is running (or, by contract, never: one callback at a time)
    }
    if (linked()) {
      // After I1: a request on the parent that the hook carries to us then finds cb.
      m_link->hook_once();
    }
    if (is_requested()) { // I2
      remove(cb);
      return false;
    }
    return true;
  }

  /// Removes cb; returns once no request can still be running it. True if cb was still
  /// installed, false if a request took it (and has finished running it).
  bool remove(cancel_callback* cb) noexcept {
    std::uintptr_t expected = reinterpret_cast<std::uintptr_t>(cb);
    // acq_rel: pairs with R2/R3; failure means a request took cb.
    if (m_slot.compare_exchange_strong(expected, k_empty, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return true;
    }
    // A request took cb and is running it: wait for R3. The callback only flips flags and
    // cancels an operation, so this wait is short and bounded.
    // acquire: pairs with R3, so everything the callback did is visible.
    while (m_slot.load(std::memory_order_acquire) == k_running) {
      std::this_thread::yield();
    }
    return false;
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
    if (m_origin_kind == start_kind::linked) {
      return m_link->parent->origin();
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
    case start_kind::linked:
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
  // k_requested (R1), and k_linked for a linked state: is_requested() reads one byte.
  static constexpr std::uint8_t k_requested = 1;
  static constexpr std::uint8_t k_linked = 2;
  std::atomic<std::uint8_t> m_flags{0};
public:
  // Not cancellation state: padding lent to the promise that holds this state, which
  // alone writes and reads it (promise_base::claim_frame), so that a small task's frame
  // still fits a 128-byte block. No initialiser: the promise's constructor writes it.
  std::uint8_t lent_byte;

private:
  // Written by set_origin, read only when m_origin_kind says they were: a task is created
  // for every call, so its construction writes the kind here, not four fields. A linked
  // state keeps its link in the file's place (its origin is its parent's).
  union {
    const char* m_origin_file;
    cancel_link* m_link;
  };
  const char* m_origin_function;
};

inline void cancel_link::hook_once() noexcept {
  for (;;) {
    // acquire: pairs with the release stores below, so `installed` or `fired` means the
    // hook is in place or has run.
    std::uint8_t s = status.load(std::memory_order_acquire);
    if (s == k_installed || s == k_fired || s == k_installing) {
      return;
    }
    if (s == k_collecting) {
      // The gather is freeing finished children (a few dozen frames): wait for the hook
      // to be put back, so that a request cannot walk frames being freed.
      std::this_thread::yield();
      continue;
    }
    // acq_rel: one child wins the right to install; acquire on failure re-reads.
    if (status.compare_exchange_weak(s, k_installing, std::memory_order_acq_rel, std::memory_order_acquire)) {
      publish();
      return;
    }
  }
}

inline void cancel_link::hook_now() noexcept {
  // relaxed: nothing else reads the status before the children start (published by the
  // deque push or by running the first child on this thread).
  status.store(k_installing, std::memory_order_relaxed);
  publish();
}

inline void cancel_link::publish() noexcept {
  if (parent->install(this)) {
    // release: a child that sees `installed` sees the hook in the parent's slot.
    status.store(k_installed, std::memory_order_release);
  } else {
    fn(this); // the parent is cancelled already: request every child now
    // release: the requests above happen before a child's `fired` read.
    status.store(k_fired, std::memory_order_release);
  }
}

inline std::uint8_t cancel_link::pause() noexcept {
  for (;;) {
    std::uint8_t s = status.load(std::memory_order_acquire);
    if (s == k_fired) {
      return s; // the hook ran and will not run again: nothing walks the children
    }
    if (s == k_installing) {
      std::this_thread::yield(); // a child is installing: a few instructions
      continue;
    }
    // acq_rel: against hook_once's CAS, so a child either installs before us or waits.
    if (status.compare_exchange_weak(s, k_collecting, std::memory_order_acq_rel, std::memory_order_acquire)) {
      if (s == k_installed && !parent->remove(this)) {
        return k_fired; // a request took the hook and has finished running it
      }
      return s;
    }
  }
}

inline void cancel_link::resume(std::uint8_t before) noexcept {
  switch (before) {
  case k_idle:
    // release: the frames freed meanwhile are gone before a child may install the hook.
    status.store(k_idle, std::memory_order_release);
    break;
  case k_installed:
    publish(); // a request that came meanwhile runs the hook here, now
    break;
  default:
    // release: as above; a hook that ran stays run.
    status.store(k_fired, std::memory_order_release);
    break;
  }
}

inline void cancel_link::unhook() noexcept {
  // acquire: the children's last arrivals ordered their hook_once before this.
  if (status.load(std::memory_order_acquire) == k_installed) {
    parent->remove(this);
  }
  // relaxed: the gather is done; a later await of it is refused before any child runs.
  status.store(k_idle, std::memory_order_relaxed);
}

} // namespace weft::detail
