#pragma once
// Chase-Lev work-stealing deque (Chase & Lev, SPAA 2005) with the memory orders of
// Lê, Pop, Cohen and Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak Memory
// Models" (PPoPP 2013), figure 1.
//
// The owner pushes and pops at the bottom; thieves take from the top. Where the paper
// places a seq_cst fence we use seq_cst operations on the atomics involved instead (the
// store of m_bottom in pop, the loads of m_top and m_bottom in steal), which gives the same
// store->load order on both sides and is understood by ThreadSanitizer.
//
// Invariant: m_top <= m_bottom + 1, and only items in [m_top, m_bottom) are live.
// Invariant: m_top only grows, and only through a successful CAS.
// Rings that the deque grew out of stay alive until the deque dies, because a thief may
// still be reading a slot of one.

#include "weft/detail/config.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace weft::detail {

template <class T>
  requires std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>
class chase_lev_deque {
public:
  explicit chase_lev_deque(std::int64_t initial_capacity = 1024)
      : m_ring(new ring(round_up_pow2(initial_capacity))) {
    m_rings.emplace_back(m_ring.load(std::memory_order_relaxed));
  }
  chase_lev_deque(const chase_lev_deque&) = delete;
  chase_lev_deque& operator=(const chase_lev_deque&) = delete;
  ~chase_lev_deque() = default;

  /// Owner only. Throws std::bad_alloc if the ring must grow and cannot.
  void push(T item) {
    // relaxed: only the owner writes m_bottom.
    const std::int64_t b = m_bottom.load(std::memory_order_relaxed);
    // acquire: pairs with the thieves' successful CAS of m_top, so a slot they freed is
    // not overwritten before they have read it.
    const std::int64_t t = m_top.load(std::memory_order_acquire);
    // relaxed: only the owner writes m_ring.
    ring* r = m_ring.load(std::memory_order_relaxed);
    if (WEFT_UNLIKELY(b - t > r->mask)) {
      r = grow(r, t, b);
    }
    r->put(b, item);
    // release: publishes the slot written above; pairs with the acquire (seq_cst) load of
    // m_bottom in steal().
    m_bottom.store(b + 1, std::memory_order_release);
  }

  /// Owner only. Pushes item_at(0), item_at(1), ..., item_at(n - 1) (the last is the
  /// newest) with one publication of the new bottom, where n pushes would make n. Throws
  /// std::bad_alloc if the ring must grow and cannot; then nothing is pushed.
  template <class ItemAt>
  void push_n(std::int64_t n, ItemAt&& item_at) {
    if (n <= 0) {
      return;
    }
    // relaxed: only the owner writes m_bottom and m_ring.
    const std::int64_t b = m_bottom.load(std::memory_order_relaxed);
    // acquire: as in push(), slots the thieves freed are not overwritten before they read.
    const std::int64_t t = m_top.load(std::memory_order_acquire);
    ring* r = m_ring.load(std::memory_order_relaxed);
    while (WEFT_UNLIKELY(b - t + n > r->mask + 1)) {
      r = grow(r, t, b);
    }
    for (std::int64_t i = 0; i < n; ++i) {
      r->put(b + i, item_at(i));
    }
    // release: publishes every slot written above at once; pairs with the acquire (seq_cst)
    // load of m_bottom in steal(). A thief sees none of them or the whole batch's bottom.
    m_bottom.store(b + n, std::memory_order_release);
  }

  /// Owner only. Takes the newest item; returns false if the deque is empty or a thief
  /// won the race for the last item. Costs one locked instruction when it takes an item.
  bool pop(T& out) noexcept {
    // relaxed: only the owner writes m_bottom and m_ring.
    const std::int64_t b = m_bottom.load(std::memory_order_relaxed);
    ring* r = m_ring.load(std::memory_order_relaxed);
    // relaxed: a lower bound of the real top (top only grows), used to pick a path in
    // claim_newest, which validates it with a seq_cst operation.
    const std::int64_t t = m_top.load(std::memory_order_relaxed);
    if (b - t <= 0) {
      return false; // empty even by the lower bound
    }
    if (!claim_newest(b, t)) {
      return false;
    }
    // The slot is ours now and only the owner writes slots (and the ring): safe to read.
    out = r->get(b - 1);
    return true;
  }

