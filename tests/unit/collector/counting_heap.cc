#include "unit/collector/counting_heap.h"

#include <malloc.h>

#include <cstdlib>
#include <new>

namespace vllora::testing::heap {

std::atomic<size_t> live{0};
std::atomic<size_t> peak{0};

void ResetPeak() noexcept { peak.store(live.load()); }

namespace {

void Add(void* p) noexcept {
  const size_t size = malloc_usable_size(p);
  const size_t now = live.fetch_add(size) + size;
  size_t seen = peak.load();
  while (now > seen && !peak.compare_exchange_weak(seen, now)) {
  }
}

}  // namespace
}  // namespace vllora::testing::heap

// GCC takes the std::free below for a mismatched release of memory from operator new; here
// operator new is malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  vllora::testing::heap::Add(p);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  vllora::testing::heap::live.fetch_sub(malloc_usable_size(p));
  std::free(p);
}
void operator delete(void* p, size_t /*size*/) noexcept { operator delete(p); }
#pragma GCC diagnostic pop
