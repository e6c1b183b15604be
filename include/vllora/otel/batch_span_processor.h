// BatchSpanProcessor: the production processor. Span::End() pushes the SpanData into a bounded
// lock-free queue and returns; a background thread exports batches when a batch is full or the
// schedule delay elapses. When the queue is full the span is dropped and counted (never blocks).
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
  /// Spans held in memory before new ones are dropped.
  size_t max_queue_size = 2048;
  /// Maximum time between exports.
  std::chrono::milliseconds schedule_delay{5000};
  /// Deadline given to the exporter's ForceFlush(); exporters enforce their own Export timeout.
  std::chrono::milliseconds export_timeout{30000};
  /// Spans per Export() call (clamped to max_queue_size).
  size_t max_export_batch_size = 512;

  /// Reads OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_SCHEDULE_DELAY (ms), OTEL_BSP_EXPORT_TIMEOUT (ms),
  /// OTEL_BSP_MAX_EXPORT_BATCH_SIZE. An invalid value (anything but a positive decimal integer)
  /// emits one kWarn naming the variable and value, and the default applies. The batch size is
  /// clamped to the queue size.
  static BatchSpanProcessorOptions FromEnv();
};

/// Counters, readable at any time.
struct BatchSpanProcessorStats {
  uint64_t enqueued = 0;
  uint64_t exported = 0;
  uint64_t dropped_queue_full = 0;
  /// Spans in exports that returned kFailure.
  uint64_t export_failures = 0;
  uint64_t export_calls = 0;
};

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
  /// with a short mutex section once per full batch). Queue full: drop + count.
  void OnEnd(std::unique_ptr<SpanData>&& span) noexcept override;
  /// Exports everything queued before the call; returns false if `deadline` passed first.
  bool ForceFlush(std::chrono::steady_clock::time_point deadline) noexcept override;
  /// Drains the queue, shuts the exporter down and stops the worker. Returns false if
  /// `deadline` passed first (the worker is then detached and finishes on its own; it owns the
  /// exporter). Idempotent. Spans ended afterwards are dropped.
  bool Shutdown(std::chrono::steady_clock::time_point deadline) noexcept override;
  bool NeedsOnStart() const noexcept override { return false; }

  /// Snapshot of the counters. Allocation: none. Blocking: never.
  BatchSpanProcessorStats Stats() const noexcept;

 private:
  std::shared_ptr<internal::BatchState> state_;  // shared with the worker thread
  std::thread worker_;
  std::mutex shutdown_mutex_;
  bool shutdown_called_ = false;
  bool shutdown_result_ = true;
};

}  // namespace vllora::otel
