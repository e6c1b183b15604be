// Internal: a recycling allocator for the fixed-size blocks every span allocates (SpanData, the
// attribute block). Not part of the public API.
//
// Why: a span's SpanData is allocated on the application thread and freed on the batch
// processor's export thread. With glibc malloc that cross-thread free is the most expensive
// step of a span (the block goes back to another thread's arena). Here freed blocks collect in
// the freeing thread's cache and move, in batches of kBatch under one spin lock, to a global
// depot from which allocating threads take whole batches. The common path is a thread-local
// list push or pop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>

#include "vllora/otel/internal/prefetch.h"
#include "vllora/otel/internal/spin_lock.h"

namespace vllora::otel::internal {

/// A pool of blocks of kSize bytes (aligned for any fundamental type).
/// Thread-safety: Allocate/Free are safe from any thread; a block may be freed on another
/// thread than the one that allocated it. Allocation: falls back to ::operator new when the
/// thread cache and the depot are empty. Blocks in the depot beyond kMaxDepotBatches batches are
/// returned to the system. Lifetime: the depot lives for the whole process.
template <size_t kSize>
class FixedSizePool {
 public:
  static_assert(kSize >= 3 * sizeof(void*), "a free block holds three links");
  static constexpr uint32_t kBatch = 64;
  static constexpr size_t kMaxDepotBatches = 1024;

  static void* Allocate() {
    Cache& cache = tl_cache;
    if (cache.head == nullptr && !Refill(cache)) return ::operator new(kSize);
    Node* node = cache.head;
    cache.head = node->next;
    --cache.count;
    // The blocks were most likely freed on another thread (the exporter's), so their lines sit
    // in another core's cache: ask for the block after next now, for writing, so its lines
    // arrive during two uses instead of stalling a later Allocate()'s caller on each line.
    // Spans started back to back (B2's chain) need the two uses of lead. Its address is in
    // this block's first line (`after_next`), which is here already (it was prefetched the
    // same way): following `next` instead would wait for the next block's line.
    if (const Node* ahead = node->after_next) PrefetchLinesForWrite<(kSize + 63) / 64>(ahead);
    return node;
  }

  static void Free(void* p) noexcept {
    if (p == nullptr) return;
    Cache& cache = tl_cache;
    // The first block a thread caches registers the thread-exit drain (see Reaper).
    if (!cache.reaper_registered) [[unlikely]]
      RegisterReaper(cache);
    Node* node = static_cast<Node*>(p);
    Node* head = cache.head;  // the block this thread freed last: its line is here
    node->next = head;
    node->after_next = head != nullptr ? head->next : nullptr;
    cache.head = node;
    if (++cache.count == kBatch) cache.Rotate();
  }

 private:
  // A list's order never changes below a block (blocks are pushed and popped at the front), so
  // `after_next` stays the block two further down while the block is in the list.
  struct Node {
    Node* next;        // next free block in the same batch / cache
    Node* after_next;  // next->next, or null
    Node* next_batch;  // depot only: first block of the next batch
  };

  struct Depot {
    SpinLock lock;
    Node* batches = nullptr;  // each batch: kBatch blocks linked by `next`
    size_t count = 0;
  };

  static Depot& GetDepot() noexcept {
    // Leaked on purpose: thread caches may spill into it during static destruction.
    static Depot* depot = new Depot();
    return *depot;
  }

  // Trivially destructible and constant-initialised, so the thread_local needs no guard on the
  // hot path; the drain at thread exit lives in Reaper, touched only when a block is cached.
  // Two lists, so no walk is needed to cut a batch: `head` (fewer than kBatch blocks between
  // calls; pushes and pops) and `full` (null or exactly kBatch blocks, linked by `next`).
  struct Cache {
    Node* head = nullptr;
    Node* full = nullptr;
    uint32_t count = 0;  // blocks in `head`
    bool reaper_registered = false;

    // `head` has just reached kBatch blocks: it becomes `full`, and a `full` batch already
    // there moves to the depot (or to the system when the depot is full).
    void Rotate() noexcept {
      Node* batch = full;
      full = head;
      head = nullptr;
      count = 0;
      if (batch != nullptr) Spill(batch);
    }

    // Moves one batch of kBatch blocks to the depot (or to the system when the depot is full).
    static void Spill(Node* batch) noexcept {
      Depot& depot = GetDepot();
      {
        std::lock_guard<SpinLock> guard(depot.lock);
        if (depot.count < kMaxDepotBatches) {
          batch->next_batch = depot.batches;
          depot.batches = batch;
          ++depot.count;
          return;
        }
      }
      FreeList(batch);
    }

    static void FreeList(Node* node) noexcept {
      while (node != nullptr) {
        Node* next = node->next;
        ::operator delete(node);
        node = next;
      }
    }

    // At thread exit: the full batch to the depot, the rest to the system.
    void Drain() noexcept {
      if (full != nullptr) Spill(full);
      full = nullptr;
      FreeList(head);
      head = nullptr;
      count = 0;
    }
  };

  struct Reaper {
    ~Reaper() { tl_cache.Drain(); }
  };

  static void RegisterReaper(Cache& cache) noexcept {
    // Odr-using the thread_local constructs it (registering its destructor) once per thread.
    static thread_local Reaper reaper;
    (void)reaper;
    cache.reaper_registered = true;
  }

  // `head` is empty: takes the thread's own full batch, else one from the depot.
  static bool Refill(Cache& cache) noexcept {
    if (cache.full != nullptr) {
      cache.head = cache.full;
      cache.full = nullptr;
      cache.count = kBatch;
      return true;
    }
    if (!cache.reaper_registered) RegisterReaper(cache);
    Depot& depot = GetDepot();
    std::lock_guard<SpinLock> guard(depot.lock);
    if (depot.batches == nullptr) return false;
    cache.head = depot.batches;
    depot.batches = cache.head->next_batch;
    --depot.count;
    cache.count = kBatch;
    return true;
  }

  static inline thread_local Cache tl_cache;
};

}  // namespace vllora::otel::internal
