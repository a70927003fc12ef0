#pragma once
// Work-stealing deque split in two (after Lace: van Dijk and van de Pol, "Lace: non-blocking
// split deque for work-stealing", Euro-Par 2014 workshops): the oldest items, [top, split),
// are shared and thieves take them from the top as in a Chase-Lev deque; the newest,
// [split, tail), are the owner's alone, so the owner pushes and pops them with plain loads
// and stores: no locked instruction and no store-load fence, which a Chase-Lev pop pays on
// every take-back of a task just spawned.
//
// Thieves cannot see private items; the owner shares them:
// - when a push finds the shared part empty (so a worker woken for the push finds work),
//   it shares the older half of the private items, rounded up (at least the new one);
// - when a thief finds the shared part empty, it raises m_share_wanted; the owner answers
//   at its next push or pop by sharing the older half of its private items (a request it
//   cannot answer yet, holding none or one, stays raised);
// - a push never leaves more than m_max_private items private (older ones are shared);
// - push_n_shared (work from outside: injected or reactor batches) shares everything.
// So at most m_max_private items wait for the owner's next deque operation (the scheduler
// pops once per task, a join or an await pops too): only while the owner runs one long
// stretch of code without any, and only items no thief asked for while they were pushed.
// The shared part behaves as a Chase-Lev deque whose bottom is `split`,
// with the memory orders of Lê, Pop, Cohen and Zappa Nardelli (PPoPP 2013, figure 1); the
// owner only pays that protocol's seq_cst store-load pair when it takes a shared item back.
// Where the paper places a seq_cst fence we use seq_cst operations on the atomics involved
// (TSan understands those).
//
// Invariants: top <= split + 1 and split <= tail; items in [top, tail) are live.
// top only grows, and only through a successful CAS. Only the owner writes split, tail,
// slots and the ring. split only shrinks in the shared pop (the Chase-Lev protocol).
// Rings that the deque grew out of stay alive until the deque dies, because a thief may
// still be reading a slot of one.

#include "weft/detail/config.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace weft::detail {

template <class T>
  requires std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>
class split_deque {
public:
  /// The default of set_private_limit: a fan-out of up to this many children is spawned
  /// and taken back without a locked instruction.
  static constexpr std::int64_t k_default_private = 32;

  explicit split_deque(std::int64_t initial_capacity = 1024)
      : m_ring(new ring(round_up_pow2(initial_capacity))) {
    m_rings.emplace_back(m_ring.load(std::memory_order_relaxed));
  }
  split_deque(const split_deque&) = delete;
  split_deque& operator=(const split_deque&) = delete;
  ~split_deque() = default;

  /// Owner only. Throws std::bad_alloc if the ring must grow and cannot. Always inlined:
  /// it is half of every spawn, and g++ left it out of line in a large caller.
  [[gnu::always_inline]] void push(T item) {
    // relaxed: only the owner writes m_tail and m_ring.
    const std::int64_t b = m_tail.load(std::memory_order_relaxed);
    // acquire: pairs with the thieves' successful CAS of m_top, so a slot they freed is
    // not overwritten before they have read it.
    const std::int64_t t = m_top.load(std::memory_order_acquire);
    ring* r = m_ring.load(std::memory_order_relaxed);
    if (WEFT_UNLIKELY(b - t > r->mask)) {
      r = grow(r, t, b);
    }
    r->put(b, item);
    // relaxed: the new item is private; thieves read m_tail only as a hint (see steal()).
    m_tail.store(b + 1, std::memory_order_relaxed);
    share_after_push(t, b + 1);
  }

  /// Owner only. Pushes item_at(0), item_at(1), ..., item_at(n - 1) (the last is the
  /// newest), sharing as push() does once for the batch. Throws std::bad_alloc if the
  /// ring must grow and cannot; then nothing is pushed.
  template <class ItemAt>
  void push_n(std::int64_t n, ItemAt&& item_at) {
    if (n <= 0) {
      return;
    }
    // relaxed / acquire: as in push().
    const std::int64_t b = m_tail.load(std::memory_order_relaxed);
    const std::int64_t t = m_top.load(std::memory_order_acquire);
    ring* r = m_ring.load(std::memory_order_relaxed);
    while (WEFT_UNLIKELY(b - t + n > r->mask + 1)) {
      r = grow(r, t, b);
    }
    for (std::int64_t i = 0; i < n; ++i) {
      r->put(b + i, item_at(i));
    }
    // relaxed: as in push().
    m_tail.store(b + n, std::memory_order_relaxed);
    share_after_push(t, b + n);
  }

