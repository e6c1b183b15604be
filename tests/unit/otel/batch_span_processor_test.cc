#include "vllora/otel/batch_span_processor.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vllora/otel/diagnostics.h"

namespace vllora::otel {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Shared between the test and the exporter (which may outlive the processor when detached).
struct ExporterProbe {
  std::mutex mutex;
  std::condition_variable cv;
  bool blocked = false;  // Export() waits while true
  int exports_entered = 0;
  std::vector<size_t> batch_sizes;
  size_t spans = 0;
  bool shutdown_called = false;

  void Release() {
    std::lock_guard<std::mutex> lock(mutex);
    blocked = false;
    cv.notify_all();
  }
  bool WaitFor(const std::function<bool()>& predicate, milliseconds timeout = milliseconds(5000)) {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, timeout, predicate);
  }
};

class ProbeExporter final : public SpanExporter {
 public:
  explicit ProbeExporter(std::shared_ptr<ExporterProbe> probe) : probe_(std::move(probe)) {}
  ExportResult Export(std::span<std::unique_ptr<SpanData>> batch) noexcept override {
    std::unique_lock<std::mutex> lock(probe_->mutex);
    ++probe_->exports_entered;
    probe_->cv.notify_all();
    probe_->cv.wait(lock, [&] { return !probe_->blocked; });
    probe_->batch_sizes.push_back(batch.size());
    probe_->spans += batch.size();
    probe_->cv.notify_all();
    return ExportResult::kSuccess;
  }
  bool Shutdown(Clock::time_point) noexcept override {
    std::lock_guard<std::mutex> lock(probe_->mutex);
    probe_->shutdown_called = true;
    return true;
  }

 private:
  std::shared_ptr<ExporterProbe> probe_;
};

std::unique_ptr<SpanData> SampledSpan() {
  auto span = std::make_unique<SpanData>();
  span->trace_flags = 1;
  span->name = "s";
  return span;
}

std::mutex g_messages_mutex;
std::vector<std::string> g_messages;

void Capture(DiagnosticLevel, std::string_view message) {
  std::lock_guard<std::mutex> lock(g_messages_mutex);
  g_messages.emplace_back(message);
}

size_t CountMessages(std::string_view needle) {
  std::lock_guard<std::mutex> lock(g_messages_mutex);
  size_t n = 0;
  for (const auto& m : g_messages) n += m.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

class BatchSpanProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      std::lock_guard<std::mutex> lock(g_messages_mutex);
      g_messages.clear();
    }
    SetDiagnosticHandler(&Capture);
  }
  void TearDown() override { SetDiagnosticHandler(nullptr); }

  std::shared_ptr<ExporterProbe> probe_ = std::make_shared<ExporterProbe>();
};

TEST_F(BatchSpanProcessorTest, ExportsWhenBatchIsFull) {
  BatchSpanProcessor processor(
      std::make_unique<ProbeExporter>(probe_),
      {.max_queue_size = 100, .schedule_delay = std::chrono::hours(1), .max_export_batch_size = 4});
  for (int i = 0; i < 4; ++i) processor.OnEnd(SampledSpan());
  ASSERT_TRUE(probe_->WaitFor([&] { return probe_->spans == 4; }));
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(5000)));  // settles Stats()
  EXPECT_EQ(probe_->batch_sizes, std::vector<size_t>{4});
  BatchSpanProcessorStats stats = processor.Stats();
  EXPECT_EQ(stats.enqueued, 4U);
  EXPECT_EQ(stats.exported, 4U);
  EXPECT_EQ(stats.export_calls, 1U);
  EXPECT_EQ(stats.dropped_queue_full, 0U);
}

// A worker that paces itself while full batches come at a steady pace (producers then wake it
// only at half a queue) must notice when they slow down, and go on exporting as soon as a batch
// is full, never after the schedule delay (an hour here). With one export at a time the worker
// takes the whole queue, so at most a part-filled batch (63 spans) waits at the end of a phase.
TEST_F(BatchSpanProcessorTest, EveryFullBatchIsExportedWhetherProducersAreFastOrSlow) {
  BatchSpanProcessor processor(std::make_unique<ProbeExporter>(probe_),
                               {.max_queue_size = 1024,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 64});
  size_t sent = 0;
  auto send = [&](size_t count, std::chrono::microseconds pause) {
    for (size_t i = 0; i < count; ++i) {
      processor.OnEnd(SampledSpan());
      std::this_thread::sleep_for(pause);
    }
    sent += count;
    return probe_->WaitFor([&] { return probe_->spans + 64 > sent; });
  };
  ASSERT_TRUE(send(64 * 30, std::chrono::microseconds(20)));   // ~1-10 ms a batch: paced
  ASSERT_TRUE(send(64 * 2, std::chrono::microseconds(1000)));  // >64 ms a batch: not paced
  ASSERT_TRUE(send(64 * 30, std::chrono::microseconds(20)));
  ASSERT_TRUE(send(64 * 2, std::chrono::microseconds(1000)));
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(5000)));
  const BatchSpanProcessorStats stats = processor.Stats();
  EXPECT_EQ(stats.exported, sent);
  EXPECT_EQ(probe_->spans, sent);
  EXPECT_EQ(stats.dropped_queue_full, 0U);
}

