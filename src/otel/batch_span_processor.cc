#include "vllora/otel/batch_span_processor.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <new>
#include <string>
#include <variant>
#include <vector>

#include "otel/env.h"
#include "vllora/otel/diagnostics.h"

namespace vllora::otel {

namespace {
using Clock = std::chrono::steady_clock;

// Bumped in the child after fork(); a processor built in an earlier generation is disabled.
std::atomic<uint64_t> g_fork_generation{0};

void OnForkChild() noexcept { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

uint64_t CurrentForkGeneration() noexcept {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, &OnForkChild);
    return true;
  }();
  (void)registered;
  // relaxed: the bump happens in the child's only thread before anything else runs there.
  return g_fork_generation.load(std::memory_order_relaxed);
}

// Per-entry bookkeeping charged on top of the bytes of keys and string values.
constexpr size_t kAttributeEntryOverhead = 32;

// O(1): the arena holds exactly the keys and string values (see Attributes::StoredBytes).
size_t EstimatedAttributeBytes(const Attributes& attributes) noexcept {
  return kAttributeEntryOverhead * attributes.size() + attributes.StoredBytes();
}
// The events' and links' part of EstimatedSpanBytes (out of line: most spans have neither).
[[gnu::noinline]] size_t EventAndLinkBytes(const SpanData& span) noexcept {
  size_t bytes = 0;
  for (const Event& event : span.events) {
    bytes += sizeof(Event) + event.name.size() + EstimatedAttributeBytes(event.attributes);
  }
  for (const Link& link : span.links) {
    bytes += sizeof(Link) + EstimatedAttributeBytes(link.attributes);
  }
  return bytes;
}

// EstimatedSpanBytes, inline where OnEnd calls it: a span with no events or links (the usual
// one) is a few additions.
[[gnu::always_inline]] inline size_t SpanBytes(const SpanData& span) noexcept {
  const size_t bytes = sizeof(SpanData) + span.name.size() + span.trace_state.size() +
                       span.status_message.size() + EstimatedAttributeBytes(span.attributes);
  if (span.events.empty() && span.links.empty()) [[likely]] {
    return bytes;
  }
  return bytes + EventAndLinkBytes(span);
}
}  // namespace

