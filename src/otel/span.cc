#include "vllora/otel/span.h"

#include <mutex>

#include "otel/provider_state.h"
#include "vllora/otel/clock.h"
#include "vllora/otel/internal/object_pool.h"
#include "vllora/otel/tracer.h"

namespace vllora::otel {

Span::Span(const SpanContext& context) noexcept : context_(context) {}

Span::~Span() {
  End();
  if (owns_state_) state_->Release();
}

namespace {
using SpanPool = internal::FixedSizePool<(sizeof(Span) + 15) / 16 * 16>;
}  // namespace

void* Span::operator new(size_t size) {
  // A derived type would be bigger than the pool's blocks: use the heap.
  return size == sizeof(Span) ? SpanPool::Allocate() : ::operator new(size);
}

void Span::operator delete(void* p, size_t size) noexcept {
  if (size == sizeof(Span)) {
    SpanPool::Free(p);
  } else {
    ::operator delete(p);
  }
}

std::unique_ptr<Span> Span::MakeNonRecording(const SpanContext& context) {
  return std::unique_ptr<Span>(new Span(context));
}

void Span::SetAttribute(std::string_view key, const AttributeValue& value) noexcept {
  // relaxed: a fast-path hint only; data_ is re-checked under the lock.
  if (!recording_.load(std::memory_order_relaxed)) return;
  std::lock_guard<internal::SpinLock> guard(lock_);
  if (!data_) return;
  try {
    data_->attributes.Set(key, value);
  } catch (...) {
    // Out of memory: the attribute is dropped rather than thrown into the application.
  }
}

void Span::AddEvent(std::string_view name, std::span<const KeyValueView> attributes,
                    uint64_t time_unix_nano) noexcept {
  if (!recording_.load(std::memory_order_relaxed)) return;
  if (time_unix_nano == 0) time_unix_nano = NowUnixNanos();
  try {
    // Build the event outside the lock; only the push happens under it.
    Event event;
    event.name.assign(name);
    event.time_unix_nano = time_unix_nano;
    const SpanLimits& limits = state_->limits;
    if (!attributes.empty()) {
      event.attributes.SetLimits(limits.max_attributes, limits.max_attribute_value_length);
      size_t bytes = 0;
      for (const KeyValueView& kv : attributes) {
        bytes += kv.key.size();
        if (auto* s = std::get_if<std::string_view>(&kv.value)) bytes += s->size();
      }
      event.attributes.Reserve(attributes.size(), bytes);
      for (const KeyValueView& kv : attributes) event.attributes.Set(kv.key, kv.value);
    }
    std::lock_guard<internal::SpinLock> guard(lock_);
    if (!data_) return;
    if (limits.max_events != 0 && data_->events.size() >= limits.max_events) {
      ++data_->dropped_events_count;
      return;
    }
    data_->events.push_back(std::move(event));
  } catch (...) {
  }
}

void Span::SetStatus(StatusCode code, std::string_view message) noexcept {
  if (!recording_.load(std::memory_order_relaxed) || code == StatusCode::kUnset) return;
  std::lock_guard<internal::SpinLock> guard(lock_);
  if (!data_ || data_->status_code == StatusCode::kOk) return;
  data_->status_code = code;
  try {
    if (code == StatusCode::kError) {
      data_->status_message.assign(message);
    } else {
      data_->status_message.clear();
    }
  } catch (...) {
  }
}

void Span::RecordError(std::string_view message) noexcept {
  if (!recording_.load(std::memory_order_relaxed)) return;
  std::lock_guard<internal::SpinLock> guard(lock_);
  if (!data_) return;
  try {
    if (data_->status_code != StatusCode::kOk) {
      data_->status_code = StatusCode::kError;
      data_->status_message.assign(message);
    }
    data_->attributes.Set("error", message);
  } catch (...) {
  }
}

void Span::UpdateName(std::string_view name) noexcept {
  if (!recording_.load(std::memory_order_relaxed)) return;
  std::lock_guard<internal::SpinLock> guard(lock_);
  if (!data_) return;
  try {
    data_->name.assign(name.empty() ? kEmptySpanName : name);
  } catch (...) {
  }
}

namespace {
// A span's end time: `requested`, or now when it is 0. The clock is not monotonic (it follows
// the system clock's steps): never a negative duration from it.
uint64_t EndTime(const SpanData& data, uint64_t requested) noexcept {
  if (requested != 0) return requested;
  const uint64_t now = NowUnixNanos();
  return now < data.start_time_unix_nano ? data.start_time_unix_nano : now;
}
}  // namespace

void Span::EndAndDestroy() noexcept {
  // The caller is the only user (see the header): no lock.
  std::unique_ptr<SpanData> data = std::move(data_);
  internal::ProviderState* state = state_;
  const bool owns_state = owns_state_;
  // Ends the Span's lifetime without its destructor, whose End() and reference release are
  // done here: of the members, only the context's tracestate owns anything (data_ is empty).
  std::destroy_at(&context_);
  if (data) {
    data->end_time_unix_nano = EndTime(*data, 0);
    state->DispatchEnd(std::move(data));
  }
  if (owns_state) state->Release();
}

void Span::End(uint64_t end_time_unix_nano) noexcept {
  if (!recording_.load(std::memory_order_relaxed)) return;
  std::unique_ptr<SpanData> data;
  {
    std::lock_guard<internal::SpinLock> guard(lock_);
    data = std::move(data_);
    recording_.store(false, std::memory_order_relaxed);
  }
  if (!data) return;
  data->end_time_unix_nano = EndTime(*data, end_time_unix_nano);
  state_->DispatchEnd(std::move(data));
}

}  // namespace vllora::otel
