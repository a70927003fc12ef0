// Slow paths of the frame allocator (include/weft/detail/frame_allocator.hpp): where a
// size class's free list gets its blocks, and where they go when the list is full.
//
// Blocks are carved from 64 KiB chunks, aligned to their size, one size class per chunk:
// - every block starts on a cache line, so two frames never share one (with the heap's
//   16-byte alignment, a frame run by a thief and its neighbour run by the owner did:
//   clang fib(27) at 2 workers 3.6 -> 3.9-4.3 ms when frames shrank from 256 to 192 bytes);
// - carving is a pointer bump, and blocks the lists cannot keep go back to their chunks
//   with one atomic decrement per run of blocks from the same chunk.
// A chunk counts its blocks that are not back (`live`); the thread carving it counts the
// blocks it has not carved yet as live, and gives them back when it exits. The block that
// brings the count to zero frees the chunk: into a small global pool of empty chunks (so
// that a large gather in a loop does not go to the heap each time), or to the heap when
// the pool is full. Memory thus goes back once every block of
// a chunk is back, whichever thread frees it.
//
// A block given back to a chunk that still has live blocks cannot be reused until the
// whole chunk is back; a few long-lived frames would pin their chunks while the thread
// that makes frames carves new ones. So a thread whose list is full first moves half of
// it, as one batch, to a per-class depot, and a thread whose list is empty takes a batch
// from the depot before it carves: frames made on one thread and freed on another
// (a server's accept loop and its workers) circulate. Only the surplus beyond the depot's
// cap goes back to the chunks.

#include <weft/detail/frame_allocator.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>

