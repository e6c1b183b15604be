#include "vllora/core/context.h"

#include <atomic>

namespace vllora {

namespace {
std::atomic<const ContextSlot*> g_slots[kMaxContextSlots];
}  // namespace

int RegisterContextSlot(const ContextSlot* slot) noexcept {
  for (int i = 0; i < kMaxContextSlots; ++i) {
    const ContextSlot* expected = nullptr;
    if (g_slots[i].compare_exchange_strong(expected, slot, std::memory_order_acq_rel) ||
        expected == slot) {
      return i;
    }
  }
  return -1;
}

ContextSnapshot ContextSnapshot::Capture() noexcept { return CaptureWith(Span::Current()); }

ContextSnapshot ContextSnapshot::CaptureWith(Span span) noexcept {
  ContextSnapshot snapshot;
  snapshot.span_ = std::move(span);
  for (int i = 0; i < kMaxContextSlots; ++i) {
    const ContextSlot* slot = g_slots[i].load(std::memory_order_acquire);
    if (slot != nullptr) snapshot.slots_[static_cast<size_t>(i)] = slot->capture();
  }
  return snapshot;
}

ContextSnapshot ContextSnapshot::Exchange() && noexcept {
  ContextSnapshot previous;
  previous.span_ = Span(internal::ExchangeCurrent(std::move(span_).ReleaseNode()));
  for (int i = 0; i < kMaxContextSlots; ++i) {
    const ContextSlot* slot = g_slots[i].load(std::memory_order_acquire);
    auto index = static_cast<size_t>(i);
    if (slot != nullptr) previous.slots_[index] = slot->exchange(std::move(slots_[index]));
  }
  return previous;
}

}  // namespace vllora
