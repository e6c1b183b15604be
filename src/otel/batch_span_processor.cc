#include "vllora/otel/batch_span_processor.h"

#include <condition_variable>
#include <cstddef>
#include <string>
#include <vector>

#include "otel/env.h"
#include "vllora/otel/diagnostics.h"

namespace vllora::otel {

namespace {
using Clock = std::chrono::steady_clock;
// Queue-full drops are reported at most this often (they can happen once per span).
constexpr auto kDropLogInterval = std::chrono::seconds(10);
}  // namespace

BatchSpanProcessorOptions BatchSpanProcessorOptions::FromEnv() {
  constexpr uint64_t kMaxSize = uint64_t{1} << 24;
  constexpr uint64_t kMaxMillis = uint64_t{1} << 31;
  BatchSpanProcessorOptions options;
  options.max_queue_size = static_cast<size_t>(
      internal::EnvUint("OTEL_BSP_MAX_QUEUE_SIZE", options.max_queue_size, 1, kMaxSize));
  options.schedule_delay = std::chrono::milliseconds(
      internal::EnvUint("OTEL_BSP_SCHEDULE_DELAY",
                        static_cast<uint64_t>(options.schedule_delay.count()), 1, kMaxMillis));
  options.export_timeout = std::chrono::milliseconds(
      internal::EnvUint("OTEL_BSP_EXPORT_TIMEOUT",
                        static_cast<uint64_t>(options.export_timeout.count()), 1, kMaxMillis));
  options.max_export_batch_size = static_cast<size_t>(internal::EnvUint(
      "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", options.max_export_batch_size, 1, kMaxSize));
  if (options.max_export_batch_size > options.max_queue_size) {
    options.max_export_batch_size = options.max_queue_size;
  }
  return options;
}

namespace internal {

// State shared between the processor and its worker thread. The worker owns a reference, so a
// worker detached after a missed Shutdown() deadline never touches freed memory.
struct BatchState {
  // Bounded MPMC ring (D. Vyukov's algorithm): each cell's sequence number says whether it is
  // free for the producer at `pos` (sequence == pos) or full for the consumer at `pos`
  // (sequence == pos + 1). Producers never wait: a full ring is reported immediately.
  struct Cell {
    std::atomic<size_t> sequence{0};
    SpanData* data = nullptr;
  };

  explicit BatchState(std::unique_ptr<SpanExporter> exp, BatchSpanProcessorOptions opts)
      : options(opts), exporter(std::move(exp)) {
    if (options.max_queue_size == 0) options.max_queue_size = 1;
    if (options.max_export_batch_size == 0) options.max_export_batch_size = 1;
    if (options.max_export_batch_size > options.max_queue_size) {
      options.max_export_batch_size = options.max_queue_size;
    }
    capacity = options.max_queue_size;
    cells = std::make_unique<Cell[]>(capacity);
    for (size_t i = 0; i < capacity; ++i) cells[i].sequence.store(i, std::memory_order_relaxed);
  }

  ~BatchState() {
    while (SpanData* span = Pop()) delete span;
  }

  bool Push(SpanData* span) noexcept {
    size_t pos = enqueue_pos.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells[pos % capacity];
      // acquire: pairs with the consumer's release so the cell's previous read is complete.
      size_t seq = cell->sequence.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq - pos);
      if (diff == 0) {
        // relaxed: the cell's sequence (not this counter) publishes the data.
        if (enqueue_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = enqueue_pos.load(std::memory_order_relaxed);
      }
    }
    cell->data = span;
    // release: publishes `data` to the consumer.
    cell->sequence.store(pos + 1, std::memory_order_release);
    return true;
  }

  SpanData* Pop() noexcept {
    size_t pos = dequeue_pos.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells[pos % capacity];
      // acquire: pairs with the producer's release of `data`.
      size_t seq = cell->sequence.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq - (pos + 1));
      if (diff == 0) {
        if (dequeue_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return nullptr;  // empty
      } else {
        pos = dequeue_pos.load(std::memory_order_relaxed);
      }
    }
    SpanData* span = cell->data;
    // release: hands the cell back to producers one lap later.
    cell->sequence.store(pos + capacity, std::memory_order_release);
    return span;
  }

  size_t ApproxSize() const noexcept {
    size_t head = dequeue_pos.load(std::memory_order_relaxed);
    size_t tail = enqueue_pos.load(std::memory_order_relaxed);
    return tail >= head ? tail - head : 0;
  }

  void WakeWorker() noexcept {
    std::lock_guard<std::mutex> lock(mutex);
    worker_cv.notify_one();
  }

