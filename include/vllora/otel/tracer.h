// Tracer: starts spans for one instrumentation scope. Obtain one from
// TracerProvider::GetTracer(); keep it (a shared_ptr) for the life of the instrumented component.
//
// Parent selection: StartSpanOptions::parent if given, else the active span of
// StartSpanOptions::context (or Context::Current()), else a new root. Read next: span.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "vllora/otel/attributes.h"
#include "vllora/otel/context.h"
#include "vllora/otel/sampler.h"
#include "vllora/otel/span.h"
#include "vllora/otel/span_context.h"
#include "vllora/otel/span_data.h"

namespace vllora::otel {

/// The name a span gets when it is started (or renamed with Span::UpdateName) with an empty
/// name: OTLP requires a name, and an empty one shows as a blank row in trace viewers.
inline constexpr std::string_view kEmptySpanName = "unnamed";

/// Options for Tracer::StartSpan(). All pointers/spans are only read during the call.
struct StartSpanOptions {
  SpanKind kind = SpanKind::kInternal;
  /// Explicit parent; if null, parent = context->span_context() (if valid) else a new root.
  const SpanContext* parent = nullptr;
  /// The parent Context (baggage etc.) passed to OnStart; null = Context::Current().
  const Context* context = nullptr;
  /// 0 = now.
  uint64_t start_time_unix_nano = 0;
  /// Initial attributes (applied before processors' OnStart; not visible to the sampler).
  std::span<const KeyValueView> attributes = {};
  std::span<const Link> links = {};
  /// Instead of `attributes`, for a bridge that converts its own field type without building
  /// KeyValueViews (the OTel layer): called once, on the calling thread, with `fill_source` and
  /// the new span's empty attribute list (limits set), before any processor's OnStart. Typically
  /// fills it with an Attributes::Writer and falls back to SetAll(). Not called for a span that
  /// is not recorded. If it throws (out of memory), the span is not recorded.
  void (*fill_attributes)(const void* fill_source, Attributes& list) = nullptr;
  const void* fill_source = nullptr;
};

/// Creates spans for one instrumentation scope.
/// Thread-safety: StartSpan() is safe to call concurrently from any thread.
/// Lifetime: keeps the provider's state (processors, sampler, resource) alive.
class Tracer {
 public:
  /// Constructed by TracerProvider::GetTracer().
  Tracer(std::shared_ptr<internal::ProviderState> state,
         std::shared_ptr<const InstrumentationScope> scope) noexcept;
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  /// Starts a span (an empty `name` becomes kEmptySpanName). Returns a non-recording span when the
  /// sampler drops it or the provider is shut down. Returns null only if even a non-recording span
  /// cannot be allocated (OOM). Allocation: non-recording: 1 (the Span). Recording: Span + SpanData
  /// + one attribute block
  /// (+ name if longer than the small-string buffer).
  /// Blocking: never, unless a processor's OnStart blocks.
  std::unique_ptr<Span> StartSpan(std::string_view name,
                                  const StartSpanOptions& options = {}) noexcept;

  /// As StartSpan(), but builds the Span in `storage` instead of allocating it (a bridge keeps
  /// it inside its own per-span record: one allocation less per span). `storage` must hold
  /// sizeof(Span) bytes aligned for Span and outlive the span; the caller ends the span's life
  /// with Span::EndAndDestroy (or std::destroy_at), never delete. Never returns null: when
  /// memory runs out for the span's data, the span built in `storage` is non-recording.
  /// Lifetime: unlike StartSpan()'s, the span does not keep the provider's state alive: keep
  /// this Tracer (or its TracerProvider) until the span is destroyed. (Spans started on many
  /// threads would otherwise all count references on one cache line.)
  Span* StartSpanIn(void* storage, std::string_view name,
                    const StartSpanOptions& options = {}) noexcept;

  /// What StartSpan() would decide for any span under `parent` (null: the active span of the
  /// current Context, as StartSpan() picks it), when the sampler's decision depends on nothing
  /// else; nullopt when it does. After Shutdown(): kDrop. Cheap: no allocation, no lock.
  std::optional<SamplingDecision> FixedSamplingDecision(
      const SpanContext* parent = nullptr) const noexcept;

  /// The scope (name, version) spans from this tracer carry.
  const InstrumentationScope& scope() const noexcept { return *scope_; }

 private:
  // StartSpan (storage null: the Span is allocated) and StartSpanIn.
  Span* Start(void* storage, std::string_view name, const StartSpanOptions& options) noexcept;
  // A non-recording Span carrying `context`, built in `storage` (or allocated: may throw).
  static Span* MakeNonRecording(void* storage, SpanContext&& context);
  // A recording Span owning `data`, built in `storage` (or allocated: may throw), then the
  // OnStart processors. Inline, defined and used in tracer.cc only.
  inline Span* StartRecording(void* storage, SpanContext&& context, std::unique_ptr<SpanData> data,
                              const StartSpanOptions& options);
  // Start() for a sampler without a fixed decision (may throw bad_alloc).
  Span* StartSampled(void* storage, std::string_view name, const StartSpanOptions& options,
                     const SpanContext& parent, const TraceId& trace_id, const SpanId& span_id);
  // The processors' OnStart, with the options' context (or the current one).
  void CallOnStart(Span& span, const StartSpanOptions& options) const noexcept;

  std::shared_ptr<internal::ProviderState> state_;
  std::shared_ptr<const InstrumentationScope> scope_;
};

}  // namespace vllora::otel
