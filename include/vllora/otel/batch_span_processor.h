// BatchSpanProcessor: the production processor. Span::End() pushes the SpanData into a bounded
// lock-free queue and returns; a background thread exports batches when a batch is full or the
// schedule delay elapses. With an exporter that accepts concurrent Export() calls
// (SpanExporter::MaxConcurrentExports() > 1, e.g. OTLP/gRPC), up to max_concurrent_exports
// batches are in flight at once: the worker hands each batch to a sender thread and collects
// the next one while the earlier ones wait for their answers. Memory is bounded twice: by a number
// of spans (max_queue_size) and by an estimate of their bytes (max_queue_bytes, see
// EstimatedSpanBytes()). A span that does not fit is dropped and counted (never blocks); Stats()
// has the counters, and a summary goes to the SDK diagnostics (vllora/otel/diagnostics.h) at most
// once per stats_log_interval and at shutdown, only when something was dropped or failed - never
// per span.
//
// fork(): the processor belongs to the process that created it. In a child created by fork()
// it is disabled: spans ended there are dropped and counted (dropped_in_fork_child), ForceFlush()
// and Shutdown() return at once, and the exporter is never called from the child (its
// connection belongs to the parent, and the parent exports its own queue). The child's copy of
// the queue and exporter is left alone (not freed: freeing could run transport code that is not
// fork-safe). A child that wants telemetry builds a new pipeline (e.g. InitTracing() again).
//
// Options default from the OTEL_BSP_* environment variables. Read next: exporter.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "vllora/otel/exporter.h"
#include "vllora/otel/processor.h"

namespace vllora::otel {

namespace internal {
struct BatchState;
}  // namespace internal

/// Tuning for BatchSpanProcessor.
struct BatchSpanProcessorOptions {
  /// Spans held in memory before new ones are dropped. The default is larger than the OTel
  /// spec's 2048 on purpose: the queue must absorb the time the export thread waits to be
  /// scheduled. 2048 spans are ~1 ms at 2M spans/s, shorter than one scheduler slice on a busy
  /// machine (B1 dropped ~10-60% of spans that way, docs/performance.md). Memory stays bounded
  /// by max_queue_bytes; the ring itself costs 24 bytes per slot (768 KiB by default).
  size_t max_queue_size = 32768;
  /// Maximum time between exports.
  std::chrono::milliseconds schedule_delay{5000};
  /// Deadline given to the exporter's ForceFlush(); exporters enforce their own Export timeout.
  std::chrono::milliseconds export_timeout{30000};
  /// Spans per Export() call (clamped to max_queue_size). The default is 4x the OTel spec's 512
  /// on purpose: per-request costs (gRPC on both sides, the resource written once per request)
  /// are shared by 4x more spans. At a steady 1 M spans/s on 2 cores, 512 dropped ~13% of the
  /// spans and 2048 0-6% (docs/performance.md). The OTLP exporters split a request that encodes
  /// over their max_request_bytes (4 MiB - 64 KiB), so big spans still fit a receiver's limit.
  size_t max_export_batch_size = 2048;
  /// Bytes (EstimatedSpanBytes() summed) held in memory before new spans are dropped. 0 = no
  /// byte limit.
  size_t max_queue_bytes = size_t{64} << 20;
  /// At most one diagnostic summary of drops and failed exports per interval.
  std::chrono::milliseconds stats_log_interval{60000};
  /// Export() calls in progress at the same time (clamped to >= 1). The value used is
  /// min(max_concurrent_exports, exporter->MaxConcurrentExports()), so an exporter that keeps
  /// the OTel default (1) is never called concurrently. With more than 1, batches are exported
  /// by sender threads (started on first need, one per concurrent export) while the worker
  /// collects the next batch; with 1 the worker exports itself, as the OTel spec describes.
  /// Not in the OTel spec; like opentelemetry-rust's BatchConfig::with_max_concurrent_exports,
  /// whose default is 1. The default is 2 on purpose: a synchronous export waits for the
  /// receiver's answer, so one batch in flight caps throughput at batch size / round trip (B4 in
  /// docs/performance.md). OTLP allows concurrent requests (OTLP spec, "Concurrent Requests").
  size_t max_concurrent_exports = 2;