  // Exports everything queued, in batches. Runs on the worker thread only.
  void ExportAll(std::vector<std::unique_ptr<SpanData>>& batch) noexcept {
    for (;;) {
      batch.clear();
      while (batch.size() < options.max_export_batch_size) {
        SpanData* span = Pop();
        if (span == nullptr) break;
        batch.emplace_back(span);  // capacity reserved up front: cannot throw
      }
      if (batch.empty()) return;
      const auto count = static_cast<uint64_t>(batch.size());
      ExportResult result = exporter->Export(std::span<std::unique_ptr<SpanData>>(batch));
      export_calls.fetch_add(1, std::memory_order_relaxed);
      if (result == ExportResult::kSuccess) {
        exported.fetch_add(count, std::memory_order_relaxed);
      } else {
        export_failures.fetch_add(count, std::memory_order_relaxed);
        EmitDiagnostic(DiagnosticLevel::kWarn,
                       "BatchSpanProcessor: export of " + std::to_string(count) + " spans failed");
      }
      batch.clear();
    }
  }

  void MaybeLogDrops(bool force) noexcept {
    uint64_t dropped = dropped_queue_full.load(std::memory_order_relaxed);
    if (dropped == dropped_logged) return;
    Clock::time_point now = Clock::now();
    if (!force && dropped_logged_once && now - last_drop_log < kDropLogInterval) return;
    try {
      EmitDiagnostic(DiagnosticLevel::kWarn, "BatchSpanProcessor: queue full, dropped " +
                                                 std::to_string(dropped - dropped_logged) +
                                                 " spans (" + std::to_string(dropped) +
                                                 " total); consider raising "
                                                 "OTEL_BSP_MAX_QUEUE_SIZE");
    } catch (...) {
    }
    dropped_logged = dropped;
    dropped_logged_once = true;
    last_drop_log = now;
  }

  void Run() noexcept {
    std::vector<std::unique_ptr<SpanData>> batch;
    try {
      batch.reserve(options.max_export_batch_size);
    } catch (...) {
      EmitDiagnostic(DiagnosticLevel::kError, "BatchSpanProcessor: out of memory");
    }
    Clock::time_point next_export = Clock::now() + options.schedule_delay;
    for (;;) {
      bool stopping = false;
      uint64_t flush_target = 0;
      Clock::time_point flush_by;
      {
        std::unique_lock<std::mutex> lock(mutex);
        worker_cv.wait_until(lock, next_export, [&] {
          return stop || flush_requested != flush_done ||
                 wake_pending.load(std::memory_order_relaxed) ||
                 ApproxSize() >= options.max_export_batch_size;
        });
        stopping = stop;
        flush_target = flush_requested;
        flush_by = flush_deadline;
        wake_pending.store(false, std::memory_order_relaxed);
      }
      const Clock::time_point now = Clock::now();
      if (stopping || flush_target != flush_done_seen || now >= next_export ||
          ApproxSize() >= options.max_export_batch_size) {
        ExportAll(batch);
        next_export = Clock::now() + options.schedule_delay;
      }
      MaybeLogDrops(stopping);
      if (flush_target != flush_done_seen) {
        Clock::time_point exporter_deadline = Clock::now() + options.export_timeout;
        if (flush_by < exporter_deadline) exporter_deadline = flush_by;
        exporter->ForceFlush(exporter_deadline);
        flush_done_seen = flush_target;
        std::lock_guard<std::mutex> lock(mutex);
        flush_done = flush_target;
        done_cv.notify_all();
      }
      if (stopping) {
        Clock::time_point stop_by;
        {
          std::lock_guard<std::mutex> lock(mutex);
          stop_by = shutdown_deadline;
        }
        bool ok = exporter->Shutdown(stop_by);
        std::lock_guard<std::mutex> lock(mutex);
        exporter_shutdown_ok = ok;
        worker_exited = true;
        done_cv.notify_all();
        return;
      }
    }
  }

  BatchSpanProcessorOptions options;
  std::unique_ptr<SpanExporter> exporter;
  std::unique_ptr<Cell[]> cells;
  size_t capacity = 0;
  alignas(64) std::atomic<size_t> enqueue_pos{0};
  alignas(64) std::atomic<size_t> dequeue_pos{0};
  alignas(64) std::atomic<bool> wake_pending{false};
  std::atomic<bool> shut_down{false};

  std::atomic<uint64_t> enqueued{0};
  std::atomic<uint64_t> exported{0};
  std::atomic<uint64_t> dropped_queue_full{0};
  std::atomic<uint64_t> export_failures{0};
  std::atomic<uint64_t> export_calls{0};