  /// Owner only. Takes the newest item if it is `expected` (a joiner taking back the task
  /// it just spawned); false if the deque is empty, its newest item is another, or a thief
  /// took it. One pass over the indices, where peeking then popping would take two.
  [[gnu::always_inline]] bool pop_if_newest(T expected) noexcept {
    // relaxed: as in pop().
    const std::int64_t b = m_bottom.load(std::memory_order_relaxed);
    ring* r = m_ring.load(std::memory_order_relaxed);
    const std::int64_t t = m_top.load(std::memory_order_relaxed);
    // The slot may hold an item a thief already took (t is only a lower bound); then
    // claim_newest's seq_cst check fails and we report false.
    if (b - t <= 0 || r->get(b - 1) != expected) {
      return false;
    }
    return claim_newest(b, t);
  }

  /// Before any thread but the owner touches the deque: promises that no thread will ever
  /// call steal() (a pool of one worker). The owner's pops then claim items with plain
  /// stores instead of a locked instruction, since there is nobody to race.
  void declare_no_thieves() noexcept { m_no_thieves = true; }

  /// Any thread, unless declare_no_thieves() was called. Takes the oldest item; returns
  /// false if empty or if another thief (or the owner, for the last item) got it first.
  bool steal(T& out) noexcept {
    WEFT_ASSERT(!m_no_thieves);
    // seq_cst: the paper's acquire load plus fence; pairs with the seq_cst store of
    // m_bottom in pop() (see there).
    std::int64_t t = m_top.load(std::memory_order_seq_cst);
    // seq_cst: ordered after the load of m_top; acquire part pairs with the release store
    // of m_bottom in push(), making the slot and m_ring visible.
    const std::int64_t b = m_bottom.load(std::memory_order_seq_cst);
    if (t >= b) {
      return false;
    }
    // acquire: pairs with the release store in grow(), so the copied slots are visible.
    ring* r = m_ring.load(std::memory_order_acquire);
    const T item = r->get(t);
    // seq_cst on success: our claim of slot t, in the same total order as pop()'s CAS;
    // relaxed on failure: we read nothing that we keep.
    if (!m_top.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
      return false;
    }
    out = item;
    return true;
  }

  /// Owner only. How many items push_n can take without growing the ring (a lower bound).
  [[nodiscard]] std::int64_t room() const noexcept {
    // relaxed: only the owner writes m_bottom and m_ring; m_top read relaxed is a lower
    // bound of the real top (it only grows), so the result can only be too small.
    const std::int64_t b = m_bottom.load(std::memory_order_relaxed);
    const std::int64_t t = m_top.load(std::memory_order_relaxed);
    return m_ring.load(std::memory_order_relaxed)->mask + 1 - (b - t);
  }

  /// Any thread. Approximate number of items (exact when no operation is in flight).
  [[nodiscard]] std::int64_t size_approx() const noexcept {
    // acquire on both: a caller that sees a non-empty deque will go on to steal, whose own
    // loads re-validate; the result itself is only a hint.
    const std::int64_t b = m_bottom.load(std::memory_order_acquire);
    const std::int64_t t = m_top.load(std::memory_order_acquire);
    return b > t ? b - t : 0;
  }