TEST_F(BatchSpanProcessorTest, ExportsAfterScheduleDelay) {
  BatchSpanProcessor processor(
      std::make_unique<ProbeExporter>(probe_),
      {.max_queue_size = 100, .schedule_delay = milliseconds(50), .max_export_batch_size = 50});
  processor.OnEnd(SampledSpan());
  ASSERT_TRUE(probe_->WaitFor([&] { return probe_->spans == 1; }));
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(5000)));  // settles Stats()
  EXPECT_EQ(processor.Stats().exported, 1U);
}

TEST_F(BatchSpanProcessorTest, UnsampledSpansAreNotExported) {
  BatchSpanProcessor processor(std::make_unique<ProbeExporter>(probe_),
                               {.max_queue_size = 10, .max_export_batch_size = 10});
  auto span = SampledSpan();
  span->trace_flags = 0;
  processor.OnEnd(std::move(span));
  EXPECT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(5000)));
  EXPECT_EQ(processor.Stats().enqueued, 0U);
  EXPECT_EQ(probe_->spans, 0U);
}

TEST_F(BatchSpanProcessorTest, FullQueueDropsAndCountsWithoutBlocking) {
  probe_->blocked = true;
  BatchSpanProcessor processor(
      std::make_unique<ProbeExporter>(probe_),
      {.max_queue_size = 4, .schedule_delay = std::chrono::hours(1), .max_export_batch_size = 2});
  processor.OnEnd(SampledSpan());
  processor.OnEnd(SampledSpan());
  ASSERT_TRUE(probe_->WaitFor([&] { return probe_->exports_entered == 1; }));
  // The worker is stuck in Export(); if OnEnd blocked, this loop would never finish.
  for (int i = 0; i < 100; ++i) processor.OnEnd(SampledSpan());
  BatchSpanProcessorStats stats = processor.Stats();
  EXPECT_EQ(stats.enqueued, 6U);
  EXPECT_EQ(stats.dropped_queue_full, 96U);
  probe_->Release();
  EXPECT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(5000)));
  stats = processor.Stats();
  EXPECT_EQ(stats.exported, 6U);
  EXPECT_EQ(probe_->spans, 6U);
  // Drops are reported once, not per span.
  EXPECT_EQ(CountMessages("dropped"), 1U);
  EXPECT_EQ(CountMessages("96"), 1U);
}

TEST_F(BatchSpanProcessorTest, ForceFlushAndShutdownHonourDeadlinesWithStuckExporter) {
  probe_->blocked = true;
  auto processor = std::make_unique<BatchSpanProcessor>(
      std::make_unique<ProbeExporter>(probe_),
      BatchSpanProcessorOptions{.max_queue_size = 10,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 1});
  processor->OnEnd(SampledSpan());
  ASSERT_TRUE(probe_->WaitFor([&] { return probe_->exports_entered == 1; }));
  Clock::time_point start = Clock::now();
  EXPECT_FALSE(processor->ForceFlush(start + milliseconds(100)));
  EXPECT_GE(Clock::now(), start + milliseconds(100));
  EXPECT_LT(Clock::now(), start + milliseconds(3000));
  start = Clock::now();
  EXPECT_FALSE(processor->Shutdown(start + milliseconds(100)));
  EXPECT_LT(Clock::now(), start + milliseconds(3000));
  EXPECT_FALSE(processor->Shutdown(Clock::now() + milliseconds(100)));  // idempotent
  processor.reset();                                                    // must not block either
  probe_->Release();  // the abandoned worker finishes on its own
  EXPECT_TRUE(probe_->WaitFor([&] { return probe_->shutdown_called; }));
}

