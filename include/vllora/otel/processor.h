// SpanProcessor: the hooks a TracerProvider calls when spans start and end, plus the simple and
// baggage processors. The batching processor (the one to use in production) is in
// batch_span_processor.h.
//
// Processors run in the order they were added to the TracerProvider::Builder. OnEnd receives
// ownership of a SpanData; the provider copies the data for every processor that needs it except
// the last. Read next: batch_span_processor.h, exporter.h.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "vllora/otel/context.h"
#include "vllora/otel/exporter.h"
#include "vllora/otel/span.h"
#include "vllora/otel/span_data.h"

namespace vllora::otel {

/// Span lifecycle hooks.
/// Thread-safety: OnStart/OnEnd are called concurrently from any application thread.
class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  /// Called synchronously inside Tracer::StartSpan() for recording spans. May call
  /// span.SetAttribute(). Must not block.
  virtual void OnStart(Span& span, const Context& parent_context) noexcept = 0;
  /// Called synchronously inside Span::End() with the finished span. May take ownership.
  virtual void OnEnd(std::unique_ptr<SpanData>&& span) noexcept = 0;
  /// Exports everything received so far; returns false if `deadline` passed first.
  virtual bool ForceFlush(std::chrono::steady_clock::time_point deadline) noexcept = 0;
  /// Flushes and releases resources; returns false if `deadline` passed first.
  virtual bool Shutdown(std::chrono::steady_clock::time_point deadline) noexcept = 0;
  /// False when OnEnd() does nothing (saves a SpanData copy per span).
  virtual bool NeedsOnEnd() const noexcept { return true; }
  /// False when OnStart() does nothing (saves a virtual call per span).
  virtual bool NeedsOnStart() const noexcept { return true; }
};

/// Copies the listed baggage entries (if present in the parent context) onto each new span as
/// string attributes with the same key. NeedsOnEnd() is false.
std::unique_ptr<SpanProcessor> MakeBaggageSpanProcessor(std::vector<std::string> keys);

/// Exports each sampled span on End(), synchronously on the ending thread, one at a time
/// (a mutex serialises Export()). For tests and debugging only.
std::unique_ptr<SpanProcessor> MakeSimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter);

}  // namespace vllora::otel