namespace weft::detail {
namespace {

constexpr std::size_t k_chunk_size = 64 * 1024;
// Empty chunks kept for reuse, all classes together (4 MiB).
constexpr std::size_t k_pooled_chunks_limit = 64;

// The first granule of each chunk; blocks follow it.
struct alignas(k_frame_granule) chunk_header {
  std::atomic<std::uint32_t> live{0};
  chunk_header* next_pooled = nullptr; // link in the pool of empty chunks
};
static_assert(sizeof(chunk_header) == k_frame_granule);

chunk_header* chunk_of(void* block) noexcept {
  return reinterpret_cast<chunk_header*>(reinterpret_cast<std::uintptr_t>(block) & ~(k_chunk_size - 1));
}

// The pool of empty chunks. A mutex: taken once per chunk (hundreds of blocks), never on
// the lists' fast paths.
struct chunk_pool {
  std::mutex lock;
  chunk_header* head = nullptr;
  std::size_t size = 0;
};

chunk_pool& pool() {
  // Never destroyed: threads may give chunks back while the process exits.
  static chunk_pool* const p = new chunk_pool;
  return *p;
}

chunk_header* new_chunk() {
  {
    chunk_pool& p = pool();
    std::lock_guard guard(p.lock);
    if (chunk_header* c = p.head) {
      p.head = c->next_pooled;
      --p.size;
      return c;
    }
  }
  void* memory = ::operator new(k_chunk_size, std::align_val_t{k_chunk_size});
  return new (memory) chunk_header{};
}

void release_chunk(chunk_header* c) noexcept {
  {
    chunk_pool& p = pool();
    std::lock_guard guard(p.lock);
    if (p.size < k_pooled_chunks_limit) {
      c->next_pooled = p.head;
      p.head = c;
      ++p.size;
      return;
    }
  }
  c->~chunk_header();
  ::operator delete(c, std::align_val_t{k_chunk_size});
}

// Gives n live blocks back to chunk c.
void give_back(chunk_header* c, std::uint32_t n) noexcept {
  // acq_rel: the release orders every use of these blocks (on this thread) before the
  // chunk's reuse; the acquire of the decrement that reaches zero sees all other threads'
  // uses, which their own releasing decrements published.
  if (c->live.fetch_sub(n, std::memory_order_acq_rel) == n) {
    release_chunk(c);
  }
}

// Blocks moved between a full list and the depot at a time.
constexpr std::uint32_t k_batch_blocks = k_frame_cache_limit / 2;
// The depot keeps at most this many bytes of blocks per class.
constexpr std::size_t k_depot_bytes_per_class = 4 * 1024 * 1024;

// A batch is a list of free blocks; its first block also links the depot's batches.
struct batch_head : free_block {
  batch_head* next_batch;
};
static_assert(sizeof(batch_head) <= k_frame_granule);

// Full batches of free blocks, per class. A mutex: taken once per batch (2048 blocks).
struct depot_class {
  std::mutex lock;
  batch_head* batches = nullptr;
  // Written under lock; also read without it, as a hint, by a thread whose list is empty:
  // while the depot is empty that thread carves one block per call, and a lock per block
  // was a third of a million-child gather's instructions.
  std::atomic<std::size_t> count{0};
};

depot_class* depot() {
  // Never destroyed: threads may move batches here while the process exits.
  static depot_class* const classes = new depot_class[k_frame_classes];
  return classes;
}

std::size_t depot_cap(std::size_t cls) noexcept {
  const std::size_t batch_bytes = std::size_t{k_batch_blocks} * (cls + 1) * k_frame_granule;
  return k_depot_bytes_per_class / batch_bytes + 1;
}

// Gives every block of the list starting at `first` back to its chunk: one decrement per
// run of blocks from the same chunk (lists freed in allocation order hold long runs).
void give_back_list(free_block* first) noexcept {
  while (first != nullptr) {
    chunk_header* const c = chunk_of(first);
    std::uint32_t run = 0;
    do {
      first = first->next; // read before the chunk may be freed
      ++run;
    } while (first != nullptr && chunk_of(first) == c);
    give_back(c, run);
  }
}

// Stores a batch of k_batch_blocks blocks in the depot, or gives them back to their
// chunks when the depot is full.
void store_batch(std::size_t cls, free_block* first) noexcept {
  depot_class& d = depot()[cls];
  {
    std::lock_guard guard(d.lock);
    // relaxed (both): the lock orders the batches; the count is a hint outside it.
    const std::size_t count = d.count.load(std::memory_order_relaxed);
    if (count < depot_cap(cls)) {
      auto* batch = static_cast<batch_head*>(first);
      batch->next_batch = d.batches;
      d.batches = batch;
      d.count.store(count + 1, std::memory_order_relaxed);
      return;
    }
  }
  give_back_list(first);
}

// A batch of k_batch_blocks blocks from the depot, or null.
free_block* take_batch(std::size_t cls) noexcept {
  depot_class& d = depot()[cls];
  // relaxed: a hint. Missing a batch just stored only means carving a block instead.
  if (d.count.load(std::memory_order_relaxed) == 0) {
    return nullptr;
  }
  std::lock_guard guard(d.lock);
  batch_head* batch = d.batches;
  if (batch != nullptr) {
    d.batches = batch->next_batch;
    // relaxed: as in store_batch().
    d.count.store(d.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
  return batch;
}

// The chunk each class carves from on this thread. Trivially constructible, so the slow
// path needs no initialisation guard.
struct carver {
  chunk_header* chunk[k_frame_classes];
  char* next[k_frame_classes];
  std::uint32_t left[k_frame_classes]; // blocks not yet carved from chunk[cls]
};
thread_local constinit carver tl_carver{};

// Set by the thread-exit cleanup: the lists are closed (no batches in or out) and nothing
// may stay uncarved any more.
thread_local constinit bool tl_exited = false;

// At thread exit: gives the lists' blocks and the uncarved ones back to their chunks, and
// closes the lists (room 0, still opened, so they are never reopened).
struct thread_cleanup {
  ~thread_cleanup() {
    tl_exited = true;
    frame_cache& cache = tl_frame_cache;
    carver& c = tl_carver;
    for (std::size_t cls = 0; cls < k_frame_classes; ++cls) {
      give_back_list(cache.heads[cls]);
      cache.heads[cls] = nullptr;
      cache.room[cls] = 0;
      if (c.left[cls] != 0) {
        give_back(c.chunk[cls], c.left[cls]);
        c.left[cls] = 0;
      }
    }
  }
};

// Opens the calling thread's lists on its first allocation or free of a cached size,
// registering the thread-exit cleanup. Every carve comes after it.
void open_lists(frame_cache& cache) noexcept {
  thread_local thread_cleanup cleanup;
  cache.opened = true;
  for (std::uint32_t& room : cache.room) {
    room = k_frame_cache_limit;
  }
}

} // namespace

void* allocate_frame_slow(std::size_t cls) {
  frame_cache& cache = tl_frame_cache;
  if (!cache.opened) {
    open_lists(cache);
  }
  if (!tl_exited) {
    if (free_block* batch = take_batch(cls)) {
      // The list is empty (that is why we are here), so it has room for a whole batch.
      cache.heads[cls] = batch->next;
      cache.room[cls] -= k_batch_blocks - 1;
      return batch;
    }
  }
  carver& c = tl_carver;
  if (c.left[cls] == 0) {
    chunk_header* chunk = new_chunk(); // throws std::bad_alloc
    if (tl_exited) {
      // A frame made during this thread's exit, after the cleanup: a chunk of its own,
      // freed when this one block comes back.
      // relaxed: the chunk is this thread's alone until it hands out the block.
      chunk->live.store(1, std::memory_order_relaxed);
      return reinterpret_cast<char*>(chunk) + sizeof(chunk_header);
    }
    const std::size_t block = (cls + 1) * k_frame_granule;
    const auto blocks = static_cast<std::uint32_t>((k_chunk_size - sizeof(chunk_header)) / block);
    // relaxed: as above.
    chunk->live.store(blocks, std::memory_order_relaxed);
    c.chunk[cls] = chunk;
    c.next[cls] = reinterpret_cast<char*>(chunk) + sizeof(chunk_header);
    c.left[cls] = blocks;
  }
  void* block = c.next[cls];
  c.next[cls] += (cls + 1) * k_frame_granule;
  --c.left[cls];
  return block;
}

void deallocate_frame_slow(void* p, std::size_t cls) noexcept {
  frame_cache& cache = tl_frame_cache;
  if (!cache.opened) {
    open_lists(cache);
    deallocate_frame(p, (cls + 1) * k_frame_granule);
    return;
  }
  if (tl_exited) {
    give_back(chunk_of(p), 1); // the thread is exiting
    return;
  }
  // The list is full: p and the k_batch_blocks - 1 newest blocks go to the depot as one
  // batch; the older half stays.
  auto* first = static_cast<free_block*>(p);
  first->next = cache.heads[cls];
  free_block* last = first;
  for (std::uint32_t i = 1; i < k_batch_blocks; ++i) {
    last = last->next;
  }
  cache.heads[cls] = last->next;
  last->next = nullptr;
  cache.room[cls] += k_batch_blocks - 1;
  store_batch(cls, first);
}

} // namespace weft::detail