// An exporter whose Export() waits until Shutdown() cancels it, as the OTLP exporters' calls to
// an unresponsive receiver do.
class CancellableExporter final : public SpanExporter {
 public:
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    bool entered = false;
    bool shut_down = false;
    int exports = 0;
    int returned = 0;
  };
  explicit CancellableExporter(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ExportResult Export(std::span<std::unique_ptr<SpanData>>) noexcept override {
    std::unique_lock<std::mutex> lock(state_->mutex);
    ++state_->exports;
    state_->entered = true;
    state_->cv.notify_all();
    state_->cv.wait(lock, [&] { return state_->shut_down; });
    ++state_->returned;
    return ExportResult::kFailure;
  }
  bool Shutdown(Clock::time_point) noexcept override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->shut_down = true;
    state_->cv.notify_all();
    return true;
  }

 private:
  std::shared_ptr<State> state_;
};

TEST_F(BatchSpanProcessorTest, ShutdownCancelsAStuckExportAndJoinsTheWorker) {
  auto exporter_state = std::make_shared<CancellableExporter::State>();
  auto processor = std::make_unique<BatchSpanProcessor>(
      std::make_unique<CancellableExporter>(exporter_state),
      BatchSpanProcessorOptions{.max_queue_size = 10,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 1});
  processor->OnEnd(SampledSpan());
  processor->OnEnd(SampledSpan());
  {
    std::unique_lock<std::mutex> lock(exporter_state->mutex);
    ASSERT_TRUE(exporter_state->cv.wait_for(lock, std::chrono::seconds(10),
                                            [&] { return exporter_state->entered; }));
  }
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + milliseconds(500);
  EXPECT_FALSE(processor->Shutdown(deadline));  // an export was cancelled: spans were lost
  EXPECT_LT(Clock::now(), start + milliseconds(3000));
  {
    // Joined, not abandoned: every Export() call has returned by the time Shutdown() did.
    std::lock_guard<std::mutex> lock(exporter_state->mutex);
    EXPECT_TRUE(exporter_state->shut_down);
    EXPECT_EQ(exporter_state->returned, exporter_state->exports);
    EXPECT_EQ(exporter_state->exports, 2);  // the second batch fails at once after the cancel
  }
  const BatchSpanProcessorStats stats = processor->Stats();
  EXPECT_EQ(stats.export_failures, 2U);
  EXPECT_EQ(stats.exported, 0U);
  EXPECT_EQ(CountMessages("cancelling the export in flight"), 1U);
  EXPECT_EQ(CountMessages("abandoning the export thread"), 0U);
}

TEST_F(BatchSpanProcessorTest, ShutdownDrainsAndRejectsLaterSpans) {
  BatchSpanProcessor processor(std::make_unique<ProbeExporter>(probe_),
                               {.max_queue_size = 100,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 50});
  for (int i = 0; i < 3; ++i) processor.OnEnd(SampledSpan());
  EXPECT_TRUE(processor.Shutdown(Clock::now() + milliseconds(5000)));
  EXPECT_EQ(probe_->spans, 3U);
  EXPECT_TRUE(probe_->shutdown_called);
  processor.OnEnd(SampledSpan());
  EXPECT_EQ(processor.Stats().enqueued, 3U);
}

TEST_F(BatchSpanProcessorTest, ManyProducers) {
  BatchSpanProcessor processor(
      std::make_unique<ProbeExporter>(probe_),
      {.max_queue_size = 100000, .schedule_delay = milliseconds(5), .max_export_batch_size = 64});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) processor.OnEnd(SampledSpan());
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(10000)));
  EXPECT_EQ(processor.Stats().exported, 8000U);
  EXPECT_EQ(probe_->spans, 8000U);
  for (size_t size : probe_->batch_sizes) EXPECT_LE(size, 64U);
}

// Concurrent exports (max_concurrent_exports, SpanExporter::MaxConcurrentExports()).

// Shared between the test and a ConcurrentExporter.
struct ConcurrencyProbe {
  std::mutex mutex;
  std::condition_variable cv;
  bool blocked = false;               // Export() waits while true (until released or shut down)
  std::chrono::microseconds hold{0};  // time each Export() stays in progress
  int in_progress = 0;
  int max_in_progress = 0;
  int calls = 0;
  std::vector<uint64_t> span_ids;  // every span exported, in arrival order
  bool shutdown_called = false;
  bool wait_timed_out = false;  // an Export() waited for its release longer than allowed

  void Release() {
    std::lock_guard<std::mutex> lock(mutex);
    blocked = false;
    cv.notify_all();
  }
  bool WaitFor(const std::function<bool()>& predicate, milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, timeout, predicate);
  }
};