  /// Owner only. As push_n, but shares every item at once, the older private ones too:
  /// for work from outside (the injection queue, reactor completions), which no task of
  /// this worker will take back and which must not wait behind a long task.
  template <class ItemAt>
  void push_n_shared(std::int64_t n, ItemAt&& item_at) {
    push_n(n, item_at);
    if (!m_no_thieves) {
      // relaxed: only the owner writes m_split and m_tail.
      share(m_split.load(std::memory_order_relaxed), m_tail.load(std::memory_order_relaxed));
    }
  }

  /// Owner only. Takes the newest item; returns false if the deque is empty or a thief
  /// won the race for the last shared item. A private item costs no locked instruction.
  bool pop(T& out) noexcept {
    // relaxed: only the owner writes m_tail, m_split and m_ring.
    const std::int64_t b = m_tail.load(std::memory_order_relaxed);
    const std::int64_t s = m_split.load(std::memory_order_relaxed);
    ring* r = m_ring.load(std::memory_order_relaxed);
    if (WEFT_LIKELY(b > s)) {
      out = r->get(b - 1);
      take_private(b, s);
      return true;
    }
    // relaxed: a lower bound of the real top; claim_newest_shared validates.
    if (!claim_newest_shared(s, m_top.load(std::memory_order_relaxed))) {
      return false;
    }
    // The slot is ours now and only the owner writes slots (and the ring): safe to read.
    out = r->get(s - 1);
    return true;
  }

  /// Owner only. Takes the newest item if it is `expected` (a joiner taking back the task
  /// it just spawned); false if the deque is empty, its newest item is another, or a thief
  /// took it.
  [[gnu::always_inline]] bool pop_if_newest(T expected) noexcept {
    // relaxed: as in pop().
    const std::int64_t b = m_tail.load(std::memory_order_relaxed);
    const std::int64_t s = m_split.load(std::memory_order_relaxed);
    ring* r = m_ring.load(std::memory_order_relaxed);
    if (WEFT_LIKELY(b > s)) {
      if (r->get(b - 1) != expected) {
        return false;
      }
      take_private(b, s);
      return true;
    }
    // relaxed: a lower bound of the real top; claim_newest_shared validates. The slot may
    // hold an item a thief already took; then the claim fails.
    const std::int64_t t = m_top.load(std::memory_order_relaxed);
    if (s - t <= 0 || r->get(s - 1) != expected) {
      return false;
    }
    return claim_newest_shared(s, t);
  }

  /// Before any thread but the owner touches the deque: promises that no thread will ever
  /// call steal() (a pool of one worker). Nothing is then ever shared.
  void declare_no_thieves() noexcept { m_no_thieves = true; }

  /// Before any thread but the owner touches the deque: after a push, at most `limit`
  /// items stay private (older ones are shared); no more than this many ever wait for the
  /// owner while it runs a long task. 0: every push shares everything.
  void set_private_limit(std::int64_t limit) noexcept { m_max_private = limit < 0 ? 0 : limit; }

  /// Any thread, unless declare_no_thieves() was called. Takes the oldest shared item;
  /// returns false if there is none or another thief (or the owner, for the last shared
  /// item) got it first. Finding none while the owner holds private items asks the owner
  /// to share some: a later call may then succeed.
  bool steal(T& out) noexcept {
    WEFT_ASSERT(!m_no_thieves);
    // seq_cst: the paper's acquire load plus fence; pairs with the seq_cst store of
    // m_split in claim_newest_shared() (see there).
    std::int64_t t = m_top.load(std::memory_order_seq_cst);
    // seq_cst: ordered after the load of m_top; its acquire part pairs with the release
    // store of m_split in share(), making the shared slots and m_ring visible.
    const std::int64_t s = m_split.load(std::memory_order_seq_cst);
    if (t >= s) {
      ask_to_share();
      return false;
    }
    // acquire: pairs with the release store in grow(), so the copied slots are visible.
    ring* r = m_ring.load(std::memory_order_acquire);
    const T item = r->get(t);
    // seq_cst on success: our claim of slot t, in the same total order as the owner's
    // claims; relaxed on failure: we read nothing that we keep.
    if (!m_top.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
      return false;
    }
    out = item;
    return true;
  }

  /// Owner only. How many items push_n can take without growing the ring (a lower bound).
  [[nodiscard]] std::int64_t room() const noexcept {
    // relaxed: only the owner writes m_tail and m_ring; m_top read relaxed is a lower
    // bound of the real top (it only grows), so the result can only be too small.
    const std::int64_t b = m_tail.load(std::memory_order_relaxed);
    const std::int64_t t = m_top.load(std::memory_order_relaxed);
    return m_ring.load(std::memory_order_relaxed)->mask + 1 - (b - t);
  }