  [[nodiscard]] bool empty_approx() const noexcept { return size_approx() == 0; }

private:
  struct ring {
    explicit ring(std::int64_t capacity)
        : mask(capacity - 1), slots(std::make_unique<std::atomic<T>[]>(static_cast<std::size_t>(capacity))) {}
    // relaxed: slot contents are published by the release/acquire pair on m_bottom (push
    // to steal) or by the CAS on m_top (steal to push).
    void put(std::int64_t i, T v) noexcept { slots[static_cast<std::size_t>(i & mask)].store(v, std::memory_order_relaxed); }
    T get(std::int64_t i) const noexcept { return slots[static_cast<std::size_t>(i & mask)].load(std::memory_order_relaxed); }
    std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

  // The owner's claim of the newest item (index b - 1), given b = m_bottom and t, a lower
  // bound of m_top with b - t >= 1. The caller reads the slot (before or after: only the
  // owner writes slots).
  [[gnu::always_inline]] bool claim_newest(std::int64_t b, std::int64_t t) noexcept {
    if (m_no_thieves) {
      // Nobody else moves the indices, so t is exact and the item is ours. relaxed: only
      // the owner reads m_bottom for its value (size_approx readers take a hint).
      m_bottom.store(b - 1, std::memory_order_relaxed);
      return true;
    }
    if (b - t == 1) {
      // One item left: claim it from the top end exactly as a thief would, with one CAS,
      // instead of the paper's store + CAS. Safe because steal() never writes m_bottom,
      // so any caller may use it; if the CAS fails, a thief took the item.
      // seq_cst on success: same total order as the thieves' CAS; relaxed on failure.
      return m_top.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed);
    }
    // Two or more items by the lower bound: the paper's pop.
    const std::int64_t nb = b - 1;
    // seq_cst: the paper's fence. This store must be ordered before the load of m_top
    // below (store->load), against the seq_cst load of m_top then m_bottom in steal():
    // either the thief sees the smaller bottom or we see its larger top.
    m_bottom.store(nb, std::memory_order_seq_cst);
    // seq_cst: second half of the store->load pair above.
    t = m_top.load(std::memory_order_seq_cst);
    if (t > nb) {
      // Thieves emptied it meanwhile. relaxed: restores our own index.
      m_bottom.store(nb + 1, std::memory_order_relaxed);
      return false;
    }
    if (t == nb) {
      // Last item after all: race the thieves for it through m_top.
      // seq_cst on success: orders our claim with the thieves' CAS in one total order;
      // relaxed on failure: we only learn that we lost.
      const bool won = m_top.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                                     std::memory_order_relaxed);
      // relaxed: the deque is empty either way; only the owner reads this next.
      m_bottom.store(nb + 1, std::memory_order_relaxed);
      return won;
    }
    return true;
  }

  static std::int64_t round_up_pow2(std::int64_t n) noexcept {
    std::int64_t c = 2;
    while (c < n) {
      c *= 2;
    }
    return c;
  }

  [[gnu::noinline]] ring* grow(ring* old, std::int64_t t, std::int64_t b) {
    auto bigger = std::make_unique<ring>((old->mask + 1) * 2);
    for (std::int64_t i = t; i < b; ++i) {
      bigger->put(i, old->get(i));
    }
    ring* r = bigger.get();
    m_rings.push_back(std::move(bigger));
    // release: publishes the copied slots; pairs with the acquire load of m_ring in steal().
    m_ring.store(r, std::memory_order_release);
    return r;
  }

  // Thieves' end: written by thieves (CAS) and by the owner's last-item CAS.
  alignas(k_cache_line) std::atomic<std::int64_t> m_top{0};
  // Owner's end: written by the owner only; read by thieves.
  alignas(k_cache_line) std::atomic<std::int64_t> m_bottom{0};
  // Written by the owner only (on growth); read by thieves.
  std::atomic<ring*> m_ring;
  // Set once before the deque is shared (declare_no_thieves); read by the owner only, on
  // the owner's cache line.
  bool m_no_thieves = false;
  // Every ring ever used, so a thief never reads a freed one. Owner only.
  std::vector<std::unique_ptr<ring>> m_rings;
};

} // namespace weft::detail
