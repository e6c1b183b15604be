// Internal: a tiny test-and-test-and-set spin lock used to guard a single span's mutable state.
// Not part of the public API; included only because Span is a concrete class.
#pragma once

#include <atomic>
#include <thread>

namespace vllora::otel::internal {

/// Guards a few-hundred-nanosecond critical section. Uncontended cost: one exchange + one store.
class SpinLock {
 public:
  void lock() noexcept {
    // acquire: the critical section must see writes made under the previous holder.
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
  }
  bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
  // release: publishes the critical section's writes to the next holder.
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace vllora::otel::internal