  /// Any thread. Approximate number of items, private ones included (exact when no
  /// operation is in flight).
  [[nodiscard]] std::int64_t size_approx() const noexcept {
    // relaxed on both: the result is a hint; a caller that acts on it (a steal)
    // re-validates with its own loads.
    const std::int64_t b = m_tail.load(std::memory_order_relaxed);
    const std::int64_t t = m_top.load(std::memory_order_relaxed);
    return b > t ? b - t : 0;
  }

  [[nodiscard]] bool empty_approx() const noexcept { return size_approx() == 0; }

  /// Any thread. Approximate number of items thieves can take now (a hint, for tests and
  /// reports).
  [[nodiscard]] std::int64_t shared_approx() const noexcept {
    // relaxed: a hint, as in size_approx().
    const std::int64_t s = m_split.load(std::memory_order_relaxed);
    const std::int64_t t = m_top.load(std::memory_order_relaxed);
    return s > t ? s - t : 0;
  }

private:
  struct ring {
    explicit ring(std::int64_t capacity)
        : mask(capacity - 1), slots(std::make_unique<std::atomic<T>[]>(static_cast<std::size_t>(capacity))) {}
    // relaxed: shared slot contents are published by the release/acquire pair on m_split
    // (share to steal) and freed by the CAS on m_top (steal to push); private slots are
    // read by the owner only.
    [[gnu::always_inline]] void put(std::int64_t i, T v) noexcept {
      slots[static_cast<std::size_t>(i & mask)].store(v, std::memory_order_relaxed);
    }
    [[gnu::always_inline]] T get(std::int64_t i) const noexcept {
      return slots[static_cast<std::size_t>(i & mask)].load(std::memory_order_relaxed);
    }
    std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

  // The owner's take of private item b - 1 (b = tail > s = split), after it has read the
  // slot. Answers a thief's request on the way, keeping the newest item private (a lone
  // private item leaves the request pending for the next push).
  [[gnu::always_inline]] void take_private(std::int64_t b, std::int64_t s) noexcept {
    // relaxed: a hint written by thieves; a late read only delays the answer.
    if (WEFT_UNLIKELY(m_share_wanted.load(std::memory_order_relaxed))) {
      answer_request(s, s + (b - s) / 2); // the older half; b - 1 stays private
    }
    // relaxed: nobody else reads the private slot; thieves read m_tail only as a hint.
    m_tail.store(b - 1, std::memory_order_relaxed);
  }

  // After a push that made tail b: shares the older half of the private items (rounded up)
  // if the shared part looked empty (t is a lower bound of top) or a thief asked, and all
  // but the newest m_max_private in any case.
  [[gnu::always_inline]] void share_after_push(std::int64_t t, std::int64_t b) noexcept {
    if (m_no_thieves) {
      return; // first: a pool of one worker pays one test here
    }
    // relaxed: only the owner writes m_split; m_share_wanted is a hint, as above.
    const std::int64_t s = m_split.load(std::memory_order_relaxed);
    if (WEFT_UNLIKELY(t >= s || b - s > m_max_private || m_share_wanted.load(std::memory_order_relaxed))) {
      if (t >= s && b - s == 1 && m_max_private > 0) {
        // The one new item onto an empty shared part (a task spawned onto an otherwise
        // empty deque): what share_after_push_slow would do, inline. release: as in share().
        m_split.store(b, std::memory_order_release);
        return;
      }
      share_after_push_slow(t, s, b);
    }
  }

  [[gnu::noinline]] void share_after_push_slow(std::int64_t t, std::int64_t s, std::int64_t b) noexcept {
    const std::int64_t half = s + (b - s + 1) / 2;
    const std::int64_t over_cap = b - m_max_private;
    if (t >= s) {
      // The shared part looked empty: share, but leave a pending request pending. A thief
      // that keeps finding an empty deque (one task spawning and joining in a loop while
      // others idle) then writes the flag once, not once per spawn.
      share(s, std::max(half, over_cap));
    } else if (m_share_wanted.load(std::memory_order_relaxed)) { // relaxed: a hint
      answer_request(s, std::max(half, over_cap));
    } else {
      share(s, over_cap);
    }
  }

  // Owner only: shares up to new_split for a thief that asked, and clears the request if
  // that shared anything.
  [[gnu::noinline]] void answer_request(std::int64_t s, std::int64_t new_split) noexcept {
    if (new_split > s) {
      share(s, new_split);
      // relaxed: a hint; a thief that still finds nothing asks again.
      m_share_wanted.store(false, std::memory_order_relaxed);
    }
  }