// Declares `declared` concurrent exports (0: keeps SpanExporter's default) and records how
// many calls overlap. A blocked Export() returns kFailure when Shutdown() cancels it.
class ConcurrentExporter final : public SpanExporter {
 public:
  ConcurrentExporter(std::shared_ptr<ConcurrencyProbe> probe, size_t declared)
      : probe_(std::move(probe)), declared_(declared) {}
  size_t MaxConcurrentExports() const noexcept override {
    return declared_ == 0 ? SpanExporter::MaxConcurrentExports() : declared_;
  }
  ExportResult Export(std::span<std::unique_ptr<SpanData>> batch) noexcept override {
    ConcurrencyProbe& p = *probe_;
    std::unique_lock<std::mutex> lock(p.mutex);
    ++p.calls;
    ++p.in_progress;
    p.max_in_progress = std::max(p.max_in_progress, p.in_progress);
    p.cv.notify_all();
    // A generous bound, so a processor bug fails the test instead of hanging it.
    if (!p.cv.wait_for(lock, std::chrono::seconds(20),
                       [&] { return !p.blocked || p.shutdown_called; })) {
      p.wait_timed_out = true;
    }
    const bool cancelled = p.blocked;
    if (p.hold.count() > 0) {
      lock.unlock();
      std::this_thread::sleep_for(p.hold);  // widens the window in which a second call could run
      lock.lock();
    }
    for (const auto& span : batch) {
      uint64_t id = 0;
      std::memcpy(&id, span->span_id.bytes.data(), sizeof(id));
      p.span_ids.push_back(id);
    }
    --p.in_progress;
    p.cv.notify_all();
    return cancelled ? ExportResult::kFailure : ExportResult::kSuccess;
  }
  bool Shutdown(Clock::time_point) noexcept override {
    std::lock_guard<std::mutex> lock(probe_->mutex);
    probe_->shutdown_called = true;
    probe_->cv.notify_all();
    return true;
  }

 private:
  std::shared_ptr<ConcurrencyProbe> probe_;
  size_t declared_;
};

std::unique_ptr<SpanData> SampledSpanWithId(uint64_t id) {
  auto span = SampledSpan();
  std::memcpy(span->span_id.bytes.data(), &id, sizeof(id));
  return span;
}

// Ends `per_thread` sampled spans on each of `threads` threads at once; the ids are
// 1..threads * per_thread, each used once.
void EndSpansOnThreads(BatchSpanProcessor& processor, uint64_t threads, uint64_t per_thread) {
  std::vector<std::thread> running;
  for (uint64_t t = 0; t < threads; ++t) {
    running.emplace_back([&processor, t, per_thread] {
      for (uint64_t i = 1; i <= per_thread; ++i) {
        processor.OnEnd(SampledSpanWithId(t * per_thread + i));
      }
    });
  }
  for (auto& thread : running) thread.join();
}

std::vector<uint64_t> Sorted(std::vector<uint64_t> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<uint64_t> IdsUpTo(uint64_t count) {
  std::vector<uint64_t> ids;
  for (uint64_t i = 1; i <= count; ++i) ids.push_back(i);
  return ids;
}

TEST_F(BatchSpanProcessorTest, ExporterAcceptingTwoGetsTwoBatchesInFlightAndNeverMore) {
  auto probe = std::make_shared<ConcurrencyProbe>();
  probe->blocked = true;
  BatchSpanProcessor processor(std::make_unique<ConcurrentExporter>(probe, 2),
                               {.max_queue_size = 100,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 2,
                                .max_concurrent_exports = 4});  // the exporter's 2 wins
  for (uint64_t id = 1; id <= 8; ++id) processor.OnEnd(SampledSpanWithId(id));  // 4 batches
  ASSERT_TRUE(probe->WaitFor([&] { return probe->in_progress == 2; }));
  // Both batches are in flight and the worker holds the others back; the queue still absorbs.
  for (uint64_t id = 9; id <= 10; ++id) processor.OnEnd(SampledSpanWithId(id));
  EXPECT_EQ(processor.Stats().enqueued, 10U);
  probe->Release();
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(10000)));
  const BatchSpanProcessorStats stats = processor.Stats();
  EXPECT_EQ(stats.exported, 10U);
  EXPECT_EQ(stats.export_calls, 5U);
  EXPECT_EQ(stats.export_failures, 0U);
  EXPECT_EQ(stats.dropped_queue_full, 0U);
  std::lock_guard<std::mutex> lock(probe->mutex);
  EXPECT_EQ(probe->max_in_progress, 2);
  EXPECT_EQ(probe->calls, 5);
  EXPECT_EQ(probe->in_progress, 0);
  EXPECT_FALSE(probe->wait_timed_out);
  EXPECT_EQ(Sorted(probe->span_ids), IdsUpTo(10));
}

