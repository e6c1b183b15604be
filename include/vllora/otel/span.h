// Span: a live SDK span, returned by Tracer::StartSpan(). End() turns it into a SpanData that is
// handed to the span processors.
//
// A span is either recording (it owns a SpanData being filled in) or non-recording (sampled out,
// or started after shutdown): a non-recording span only carries its SpanContext so children can
// still propagate the trace, and every mutator is a cheap no-op. Read next: tracer.h.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "vllora/otel/attributes.h"
#include "vllora/otel/internal/spin_lock.h"
#include "vllora/otel/span_context.h"
#include "vllora/otel/span_data.h"

namespace vllora::otel {

namespace internal {
struct ProviderState;
}  // namespace internal

class Tracer;

/// A live span.
/// Thread-safety: all members are safe to call from any thread (mutators take a per-span spin
/// lock for a few hundred ns). After End() mutators are no-ops.
/// Lifetime: destroying an un-ended span ends it (with the current time).
class Span {
 public:
  virtual ~Span();
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  /// A non-recording span carrying `context` (e.g. to represent a remote parent).
  static std::unique_ptr<Span> MakeNonRecording(const SpanContext& context);

  /// Sets (or replaces) one attribute. Subject to the provider's SpanLimits.
  /// Allocation: occasionally grows the attribute block. Errors: none (allocation failure
  /// drops the attribute).
  void SetAttribute(std::string_view key, const AttributeValue& value) noexcept;
  /// Adds an event; `time_unix_nano` 0 = now. Beyond the event limit the event is dropped and
  /// counted in SpanData::dropped_events_count.
  void AddEvent(std::string_view name, std::span<const KeyValueView> attributes = {},
                uint64_t time_unix_nano = 0) noexcept;
  /// Sets the status. kOk is final; kUnset never overrides; the message is kept only for kError.
  void SetStatus(StatusCode code, std::string_view message = {}) noexcept;
  /// Sets status kError with `message` (unless already kOk) AND string attribute "error".
  void RecordError(std::string_view message) noexcept;
  /// Replaces the span name (an empty `name` becomes kEmptySpanName, see tracer.h).
  void UpdateName(std::string_view name) noexcept;
  /// Ends the span (`end_time_unix_nano` 0 = now) and passes it to the processors on the
  /// calling thread. A second End() is a no-op.
  /// Blocking: whatever the processors' OnEnd does (BatchSpanProcessor never blocks;
  /// SimpleSpanProcessor exports synchronously).
  void End(uint64_t end_time_unix_nano = 0) noexcept;
  /// For a span built with Tracer::StartSpanIn whose caller is its last user: ends it as End()
  /// does (now, on the calling thread), then destroys it in place, with no lock and no virtual
  /// call (a bridge's span close). Afterwards `storage` holds no Span.
  /// Precondition: no other thread uses the span during or after the call.
  void EndAndDestroy() noexcept;

  /// The span's identity (valid even when non-recording).
  const SpanContext& context() const noexcept { return context_; }
  /// True until End() for sampled-in spans; always false for non-recording spans.
  bool IsRecording() const noexcept { return recording_.load(std::memory_order_relaxed); }

  /// Allocation: spans are recycled through an internal per-thread pool.
  static void* operator new(size_t size);
  static void operator delete(void* p, size_t size) noexcept;

 protected:
  /// Non-recording span.
  explicit Span(const SpanContext& context) noexcept;

 private:
  friend class Tracer;
  /// A recording span. With `owns_state` it adopts one reference on `state` (taken with
  /// ProviderState::AddRef), released when destroyed; without, its creator keeps the provider
  /// alive until the span is destroyed (Tracer::StartSpanIn).
  Span(SpanContext&& context, std::unique_ptr<SpanData> data, internal::ProviderState* state,
       bool owns_state) noexcept
      : context_(std::move(context)),
        recording_(true),
        owns_state_(owns_state),
        data_(std::move(data)),
        state_(state) {}

  SpanContext context_;
  std::atomic<bool> recording_{false};
  internal::SpinLock lock_;
  bool owns_state_ = false;                   // state_ holds a reference (see the constructor)
  std::unique_ptr<SpanData> data_;            // null when non-recording or ended; guarded by lock_
  internal::ProviderState* state_ = nullptr;  // null when non-recording
};

}  // namespace vllora::otel