  // Guarded by `mutex`.
  std::mutex mutex;
  std::condition_variable worker_cv;
  std::condition_variable done_cv;
  bool stop = false;
  bool worker_exited = false;
  bool exporter_shutdown_ok = true;
  uint64_t flush_requested = 0;
  uint64_t flush_done = 0;
  Clock::time_point flush_deadline;
  Clock::time_point shutdown_deadline;

  // Worker thread only.
  uint64_t flush_done_seen = 0;
  uint64_t dropped_logged = 0;
  bool dropped_logged_once = false;
  Clock::time_point last_drop_log;
};

}  // namespace internal

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter,
                                       BatchSpanProcessorOptions options)
    : state_(std::make_shared<internal::BatchState>(std::move(exporter), options)) {
  if (!state_->exporter) {
    state_->exporter = MakeDiscardingSpanExporter();
  }
  try {
    worker_ = std::thread([state = state_] { state->Run(); });
  } catch (...) {
    EmitDiagnostic(DiagnosticLevel::kError,
                   "BatchSpanProcessor: cannot start the export thread; spans will be dropped");
    state_->shut_down.store(true, std::memory_order_release);
    state_->worker_exited = true;
    shutdown_called_ = true;
  }
}

BatchSpanProcessor::~BatchSpanProcessor() { Shutdown(Clock::now() + std::chrono::seconds(5)); }

void BatchSpanProcessor::OnStart(Span&, const Context&) noexcept {}

void BatchSpanProcessor::OnEnd(std::unique_ptr<SpanData>&& span) noexcept {
  if (!span || !span->IsSampled()) return;
  internal::BatchState& state = *state_;
  // acquire: pairs with Shutdown's release; spans ended after shutdown are not queued.
  if (state.shut_down.load(std::memory_order_acquire)) return;
  if (!state.Push(span.get())) {
    state.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
    return;  // the caller's unique_ptr frees the span
  }
  (void)span.release();  // now owned by the queue
  state.enqueued.fetch_add(1, std::memory_order_relaxed);
  // Wake the worker once per full batch; the flag keeps this to one mutex section per batch.
  if (state.ApproxSize() >= state.options.max_export_batch_size &&
      !state.wake_pending.exchange(true, std::memory_order_relaxed)) {
    state.WakeWorker();
  }
}

bool BatchSpanProcessor::ForceFlush(Clock::time_point deadline) noexcept {
  internal::BatchState& state = *state_;
  std::unique_lock<std::mutex> lock(state.mutex);
  if (state.worker_exited || state.stop) return state.ApproxSize() == 0;
  const uint64_t target = ++state.flush_requested;
  state.flush_deadline = deadline;
  state.worker_cv.notify_one();
  return state.done_cv.wait_until(
      lock, deadline, [&] { return state.flush_done >= target || state.worker_exited; });
}

bool BatchSpanProcessor::Shutdown(Clock::time_point deadline) noexcept {
  std::lock_guard<std::mutex> guard(shutdown_mutex_);
  if (shutdown_called_) return shutdown_result_;
  shutdown_called_ = true;
  internal::BatchState& state = *state_;
  // release: OnEnd calls that observe the flag stop queueing.
  state.shut_down.store(true, std::memory_order_release);
  bool finished = false;
  {
    std::unique_lock<std::mutex> lock(state.mutex);
    state.stop = true;
    state.shutdown_deadline = deadline;
    state.worker_cv.notify_one();
    finished = state.done_cv.wait_until(lock, deadline, [&] { return state.worker_exited; });
    shutdown_result_ = finished && state.exporter_shutdown_ok;
  }
  if (worker_.joinable()) {
    if (finished) {
      worker_.join();
    } else {
      // The exporter is stuck. The worker owns a reference to the state (and the exporter), so
      // it can finish on its own later without touching this object.
      worker_.detach();
      EmitDiagnostic(DiagnosticLevel::kWarn,
                     "BatchSpanProcessor: shutdown deadline passed while exporting; "
                     "abandoning the export thread");
    }
  }
  return shutdown_result_;
}

BatchSpanProcessorStats BatchSpanProcessor::Stats() const noexcept {
  const internal::BatchState& state = *state_;
  BatchSpanProcessorStats stats;
  stats.enqueued = state.enqueued.load(std::memory_order_relaxed);
  stats.exported = state.exported.load(std::memory_order_relaxed);
  stats.dropped_queue_full = state.dropped_queue_full.load(std::memory_order_relaxed);
  stats.export_failures = state.export_failures.load(std::memory_order_relaxed);
  stats.export_calls = state.export_calls.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace vllora::otel