// Memory stays bounded: at most max_concurrent_exports batches are out of the queue (the worker
// waits for a free sender before it takes the next batch), the queue absorbs the rest.
TEST_F(BatchSpanProcessorTest, ConcurrentExportsTakeAtMostThatManyBatchesOutOfTheQueue) {
  auto probe = std::make_shared<ConcurrencyProbe>();
  probe->blocked = true;
  BatchSpanProcessor processor(std::make_unique<ConcurrentExporter>(probe, 2),
                               {.max_queue_size = 4,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 2,
                                .max_concurrent_exports = 2});
  processor.OnEnd(SampledSpanWithId(1));
  processor.OnEnd(SampledSpanWithId(2));
  ASSERT_TRUE(probe->WaitFor([&] { return probe->in_progress == 1; }));
  processor.OnEnd(SampledSpanWithId(3));
  processor.OnEnd(SampledSpanWithId(4));
  ASSERT_TRUE(probe->WaitFor([&] { return probe->in_progress == 2; }));
  for (uint64_t id = 5; id <= 104; ++id) processor.OnEnd(SampledSpanWithId(id));
  BatchSpanProcessorStats stats = processor.Stats();
  EXPECT_EQ(stats.enqueued, 8U);  // 2 batches in flight + a full queue of 4
  EXPECT_EQ(stats.dropped_queue_full, 96U);
  probe->Release();
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(10000)));
  stats = processor.Stats();
  EXPECT_EQ(stats.exported, 8U);
  EXPECT_EQ(stats.export_calls, 4U);
  std::lock_guard<std::mutex> lock(probe->mutex);
  EXPECT_EQ(Sorted(probe->span_ids), IdsUpTo(8));
}

TEST_F(BatchSpanProcessorTest, ExporterKeepingTheDefaultIsNeverCalledConcurrently) {
  auto probe = std::make_shared<ConcurrencyProbe>();
  probe->hold = std::chrono::microseconds(200);
  BatchSpanProcessor processor(std::make_unique<ConcurrentExporter>(probe, 0),
                               {.max_queue_size = 100000,
                                .schedule_delay = milliseconds(1),
                                .max_export_batch_size = 16,
                                .max_concurrent_exports = 4});
  EndSpansOnThreads(processor, 4, 500);
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(20000)));
  const BatchSpanProcessorStats stats = processor.Stats();
  EXPECT_EQ(stats.exported, 2000U);
  EXPECT_EQ(stats.dropped_queue_full, 0U);
  std::lock_guard<std::mutex> lock(probe->mutex);
  EXPECT_EQ(probe->max_in_progress, 1);
  EXPECT_EQ(stats.export_calls, static_cast<uint64_t>(probe->calls));
  EXPECT_EQ(Sorted(probe->span_ids), IdsUpTo(2000));
}

TEST_F(BatchSpanProcessorTest, ConcurrentExportsExportEverySpanExactlyOnce) {
  auto probe = std::make_shared<ConcurrencyProbe>();
  probe->hold = std::chrono::microseconds(100);
  BatchSpanProcessor processor(std::make_unique<ConcurrentExporter>(probe, 4),
                               {.max_queue_size = 100000,
                                .schedule_delay = milliseconds(1),
                                .max_export_batch_size = 64,
                                .max_concurrent_exports = 4});
  EndSpansOnThreads(processor, 4, 2500);
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(20000)));
  const BatchSpanProcessorStats stats = processor.Stats();
  EXPECT_EQ(stats.enqueued, 10000U);
  EXPECT_EQ(stats.exported, 10000U);
  EXPECT_EQ(stats.export_failures, 0U);
  EXPECT_EQ(stats.dropped_queue_full, 0U);
  {
    std::lock_guard<std::mutex> lock(probe->mutex);
    EXPECT_LE(probe->max_in_progress, 4);
    EXPECT_EQ(probe->in_progress, 0);
    EXPECT_EQ(stats.export_calls, static_cast<uint64_t>(probe->calls));
    EXPECT_EQ(Sorted(probe->span_ids), IdsUpTo(10000));  // each id once: nothing lost or doubled
  }
  EXPECT_TRUE(processor.Shutdown(Clock::now() + milliseconds(10000)));
  EXPECT_TRUE(probe->shutdown_called);
}

