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
  static_assert(kSize >= 2 * sizeof(void*), "a free block holds two links");
  static constexpr uint32_t kBatch = 64;
  static constexpr size_t kMaxDepotBatches = 1024;

  static void* Allocate() {
    Cache& cache = tl_cache;
    if (cache.head == nullptr && !Refill(cache)) return ::operator new(kSize);
    Node* node = cache.head;
    cache.head = node->next;
    --cache.count;
    return node;
  }

  static void Free(void* p) noexcept {
    if (p == nullptr) return;
    Cache& cache = tl_cache;
    // The first block a thread caches registers the thread-exit drain (see Reaper).
    if (!cache.reaper_registered) [[unlikely]]
      RegisterReaper(cache);
    Node* node = static_cast<Node*>(p);
    node->next = cache.head;
    cache.head = node;
    if (++cache.count >= 2 * kBatch) cache.Spill();
  }

 private:
  struct Node {
    Node* next;        // next free block in the same batch / cache
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
  struct Cache {
    Node* head = nullptr;
    uint32_t count = 0;
    bool reaper_registered = false;

    // Moves kBatch blocks to the depot (or to the system when the depot is full).
    void Spill() noexcept {
      Node* batch = head;
      Node* last = head;
      for (uint32_t i = 1; i < kBatch; ++i) last = last->next;
      head = last->next;
      last->next = nullptr;
      count -= kBatch;
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
      while (batch != nullptr) {
        Node* next = batch->next;
        ::operator delete(batch);
        batch = next;
      }
    }

    // At thread exit: full batches to the depot, the rest to the system.
    void Drain() noexcept {
      while (count >= kBatch) Spill();
      while (head != nullptr) {
        Node* next = head->next;
        ::operator delete(head);
        head = next;
      }
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

  static bool Refill(Cache& cache) noexcept {
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