  /// Reads OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_SCHEDULE_DELAY (ms), OTEL_BSP_EXPORT_TIMEOUT (ms),
  /// OTEL_BSP_MAX_EXPORT_BATCH_SIZE, and OTEL_BSP_MAX_CONCURRENT_EXPORTS (not in the OTel spec;
  /// the name opentelemetry-rust reads). An invalid value (anything but a positive decimal integer)
  /// emits one kWarn naming the variable and value, and the default applies. The batch size is
  /// clamped to the queue size.
  static BatchSpanProcessorOptions FromEnv();
};

/// Counters, readable at any time.
struct BatchSpanProcessorStats {
  uint64_t enqueued = 0;
  uint64_t exported = 0;
  /// Spans dropped because max_queue_size spans were queued.
  uint64_t dropped_queue_full = 0;
  /// Spans in exports that returned kFailure.
  uint64_t export_failures = 0;
  uint64_t export_calls = 0;
  /// Spans dropped because queueing them would exceed max_queue_bytes.
  uint64_t dropped_byte_limit = 0;
  /// Spans ended in a child process after fork() (see the file comment).
  uint64_t dropped_in_fork_child = 0;
  /// Estimated bytes queued right now.
  uint64_t queued_bytes = 0;
};

/// The memory a finished span is estimated to hold: the SpanData itself plus its strings,
/// attribute keys and string values (with a per-entry overhead), events and links.
/// Allocation: none. Blocking: never. Cost: O(1) per attribute list, linear in events + links.
size_t EstimatedSpanBytes(const SpanData& span) noexcept;

/// Batching, asynchronous span processor. Only sampled spans are queued.
/// Thread-safety: all members are safe from any thread.
class BatchSpanProcessor : public SpanProcessor {
 public:
  /// Starts the background export thread.
  explicit BatchSpanProcessor(
      std::unique_ptr<SpanExporter> exporter,
      BatchSpanProcessorOptions options = BatchSpanProcessorOptions::FromEnv());
  /// Calls Shutdown() with a 5 s deadline if not already shut down.
  ~BatchSpanProcessor() override;
  BatchSpanProcessor(const BatchSpanProcessor&) = delete;
  BatchSpanProcessor& operator=(const BatchSpanProcessor&) = delete;

  /// No-op.
  void OnStart(Span& span, const Context& parent_context) noexcept override;
  /// Enqueues the span. Allocation: none. Blocking: never (lock-free push; wakes the worker
  /// with a short mutex section once per full batch). Queue full or byte limit reached: drop +
  /// count. In a fork() child: drop + count.
  void OnEnd(std::unique_ptr<SpanData>&& span) noexcept override;
  /// Exports everything queued before the call, and waits for the batches already in flight;
  /// returns false if `deadline` passed first.
  bool ForceFlush(std::chrono::steady_clock::time_point deadline) noexcept override;
  /// Drains the queue, waits for the exports in flight, shuts the exporter down and stops the
  /// worker and sender threads, by `deadline`. If exports are still in progress when 4/5 of the
  /// time is gone, calls the exporter's Shutdown() from this thread to cancel all of them (the
  /// OTLP exporters abort their calls), then joins the worker (which joins the senders);
  /// returns false in that case. Only if the exporter does not cancel by `deadline` is the
  /// worker detached to finish on its own (it owns the exporter and the senders). Idempotent.
  /// Spans ended afterwards are dropped.
  bool Shutdown(std::chrono::steady_clock::time_point deadline) noexcept override;
  bool NeedsOnStart() const noexcept override { return false; }

  /// Snapshot of the counters. Allocation: none. Blocking: never.
  BatchSpanProcessorStats Stats() const noexcept;

 private:
  // True in a child process created by fork() after this processor was built.
  bool InForkChild() const noexcept;
  // Called in a fork() child: gives up the (non-existent) worker and the state without running
  // their destructors.
  void AbandonInForkChild() noexcept;

  std::shared_ptr<internal::BatchState> state_;  // shared with the worker thread
  std::thread worker_;
  std::mutex shutdown_mutex_;
  bool shutdown_called_ = false;
  bool shutdown_result_ = true;
};

}  // namespace vllora::otel