TEST_F(BatchSpanProcessorTest, ForceFlushWaitsForTheBatchesInFlight) {
  auto probe = std::make_shared<ConcurrencyProbe>();
  probe->blocked = true;
  BatchSpanProcessor processor(std::make_unique<ConcurrentExporter>(probe, 2),
                               {.max_queue_size = 100,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 2,
                                .max_concurrent_exports = 2});
  processor.OnEnd(SampledSpanWithId(1));
  processor.OnEnd(SampledSpanWithId(2));
  ASSERT_TRUE(probe->WaitFor([&] { return probe->in_progress == 1; }));
  // The queue is empty, but the batch is still in flight: the flush is not done.
  EXPECT_FALSE(processor.ForceFlush(Clock::now() + milliseconds(100)));
  EXPECT_EQ(processor.Stats().exported, 0U);
  probe->Release();
  EXPECT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(10000)));
  const BatchSpanProcessorStats stats = processor.Stats();
  EXPECT_EQ(stats.exported, 2U);
  EXPECT_EQ(stats.export_calls, 1U);
  std::lock_guard<std::mutex> lock(probe->mutex);
  EXPECT_EQ(Sorted(probe->span_ids), IdsUpTo(2));
}

TEST_F(BatchSpanProcessorTest, ShutdownCancelsEveryExportInFlight) {
  auto probe = std::make_shared<ConcurrencyProbe>();
  probe->blocked = true;
  auto processor = std::make_unique<BatchSpanProcessor>(
      std::make_unique<ConcurrentExporter>(probe, 2),
      BatchSpanProcessorOptions{.max_queue_size = 100,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 2,
                                .max_concurrent_exports = 2});
  for (uint64_t id = 1; id <= 6; ++id) processor->OnEnd(SampledSpanWithId(id));  // 3 batches
  ASSERT_TRUE(probe->WaitFor([&] { return probe->in_progress == 2; }));
  const Clock::time_point start = Clock::now();
  EXPECT_FALSE(processor->Shutdown(start + milliseconds(300)));  // exports were cancelled
  // A hang detector, not a timing assertion: Shutdown() must not wait for the 20 s release.
  EXPECT_LT(Clock::now(), start + milliseconds(10000));
  {
    // Joined, not abandoned: no Export() call is still in progress.
    std::lock_guard<std::mutex> lock(probe->mutex);
    EXPECT_TRUE(probe->shutdown_called);
    EXPECT_EQ(probe->in_progress, 0);
    EXPECT_EQ(probe->calls, 3);  // the third batch is exported (and fails) after the cancel
    EXPECT_FALSE(probe->wait_timed_out);
  }
  const BatchSpanProcessorStats stats = processor->Stats();
  EXPECT_EQ(stats.exported, 0U);
  EXPECT_EQ(stats.export_failures, 6U);
  EXPECT_EQ(stats.export_calls, 3U);
  EXPECT_EQ(CountMessages("cancelling the export in flight"), 1U);
  EXPECT_EQ(CountMessages("abandoning the export thread"), 0U);
}

class BspEnvTest : public BatchSpanProcessorTest {
 protected:
  void TearDown() override {
    for (const char* name :
         {"OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT",
          "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_MAX_CONCURRENT_EXPORTS"}) {
      unsetenv(name);
    }
    BatchSpanProcessorTest::TearDown();
  }
};

TEST_F(BspEnvTest, DefaultsWhenUnset) {
  BatchSpanProcessorOptions options = BatchSpanProcessorOptions::FromEnv();
  EXPECT_EQ(options.max_queue_size, 32768U);
  EXPECT_EQ(options.schedule_delay, milliseconds(5000));
  EXPECT_EQ(options.export_timeout, milliseconds(30000));
  EXPECT_EQ(options.max_export_batch_size, 2048U);
  EXPECT_EQ(options.max_concurrent_exports, 2U);
  EXPECT_EQ(CountMessages("OTEL_"), 0U);
}

