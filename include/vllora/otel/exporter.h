// SpanExporter: the interface exporters (OTLP gRPC/HTTP, console, in-memory) implement.
//
// Processors call Export() from one thread at a time (BatchSpanProcessor's worker or
// SimpleSpanProcessor under its lock), so exporters need no internal locking for Export(), as
// the OTel specification promises. An exporter that can serve several calls at once (the
// OTLP/gRPC exporter: one call per batch in flight) opts out of that promise by returning more
// than 1 from MaxConcurrentExports(); BatchSpanProcessor then keeps up to
// min(max_concurrent_exports, MaxConcurrentExports()) batches in flight.
// MakeDiscardingSpanExporter() is a no-op exporter for benchmarks. Read next: processor.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>

#include "vllora/otel/span_data.h"

namespace vllora::otel {

/// Outcome of one Export() call.
enum class ExportResult { kSuccess, kFailure };

/// Sends finished spans somewhere.
/// Thread-safety: Export() is never called concurrently by the SDK processors unless the
/// exporter's MaxConcurrentExports() is greater than 1; ForceFlush() and Shutdown() may be called
/// from another thread than Export(), also while Export() calls are in progress.
class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  /// How many Export() calls this exporter accepts at the same time. 1 (the default) keeps the
  /// OTel guarantee that Export() is never called concurrently. An exporter returning N > 1
  /// waives it: a processor may have up to N calls in progress from different threads, and
  /// Shutdown() must cancel all of them. Must return the same value for the exporter's life.
  virtual size_t MaxConcurrentExports() const noexcept { return 1; }
  /// Exports `batch` synchronously. The exporter may move elements out of `batch` (take
  /// ownership); whatever is left is destroyed by the caller. Must honour its own timeout.
  virtual ExportResult Export(std::span<std::unique_ptr<SpanData>> batch) noexcept = 0;
  /// Flushes anything buffered, returning by `deadline`.
  virtual bool ForceFlush(std::chrono::steady_clock::time_point /*deadline*/) noexcept {
    return true;
  }
  /// Releases resources; later Export() calls should fail fast. Returns by `deadline`.
  virtual bool Shutdown(std::chrono::steady_clock::time_point deadline) noexcept = 0;
};

/// An exporter that drops every batch and reports success.
class NullSpanExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<std::unique_ptr<SpanData>> batch) noexcept override;
  bool Shutdown(std::chrono::steady_clock::time_point deadline) noexcept override;
};

/// Returns a NullSpanExporter (for benchmarks).
std::unique_ptr<SpanExporter> MakeDiscardingSpanExporter();

}  // namespace vllora::otel
