#include "vllora/otel/batch_span_processor.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <mutex>
#include <string>
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

class BspEnvTest : public BatchSpanProcessorTest {
 protected:
  void TearDown() override {
    for (const char* name : {"OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_SCHEDULE_DELAY",
                             "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"}) {
      unsetenv(name);
    }
    BatchSpanProcessorTest::TearDown();
  }
};

TEST_F(BspEnvTest, DefaultsWhenUnset) {
  BatchSpanProcessorOptions options = BatchSpanProcessorOptions::FromEnv();
  EXPECT_EQ(options.max_queue_size, 2048U);
  EXPECT_EQ(options.schedule_delay, milliseconds(5000));
  EXPECT_EQ(options.export_timeout, milliseconds(30000));
  EXPECT_EQ(options.max_export_batch_size, 512U);
  EXPECT_EQ(CountMessages("OTEL_"), 0U);
}

TEST_F(BspEnvTest, ValidValues) {
  setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100", 1);
  setenv("OTEL_BSP_SCHEDULE_DELAY", "250", 1);
  setenv("OTEL_BSP_EXPORT_TIMEOUT", " 1000 ", 1);
  setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10", 1);
  BatchSpanProcessorOptions options = BatchSpanProcessorOptions::FromEnv();
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
  BatchSpanProcessorOptions options = BatchSpanProcessorOptions::FromEnv();
  EXPECT_EQ(options.max_queue_size, 2048U);
  EXPECT_EQ(options.schedule_delay, milliseconds(5000));
  EXPECT_EQ(options.export_timeout, milliseconds(30000));
  EXPECT_EQ(options.max_export_batch_size, 512U);
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

}  // namespace
}  // namespace vllora::otel