TEST_F(BspEnvTest, ValidValues) {
  setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100", 1);
  setenv("OTEL_BSP_SCHEDULE_DELAY", "250", 1);
  setenv("OTEL_BSP_EXPORT_TIMEOUT", " 1000 ", 1);
  setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10", 1);
  setenv("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "3", 1);
  BatchSpanProcessorOptions options = BatchSpanProcessorOptions::FromEnv();
  EXPECT_EQ(options.max_concurrent_exports, 3U);
  EXPECT_EQ(options.max_queue_size, 100U);
  EXPECT_EQ(options.schedule_delay, milliseconds(250));
  EXPECT_EQ(options.export_timeout, milliseconds(1000));
  EXPECT_EQ(options.max_export_batch_size, 10U);
}

TEST_F(BspEnvTest, InvalidValuesWarnAndUseDefaults) {
  setenv("OTEL_BSP_MAX_QUEUE_SIZE", "lots", 1);
  setenv("OTEL_BSP_SCHEDULE_DELAY", "-5", 1);
  setenv("OTEL_BSP_EXPORT_TIMEOUT", "0", 1);
  setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "12abc", 1);
  setenv("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "0", 1);
  BatchSpanProcessorOptions options = BatchSpanProcessorOptions::FromEnv();
  EXPECT_EQ(options.max_concurrent_exports, 2U);
  EXPECT_EQ(CountMessages("OTEL_BSP_MAX_CONCURRENT_EXPORTS: \"0\""), 1U);
  EXPECT_EQ(options.max_queue_size, 32768U);
  EXPECT_EQ(options.schedule_delay, milliseconds(5000));
  EXPECT_EQ(options.export_timeout, milliseconds(30000));
  EXPECT_EQ(options.max_export_batch_size, 2048U);
  EXPECT_EQ(CountMessages("OTEL_BSP_MAX_QUEUE_SIZE: \"lots\""), 1U);
  EXPECT_EQ(CountMessages("OTEL_BSP_SCHEDULE_DELAY: \"-5\""), 1U);
  EXPECT_EQ(CountMessages("OTEL_BSP_EXPORT_TIMEOUT: \"0\""), 1U);
  EXPECT_EQ(CountMessages("OTEL_BSP_MAX_EXPORT_BATCH_SIZE: \"12abc\""), 1U);
}

TEST_F(BspEnvTest, BatchSizeClampedToQueueSize) {
  setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64", 1);
  setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512", 1);
  BatchSpanProcessorOptions options = BatchSpanProcessorOptions::FromEnv();
  EXPECT_EQ(options.max_queue_size, 64U);
  EXPECT_EQ(options.max_export_batch_size, 64U);
}

class FailingExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<std::unique_ptr<SpanData>>) noexcept override {
    return ExportResult::kFailure;
  }
  bool Shutdown(Clock::time_point) noexcept override { return true; }
};

std::unique_ptr<SpanData> SpanNamed(size_t name_bytes) {
  auto span = SampledSpan();
  span->name.assign(name_bytes, 'n');
  return span;
}

TEST(EstimatedSpanBytesTest, CountsStringsAttributesAndEvents) {
  SpanData span;
  const size_t empty = EstimatedSpanBytes(span);
  EXPECT_EQ(empty, sizeof(SpanData));
  span.name = "0123456789";
  span.trace_state = "k=v";
  span.status_message = "bad";
  EXPECT_EQ(EstimatedSpanBytes(span), empty + 16);
  span.attributes.Set("key", std::string_view("value"));  // 3 + 5 + 32 entry overhead
  span.attributes.Set("n", int64_t{7});                   // 1 + 32
  EXPECT_EQ(EstimatedSpanBytes(span), empty + 16 + 40 + 33);
  Event event;
  event.name = "ev";
  span.events.push_back(std::move(event));
  EXPECT_EQ(EstimatedSpanBytes(span), empty + 16 + 40 + 33 + sizeof(Event) + 2);
}

TEST_F(BatchSpanProcessorTest, ByteLimitDropsAndCountsSeparately) {
  const size_t each = EstimatedSpanBytes(*SpanNamed(1000));
  BatchSpanProcessor processor(std::make_unique<ProbeExporter>(probe_),
                               {.max_queue_size = 100,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 100,
                                .max_queue_bytes = 3 * each + each / 2});
  for (int i = 0; i < 5; ++i) processor.OnEnd(SpanNamed(1000));
  BatchSpanProcessorStats stats = processor.Stats();
  EXPECT_EQ(stats.enqueued, 3U);
  EXPECT_EQ(stats.dropped_byte_limit, 2U);
  EXPECT_EQ(stats.dropped_queue_full, 0U);
  EXPECT_EQ(stats.queued_bytes, 3 * each);
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(5000)));
  stats = processor.Stats();
  EXPECT_EQ(stats.exported, 3U);
  EXPECT_EQ(stats.queued_bytes, 0U);
  EXPECT_EQ(probe_->spans, 3U);
  // The room is back once the queue drained.
  processor.OnEnd(SpanNamed(1000));
  EXPECT_EQ(processor.Stats().enqueued, 4U);
  EXPECT_EQ(processor.Stats().dropped_byte_limit, 2U);
  ASSERT_TRUE(processor.Shutdown(Clock::now() + milliseconds(5000)));
  EXPECT_EQ(CountMessages("2 over the byte limit"), 1U);
}