size_t EstimatedSpanBytes(const SpanData& span) noexcept { return SpanBytes(span); }

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
  constexpr uint64_t kMaxConcurrentExports = 64;
  options.max_concurrent_exports = static_cast<size_t>(internal::EnvUint(
      "OTEL_BSP_MAX_CONCURRENT_EXPORTS", options.max_concurrent_exports, 1, kMaxConcurrentExports));
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
    size_t bytes = 0;  // EstimatedSpanBytes(*data), charged to queued_bytes
  };

  explicit BatchState(std::unique_ptr<SpanExporter> exp, BatchSpanProcessorOptions opts)
      : options(opts), exporter(std::move(exp)) {
    if (options.max_queue_size == 0) options.max_queue_size = 1;
    if (options.max_export_batch_size == 0) options.max_export_batch_size = 1;
    if (options.max_export_batch_size > options.max_queue_size) {
      options.max_export_batch_size = options.max_queue_size;
    }
    if (options.stats_log_interval.count() < 0) options.stats_log_interval = {};
    if (options.max_concurrent_exports == 0) options.max_concurrent_exports = 1;
    capacity = options.max_queue_size;
    if ((capacity & (capacity - 1)) == 0) index_mask = capacity - 1;
    cells = std::make_unique<Cell[]>(capacity);
    for (size_t i = 0; i < capacity; ++i) cells[i].sequence.store(i, std::memory_order_relaxed);
  }

  ~BatchState() {
    StopSenders();  // already done by the worker when it ran; here for a state it never ran on
    size_t bytes = 0;
    while (SpanData* span = Pop(bytes)) delete span;
    PublishDequeuePos();
  }

  // Returns the queue position the span took plus one (the count of spans ever pushed up to
  // and including it), or 0 when the ring is full.
  size_t Push(SpanData* span, size_t bytes) noexcept {
    size_t pos = enqueue_pos.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells[Index(pos)];
      // acquire: pairs with the consumer's release so the cell's previous read is complete.
      size_t seq = cell->sequence.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq - pos);
      if (diff == 0) {
        // relaxed: the cell's sequence (not this counter) publishes the data.
        if (enqueue_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return 0;  // full
      } else {
        pos = enqueue_pos.load(std::memory_order_relaxed);
      }
    }
    cell->data = span;
    cell->bytes = bytes;
    // release: publishes `data` to the consumer.
    cell->sequence.store(pos + 1, std::memory_order_release);
    return pos + 1;
  }

  // Takes the oldest span, or null when empty. Worker thread only (and the destructor, once
  // the worker is gone): the ring has a single consumer, so the read position is a plain
  // member, and dequeue_pos (which producers read for the queue's size) is published by
  // PublishDequeuePos() once per batch rather than written per span. Adds the span's charge
  // to `bytes`: the caller gives a whole batch's charges back to queued_bytes at once.
  SpanData* Pop(size_t& bytes) noexcept {
    const size_t pos = consumer_pos;
    Cell* cell = &cells[Index(pos)];
    // acquire: pairs with the producer's release of `data`.
    if (cell->sequence.load(std::memory_order_acquire) != pos + 1) return nullptr;  // empty
    SpanData* span = cell->data;
    bytes += cell->bytes;
    consumer_pos = pos + 1;
    // release: hands the cell back to producers one lap later.
    cell->sequence.store(pos + capacity, std::memory_order_release);
    return span;
  }

  void PublishDequeuePos() noexcept {
    // relaxed: only a size estimate (ApproxSize) reads it; cells are handed over by `sequence`.
    dequeue_pos.store(consumer_pos, std::memory_order_relaxed);
  }

  // pos % capacity, without a division for the usual power-of-two capacity.
  size_t Index(size_t pos) const noexcept {
    return index_mask != 0 ? pos & index_mask : pos % capacity;
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

  // A thread that exports the batches the worker hands it (concurrency > 1).
  struct Sender {
    std::thread thread;
    std::condition_variable cv;  // `busy` or `stop` was set
    // Handed over by swapping with the worker's batch under `send_mutex` while not busy; only
    // the sender touches it while busy. Capacity reserved up front, so it circulates between
    // the worker and the senders without allocating.
    std::vector<std::unique_ptr<SpanData>> batch;
    bool busy = false;  // guarded by `send_mutex`
    bool stop = false;  // guarded by `send_mutex`
  };

  // Exports `batch`, counts the result and frees the spans. Worker or sender thread.
  void ExportBatch(std::vector<std::unique_ptr<SpanData>>& batch) noexcept {
    const auto count = static_cast<uint64_t>(batch.size());
    ExportResult result = exporter->Export(std::span<std::unique_ptr<SpanData>>(batch));
    export_calls.fetch_add(1, std::memory_order_relaxed);
    if (result == ExportResult::kSuccess) {
      exported.fetch_add(count, std::memory_order_relaxed);
    } else {
      // Reported by MaybeLogStats(), once per interval.
      export_failures.fetch_add(count, std::memory_order_relaxed);
    }
    batch.clear();
  }

  void RunSender(Sender& sender) noexcept {
    std::unique_lock<std::mutex> lock(send_mutex);
    for (;;) {
      sender.cv.wait(lock, [&] { return sender.busy || sender.stop; });
      if (!sender.busy) return;  // stopped with nothing to export
      lock.unlock();
      ExportBatch(sender.batch);
      // The counters were written before the lock is taken again, so whoever sees this
      // sender idle (WaitForSenders) also sees them.
      lock.lock();
      sender.busy = false;
      --senders_busy;
      idle_cv.notify_all();
    }
  }

  // Adds a sender thread; false (with one diagnostic) if it cannot be started. Worker thread,
  // `send_mutex` held.
  bool StartSender() noexcept {
    try {
      auto sender = std::make_unique<Sender>();
      sender->batch.reserve(options.max_export_batch_size);
      Sender* raw = sender.get();
      senders.push_back(std::move(sender));
      try {
        // `this` outlives the thread: the worker (which holds a reference to the state) joins
        // every sender before it exits (StopSenders).
        raw->thread = std::thread([this, raw] { RunSender(*raw); });
      } catch (...) {
        senders.pop_back();
        throw;
      }
      return true;
    } catch (...) {
      EmitDiagnostic(DiagnosticLevel::kWarn,
                     "BatchSpanProcessor: cannot start a sender thread; exporting fewer batches "
                     "at a time (on the export thread)");
      return false;
    }
  }

  // The sender the next batch goes to: an idle one, a new one if fewer than `concurrency`
  // exist, or (all busy) the first to become idle; the worker waits for it before it takes the
  // batch out of the queue, so at most `concurrency` batches are ever out of it. Null: export
  // on the worker (concurrency 1, or no further sender can be started). Only the worker marks
  // a sender busy, so the one returned stays idle until Hand(). Worker thread only.
  Sender* AcquireSender() noexcept {
    if (concurrency <= 1) return nullptr;
    std::unique_lock<std::mutex> lock(send_mutex);
    for (;;) {
      for (auto& sender : senders) {
        if (!sender->busy) return sender.get();
      }
      if (senders.size() < concurrency) {
        if (!senders_failed && StartSender()) continue;
        senders_failed = true;
        return nullptr;  // every sender is busy and no other can start: export here
      }
      idle_cv.wait(lock, [&] { return senders_busy < senders.size(); });
    }
  }

  // Exports `batch` on `sender` (from AcquireSender), or here when it is null; leaves `batch`
  // empty. Worker thread only.
  void Hand(Sender* sender, std::vector<std::unique_ptr<SpanData>>& batch) noexcept {
    if (sender == nullptr) {
      ExportBatch(batch);
      return;
    }
    std::lock_guard<std::mutex> lock(send_mutex);
    sender->batch.swap(batch);  // `batch` gets the sender's empty, reserved vector
    sender->busy = true;
    ++senders_busy;
    sender->cv.notify_one();
  }

  // Waits until no sender is exporting. Worker thread only.
  void WaitForSenders() noexcept {
    if (concurrency <= 1) return;
    std::unique_lock<std::mutex> lock(send_mutex);
    idle_cv.wait(lock, [&] { return senders_busy == 0; });
  }

  // Stops and joins the (idle) senders. Worker thread (or the destructor) only.
  void StopSenders() noexcept {
    std::vector<std::unique_ptr<Sender>> stopping;
    {
      std::lock_guard<std::mutex> lock(send_mutex);
      for (auto& sender : senders) {
        sender->stop = true;
        sender->cv.notify_one();
      }
      stopping.swap(senders);
    }
    for (auto& sender : stopping) {
      if (sender->thread.joinable()) sender->thread.join();
    }
  }

  // Exports what is queued, in batches of at most max_export_batch_size. With concurrency 1,
  // or when `whole_queue` (flush, shutdown, schedule delay), everything, the last batch
  // possibly partial. With batches in flight the worker is back here as soon as a batch is
  // handed over, so a partial rest would go out as its own small request: it waits for the
  // next full batch (or the next forced export) instead. Worker thread only.
  void ExportAll(std::vector<std::unique_ptr<SpanData>>& batch, bool whole_queue) noexcept {
    whole_queue = whole_queue || concurrency <= 1;
    for (;;) {
      // relaxed: a size estimate; Pop() reads each cell's sequence.
      const size_t queued = enqueue_pos.load(std::memory_order_relaxed) - consumer_pos;
      if (queued == 0 || (!whole_queue && queued < options.max_export_batch_size)) return;
      Sender* sender = AcquireSender();
      batch.clear();
      size_t bytes = 0;
      while (batch.size() < options.max_export_batch_size) {
        SpanData* span = Pop(bytes);
        if (span == nullptr) break;
        batch.emplace_back(span);  // capacity reserved up front: cannot throw
      }
      PublishDequeuePos();
      // relaxed: a statistic and a limit; the spans themselves are published by `sequence`.
      if (bytes != 0) queued_bytes.fetch_sub(bytes, std::memory_order_relaxed);
      if (batch.empty()) return;
      Hand(sender, batch);
    }
  }

  // One summary of what was dropped or failed since the previous one; at most once per
  // stats_log_interval unless `force` (shutdown), and only when something happened.
  void MaybeLogStats(bool force) noexcept {
    const uint64_t queue_full = dropped_queue_full.load(std::memory_order_relaxed);
    const uint64_t byte_limit = dropped_byte_limit.load(std::memory_order_relaxed);
    const uint64_t failed = export_failures.load(std::memory_order_relaxed);
    if (queue_full == logged_queue_full && byte_limit == logged_byte_limit &&
        failed == logged_failed) {
      return;
    }
    const Clock::time_point now = Clock::now();
    if (!force && logged_once && now - last_stats_log < options.stats_log_interval) return;
    try {
      std::string message =
          "BatchSpanProcessor: dropped " + std::to_string(queue_full - logged_queue_full) +
          " span(s) with the queue full (max_queue_size, OTEL_BSP_MAX_QUEUE_SIZE), " +
          std::to_string(byte_limit - logged_byte_limit) +
          " over the byte limit (max_queue_bytes); " + std::to_string(failed - logged_failed) +
          " span(s) failed to export; totals since start: " + std::to_string(queue_full) + " / " +
          std::to_string(byte_limit) + " / " + std::to_string(failed);
      EmitDiagnostic(DiagnosticLevel::kWarn, message);
    } catch (...) {
      // Out of memory while formatting: the counters stay readable through Stats().
    }
    logged_queue_full = queue_full;
    logged_byte_limit = byte_limit;
    logged_failed = failed;
    logged_once = true;
    last_stats_log = now;
  }

  // Waking the worker costs the producer that does it a futex call, and the kernel an
  // interrupt to the worker's core: ~30 us per batch on the VM of docs/performance.md, 7% of
  // B1. While batches fill at a steady pace the worker wakes itself instead, when the next one
  // should be full, and producers wake it only when the queue is half full (`paced`).
  struct Pacing {
    Clock::time_point last_full{};  // when the worker last found a full batch
    size_t last_enqueued = 0;       // enqueue_pos then
    Clock::duration batch_time{};   // how long a batch took to fill since
    Clock::time_point poll_at{};    // when a paced worker looks again
  };
  // Pacing above: batches that fill in this range of time (faster ones would wake the worker
  // too often).
  static constexpr std::chrono::microseconds kMinPacedFill{50};
  static constexpr std::chrono::milliseconds kMaxPacedFill{20};

  // Updates the pacing after a wake-up that was not a flush, shutdown or schedule-delay export;
  // `woken` if a producer asked for it.
  void Pace(Pacing& pacing, Clock::time_point now, bool full, bool woken) noexcept {
    if (!full) {
      // A producer's wake that came while the worker was busy (its count of the queue lags
      // by the batch being taken): nothing to learn.
      if (woken) return;
      // Looked too early: the pace fell. Producers wake the worker again at the next full
      // batch, and two full batches in a row pace it again.
      // relaxed: a hint to producers; the worker's wait re-checks the size under its mutex.
      paced.store(false, std::memory_order_relaxed);
      pacing.last_full = Clock::time_point{};
      return;
    }
    // relaxed: a count of spans pushed, for a rate.
    const size_t enqueued = enqueue_pos.load(std::memory_order_relaxed);
    bool steady = false;
    if (pacing.last_full != Clock::time_point{}) {
      const size_t arrived = enqueued - pacing.last_enqueued;
      if (arrived >= options.max_export_batch_size) {
        pacing.batch_time = (now - pacing.last_full) *
                            static_cast<Clock::rep>(options.max_export_batch_size) /
                            static_cast<Clock::rep>(arrived);
        steady = pacing.batch_time >= kMinPacedFill && pacing.batch_time <= kMaxPacedFill &&
                 PacedWakeThreshold() > 0;
      }
    }
    paced.store(steady, std::memory_order_relaxed);
    pacing.last_full = now;
    pacing.last_enqueued = enqueued;
  }

  // After an export by a paced worker: the next look is when what is left in the queue should
  // have grown to a batch, a little later so that a small change of pace does not find it short.
  void SchedulePoll(Pacing& pacing, Clock::time_point now) const noexcept {
    const size_t batch = options.max_export_batch_size;
    const size_t queued = ApproxSize();
    const size_t missing = queued < batch ? batch - queued : 0;
    pacing.poll_at =
        now +
        pacing.batch_time * static_cast<Clock::rep>(missing) / static_cast<Clock::rep>(batch) +
        pacing.batch_time / 16;
  }

  // The queue size at which producers wake a paced worker (0: never paced, the queue is too
  // small for a margin above one batch).
  size_t PacedWakeThreshold() const noexcept {
    const size_t half = capacity / 2;
    return half > options.max_export_batch_size ? half : 0;
  }

  void Run() noexcept {
    std::vector<std::unique_ptr<SpanData>> batch;
    try {
      batch.reserve(options.max_export_batch_size);
    } catch (...) {
      EmitDiagnostic(DiagnosticLevel::kError, "BatchSpanProcessor: out of memory");
    }
    Clock::time_point next_export = Clock::now() + options.schedule_delay;
    Pacing pacing;
    for (;;) {
      bool stopping = false;
      bool woken = false;  // by a producer (wake_pending)
      uint64_t flush_target = 0;
      Clock::time_point flush_by;
      {
        std::unique_lock<std::mutex> lock(mutex);
        const Clock::time_point wake_at =
            paced.load(std::memory_order_relaxed) && pacing.poll_at < next_export ? pacing.poll_at
                                                                                  : next_export;
        worker_cv.wait_until(lock, wake_at, [&] {
          return stop || flush_requested != flush_done ||
                 wake_pending.load(std::memory_order_relaxed) ||
                 ApproxSize() >= options.max_export_batch_size;
        });
        stopping = stop;
        flush_target = flush_requested;
        flush_by = flush_deadline;
        woken = wake_pending.exchange(false, std::memory_order_relaxed);
      }
      const Clock::time_point now = Clock::now();
      const bool flushing = flush_target != flush_done_seen;
      const bool forced = stopping || flushing || now >= next_export;
      const bool full = ApproxSize() >= options.max_export_batch_size;
      if (!forced) Pace(pacing, now, full, woken);
      if (forced || full) {
        ExportAll(batch, forced);
        const Clock::time_point done = Clock::now();
        next_export = done + options.schedule_delay;
        if (paced.load(std::memory_order_relaxed)) SchedulePoll(pacing, done);
      }
      // A flush or shutdown covers the batches in flight too (and their failures the summary).
      if (stopping || flushing) WaitForSenders();
      MaybeLogStats(stopping);
      if (flushing) {
        Clock::time_point exporter_deadline = Clock::now() + options.export_timeout;
        if (flush_by < exporter_deadline) exporter_deadline = flush_by;
        exporter->ForceFlush(exporter_deadline);
        flush_done_seen = flush_target;
        std::lock_guard<std::mutex> lock(mutex);
        flush_done = flush_target;
        done_cv.notify_all();
      }
      if (stopping) {
        StopSenders();
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
  size_t index_mask = 0;  // capacity - 1 when capacity is a power of two (> 1)
  // Cache lines by writer, so producers' per-span reads and writes do not share a line with
  // what the worker writes per batch.
  alignas(64) std::atomic<size_t> enqueue_pos{0};
  alignas(64) std::atomic<size_t> dequeue_pos{0};  // written once per batch (PublishDequeuePos)
  size_t consumer_pos = 0;                         // worker only: the next cell to read
  alignas(64) std::atomic<bool> wake_pending{false};
  std::atomic<bool> paced{false};  // the worker wakes itself: see Pacing
  std::atomic<bool> shut_down{false};
  alignas(64) std::atomic<size_t> queued_bytes{0};  // producers per span, the worker per batch
  alignas(64) std::atomic<uint64_t> exported{0};
  std::atomic<uint64_t> dropped_queue_full{0};
  std::atomic<uint64_t> export_failures{0};
  std::atomic<uint64_t> export_calls{0};
  std::atomic<uint64_t> dropped_byte_limit{0};
  std::atomic<uint64_t> dropped_in_fork_child{0};
  uint64_t fork_generation = CurrentForkGeneration();
  // Export() calls in progress at most: min(options, exporter); set before the worker starts.
  size_t concurrency = 1;

  // The sender threads (concurrency > 1), started by the worker on first need.
  std::mutex send_mutex;
  std::condition_variable idle_cv;               // a sender became idle
  std::vector<std::unique_ptr<Sender>> senders;  // guarded by `send_mutex`
  size_t senders_busy = 0;                       // guarded by `send_mutex`
  bool senders_failed = false;                   // worker only: a sender could not start

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
  uint64_t logged_queue_full = 0;
  uint64_t logged_byte_limit = 0;
  uint64_t logged_failed = 0;
  bool logged_once = false;
  Clock::time_point last_stats_log;
};

}  // namespace internal

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter,
                                       BatchSpanProcessorOptions options)
    : state_(std::make_shared<internal::BatchState>(std::move(exporter), options)) {
  if (!state_->exporter) {
    state_->exporter = MakeDiscardingSpanExporter();
  }
  state_->concurrency = std::max<size_t>(1, std::min(state_->options.max_concurrent_exports,
                                                     state_->exporter->MaxConcurrentExports()));
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

BatchSpanProcessor::~BatchSpanProcessor() {
  if (InForkChild()) {
    AbandonInForkChild();
    return;
  }
  Shutdown(Clock::now() + std::chrono::seconds(5));
}

bool BatchSpanProcessor::InForkChild() const noexcept {
  // relaxed: see CurrentForkGeneration().
  return g_fork_generation.load(std::memory_order_relaxed) != state_->fork_generation;
}

void BatchSpanProcessor::AbandonInForkChild() noexcept {
  // The worker thread does not exist in the child, and its mutexes may have been copied while
  // held: neither join nor lock. Leaking the std::thread object (instead of destroying a
  // joinable one, which terminates) and one reference to the state (whose destructor would run
  // the exporter's) keeps the parent's transport untouched. Memory: one queue, once per fork.
  if (worker_.joinable()) new (std::nothrow) std::thread(std::move(worker_));
  if (worker_.joinable()) worker_.detach();  // only if the allocation above failed
  new (std::nothrow) std::shared_ptr<internal::BatchState>(state_);
}

void BatchSpanProcessor::OnStart(Span&, const Context&) noexcept {}

void BatchSpanProcessor::OnEnd(std::unique_ptr<SpanData>&& span) noexcept {
  if (!span || !span->IsSampled()) return;
  internal::BatchState& state = *state_;
  // acquire: pairs with Shutdown's release; spans ended after shutdown are not queued.
  if (state.shut_down.load(std::memory_order_acquire)) return;
  if (InForkChild()) {
    state.dropped_in_fork_child.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const size_t bytes = SpanBytes(*span);
  if (state.options.max_queue_bytes != 0) {
    // relaxed: the limit is a bound on memory, not a synchronisation point. Reserve first so
    // concurrent producers can never overshoot it together.
    const size_t before = state.queued_bytes.fetch_add(bytes, std::memory_order_relaxed);
    if (before + bytes > state.options.max_queue_bytes) {
      state.queued_bytes.fetch_sub(bytes, std::memory_order_relaxed);
      state.dropped_byte_limit.fetch_add(1, std::memory_order_relaxed);
      return;  // the caller's unique_ptr frees the span
    }
  } else {
    state.queued_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
  const size_t pushed = state.Push(span.get(), bytes);
  if (pushed == 0) {
    state.queued_bytes.fetch_sub(bytes, std::memory_order_relaxed);
    state.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
    return;  // the caller's unique_ptr frees the span
  }
  (void)span.release();  // now owned by the queue; counted by enqueue_pos (see Stats)
  // Wake the worker once per full batch; the flag keeps this to one mutex section per batch,
  // and is read before it is written so a producer ahead of a busy worker does not write its
  // cache line per span. dequeue_pos lags by at most the batch being popped (the size is
  // then overestimated, never under); it can be past `pushed` when later spans of other
  // producers were already taken.
  // relaxed: a statistic; the worker's wait re-checks the size under its mutex.
  const size_t head = state.dequeue_pos.load(std::memory_order_relaxed);
  if (pushed > head && pushed - head >= state.options.max_export_batch_size &&
      (!state.paced.load(std::memory_order_relaxed) ||
       pushed - head >= state.PacedWakeThreshold()) &&
      !state.wake_pending.load(std::memory_order_relaxed) &&
      !state.wake_pending.exchange(true, std::memory_order_relaxed)) {
    state.WakeWorker();
  }
}

bool BatchSpanProcessor::ForceFlush(Clock::time_point deadline) noexcept {
  if (InForkChild()) return false;  // the parent's queue is the parent's to export
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
  if (InForkChild()) return true;  // nothing of the child's own to drain; see the header
  std::lock_guard<std::mutex> guard(shutdown_mutex_);
  if (shutdown_called_) return shutdown_result_;
  shutdown_called_ = true;
  internal::BatchState& state = *state_;
  // release: OnEnd calls that observe the flag stop queueing.
  state.shut_down.store(true, std::memory_order_release);
  // The worker drains and shuts the exporter down itself. If it is still busy when most of the
  // time is gone (an export stuck on a slow or absent receiver), the exporter is shut down from
  // here, which cancels the export in flight (SpanExporter allows Shutdown() from another
  // thread), so the worker can still finish and be joined by the deadline.
  const Clock::time_point now = Clock::now();
  const Clock::time_point cancel_at = deadline > now ? now + (deadline - now) * 4 / 5 : deadline;
  bool finished = false;
  bool cancelled = false;
  {
    std::unique_lock<std::mutex> lock(state.mutex);
    state.stop = true;
    state.shutdown_deadline = deadline;
    state.worker_cv.notify_one();
    finished = state.done_cv.wait_until(lock, cancel_at, [&] { return state.worker_exited; });
  }
  if (!finished) {
    cancelled = true;
    EmitDiagnostic(DiagnosticLevel::kWarn,
                   "BatchSpanProcessor: shutdown deadline near while exporting; cancelling the "
                   "export in flight (its spans count as failed)");
    state.exporter->Shutdown(deadline);
    std::unique_lock<std::mutex> lock(state.mutex);
    finished = state.done_cv.wait_until(lock, deadline, [&] { return state.worker_exited; });
  }
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    // A cancelled export lost spans: the shutdown did not fully succeed even if it ended in time.
    shutdown_result_ = finished && !cancelled && state.exporter_shutdown_ok;
  }
  if (worker_.joinable()) {
    if (finished) {
      worker_.join();
    } else {
      // The exporter is stuck. The worker owns a reference to the state (and the exporter), so
      // it can finish on its own later without touching this object.
      worker_.detach();
      EmitDiagnostic(DiagnosticLevel::kWarn,
                     "BatchSpanProcessor: shutdown deadline passed while exporting and the "
                     "exporter did not cancel; abandoning the export thread");
    }
  }
  return shutdown_result_;
}

BatchSpanProcessorStats BatchSpanProcessor::Stats() const noexcept {
  const internal::BatchState& state = *state_;
  BatchSpanProcessorStats stats;
  // Every successful Push advances enqueue_pos by one, so it counts the spans enqueued.
  stats.enqueued = state.enqueue_pos.load(std::memory_order_relaxed);
  stats.exported = state.exported.load(std::memory_order_relaxed);
  stats.dropped_queue_full = state.dropped_queue_full.load(std::memory_order_relaxed);
  stats.export_failures = state.export_failures.load(std::memory_order_relaxed);
  stats.export_calls = state.export_calls.load(std::memory_order_relaxed);
  stats.dropped_byte_limit = state.dropped_byte_limit.load(std::memory_order_relaxed);
  stats.dropped_in_fork_child = state.dropped_in_fork_child.load(std::memory_order_relaxed);
  stats.queued_bytes = state.queued_bytes.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace vllora::otel