  // Owner only: moves split from s up to new_split (if higher), making those items
  // stealable.
  void share(std::int64_t s, std::int64_t new_split) noexcept {
    if (new_split > s) {
      // release: publishes the slots below new_split (and the ring holding them); pairs
      // with the seq_cst (acquire) load of m_split in steal().
      m_split.store(new_split, std::memory_order_release);
    }
  }

  // A thief found nothing shared: asks the owner to share what it holds privately, if
  // anything. It does not read m_tail to find out: that line is written at every push and
  // pop, and idle thieves spinning on it would slow the owner. A request the owner cannot
  // answer yet stays pending, so the flag is written once per answer, not per attempt.
  void ask_to_share() noexcept {
    // relaxed, both: a hint. A lost or late request only delays sharing; the owner runs
    // its private items itself in any case.
    if (!m_share_wanted.load(std::memory_order_relaxed)) {
      m_share_wanted.store(true, std::memory_order_relaxed);
    }
  }

  // The owner's claim of the newest shared item (index s - 1) when nothing is private
  // (tail == s), given t, a lower bound of top: the Chase-Lev pop with split as its
  // bottom. On return, tail == split again. The caller reads the slot (before or after:
  // only the owner writes slots). Inline up to the one-item case, which is what a task
  // spawned onto an empty deque and joined at once takes.
  [[gnu::always_inline]] bool claim_newest_shared(std::int64_t s, std::int64_t t) noexcept {
    if (s - t <= 0) {
      return false; // empty even by the lower bound
    }
    WEFT_ASSERT(!m_no_thieves); // without thieves nothing is ever shared
    if (s - t == 1) {
      // One item left: claim it from the top end exactly as a thief would, with one CAS,
      // instead of the paper's store + CAS. Safe because steal() never writes m_split, so
      // any caller may use it; if the CAS fails, a thief took the item. split and tail
      // stay at s: index s - 1 is used up either way.
      // seq_cst on success: same total order as the thieves' CAS; relaxed on failure.
      return m_top.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed);
    }
    return claim_newest_of_several(s);
  }

  // Two or more shared items by the lower bound of top: the paper's pop.
  [[gnu::noinline]] bool claim_newest_of_several(std::int64_t s) noexcept {
    const std::int64_t ns = s - 1;
    // seq_cst: the paper's fence. This store must be ordered before the load of m_top
    // below (store->load), against the seq_cst loads of m_top then m_split in steal():
    // either the thief sees the smaller split or we see its larger top.
    m_split.store(ns, std::memory_order_seq_cst);
    // seq_cst: second half of the store->load pair above.
    std::int64_t t = m_top.load(std::memory_order_seq_cst);
    if (t > ns) {
      // Thieves emptied it meanwhile. relaxed: restores our own index.
      m_split.store(s, std::memory_order_relaxed);
      return false;
    }
    if (t == ns) {
      // Last item after all: race the thieves for it through m_top.
      // seq_cst on success: orders our claim with the thieves' CAS in one total order;
      // relaxed on failure: we only learn that we lost.
      const bool won = m_top.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed);
      // relaxed: the deque is empty either way; index s - 1 is used up.
      m_split.store(s, std::memory_order_relaxed);
      return won;
    }
    // relaxed: tail follows split down; thieves read it only as a hint.
    m_tail.store(ns, std::memory_order_relaxed);
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
  // Read by thieves on every attempt, written by the owner only when it shares or takes a
  // shared item back: the line stays in the thieves' caches while the owner works.
  alignas(k_cache_line) std::atomic<std::int64_t> m_split{0};
  // Written by the owner only (on growth); read by thieves.
  std::atomic<ring*> m_ring;
  // Raised by thieves (only while no request is pending), read by the owner at each push
  // and pop, cleared by the owner when it answers a request by sharing something.
  std::atomic<bool> m_share_wanted{false};
  // Owner's end, written at every push and pop: on a line of its own with what only the
  // owner reads. Other threads read it only for size_approx() (parking, reports).
  alignas(k_cache_line) std::atomic<std::int64_t> m_tail{0};
  // Set once before the deque is shared (set_private_limit, declare_no_thieves); read by
  // the owner only.
  std::int64_t m_max_private = k_default_private;
  bool m_no_thieves = false;
  // Every ring ever used, so a thief never reads a freed one. Owner only.
  std::vector<std::unique_ptr<ring>> m_rings;
};

} // namespace weft::detail