TEST_F(BatchSpanProcessorTest, DropsAndFailuresAreSummarisedOncePerIntervalAndAtShutdown) {
  BatchSpanProcessor processor(std::make_unique<FailingExporter>(),
                               {.max_queue_size = 100,
                                .schedule_delay = std::chrono::hours(1),
                                .max_export_batch_size = 100,
                                .stats_log_interval = std::chrono::hours(1)});
  for (int i = 0; i < 3; ++i) {
    processor.OnEnd(SampledSpan());
    ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(5000)));
  }
  EXPECT_EQ(processor.Stats().export_failures, 3U);
  // The first failure is reported at once; the next two wait for the interval.
  EXPECT_EQ(CountMessages("BatchSpanProcessor: dropped"), 1U);
  EXPECT_EQ(CountMessages("1 span(s) failed to export"), 1U);
  EXPECT_TRUE(processor.Shutdown(Clock::now() + milliseconds(5000)));
  EXPECT_EQ(CountMessages("BatchSpanProcessor: dropped"), 2U);
  EXPECT_EQ(CountMessages("2 span(s) failed to export; totals since start: 0 / 0 / 3"), 1U);
}

TEST_F(BatchSpanProcessorTest, NothingIsLoggedWhenNothingWasLost) {
  {
    BatchSpanProcessor processor(std::make_unique<ProbeExporter>(probe_),
                                 {.max_queue_size = 10, .max_export_batch_size = 10});
    processor.OnEnd(SampledSpan());
    ASSERT_TRUE(processor.Shutdown(Clock::now() + milliseconds(5000)));
  }
  EXPECT_EQ(CountMessages("BatchSpanProcessor"), 0U);
}

// A real fork() while the worker is inside Export(): the child must neither deadlock nor export
// the parent's queue; the parent exports its queue exactly once.
TEST_F(BatchSpanProcessorTest, ForkChildIsDisabledAndParentExportsOnce) {
  probe_->blocked = true;
  BatchSpanProcessor processor(
      std::make_unique<ProbeExporter>(probe_),
      {.max_queue_size = 100, .schedule_delay = std::chrono::hours(1), .max_export_batch_size = 1});
  processor.OnEnd(SampledSpan());
  ASSERT_TRUE(probe_->WaitFor([&] { return probe_->exports_entered == 1; }));
  for (int i = 0; i < 4; ++i) processor.OnEnd(SampledSpan());  // queued behind the stuck export
  ASSERT_EQ(processor.Stats().enqueued, 5U);

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: a deadlock would hang here; SIGALRM turns it into a failure of the test.
    alarm(20);
    int code = 0;
    processor.OnEnd(SampledSpan());
    const BatchSpanProcessorStats stats = processor.Stats();
    if (stats.dropped_in_fork_child != 1 || stats.enqueued != 5) code |= 1;
    if (processor.ForceFlush(Clock::now() + std::chrono::hours(1))) code |= 2;
    if (!processor.Shutdown(Clock::now() + std::chrono::hours(1))) code |= 4;
    {
      // The probe's mutex may have been copied while held by the parent's worker: only read
      // counters that the child's own code would have changed, without locking.
      if (probe_->spans != 0 || probe_->shutdown_called) code |= 8;
    }
#if !defined(__SANITIZE_THREAD__)  // TSan forbids starting threads after a multi-threaded fork
    // A new processor built in the child works normally.
    auto child_probe = std::make_shared<ExporterProbe>();
    {
      BatchSpanProcessor fresh(std::make_unique<ProbeExporter>(child_probe),
                               {.max_queue_size = 10, .max_export_batch_size = 10});
      fresh.OnEnd(SampledSpan());
      if (!fresh.Shutdown(Clock::now() + std::chrono::hours(1))) code |= 16;
    }
    if (child_probe->spans != 1) code |= 32;
#endif
    _exit(code);  // skips the parent's copy of `processor` (its destructor would be a no-op)
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);

  probe_->Release();
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(5000)));
  EXPECT_EQ(probe_->spans, 5U);
  EXPECT_EQ(processor.Stats().exported, 5U);
  EXPECT_EQ(processor.Stats().dropped_in_fork_child, 0U);
}

}  // namespace
}  // namespace vllora::otel
