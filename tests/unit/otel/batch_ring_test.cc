// The batch processor's ring under many producers and a small queue that wraps many times: every
// span is exported once or counted as dropped, each producer's spans keep their order, and the
// counters add up exactly. Run under TSan by tools/test.sh (unit label).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "vllora/otel/batch_span_processor.h"
#include "vllora/otel/exporter.h"
#include "vllora/otel/span_data.h"

namespace vllora::otel {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kProducers = 4;
constexpr uint64_t kPerProducer = 20000;

struct Seen {
  std::mutex mutex;
  std::vector<std::vector<uint64_t>> by_producer = std::vector<std::vector<uint64_t>>(kProducers);
  size_t max_batch = 0;
};

// Records (producer, sequence) of every exported span: start_time = producer, end_time = seq.
class RecordingExporter final : public SpanExporter {
 public:
  explicit RecordingExporter(std::shared_ptr<Seen> seen) : seen_(std::move(seen)) {}
  ExportResult Export(std::span<std::unique_ptr<SpanData>> batch) noexcept override {
    std::lock_guard<std::mutex> lock(seen_->mutex);
    if (batch.size() > seen_->max_batch) seen_->max_batch = batch.size();
    for (const auto& span : batch) {
      seen_->by_producer[span->start_time_unix_nano].push_back(span->end_time_unix_nano);
    }
    return ExportResult::kSuccess;
  }
  bool Shutdown(Clock::time_point) noexcept override { return true; }

 private:
  std::shared_ptr<Seen> seen_;
};

void RunProducers(BatchSpanProcessor& processor) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kProducers; ++t) {
    threads.emplace_back([&processor, t] {
      for (uint64_t i = 1; i <= kPerProducer; ++i) {
        auto span = std::make_unique<SpanData>();
        span->trace_flags = 1;
        span->name = "s";
        span->start_time_unix_nano = static_cast<uint64_t>(t);
        span->end_time_unix_nano = i;
        processor.OnEnd(std::move(span));
        if (i % 256 == 0) std::this_thread::yield();  // let the worker take a few laps
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

void CheckExactlyOnceInOrder(size_t queue_size) {
  auto seen = std::make_shared<Seen>();
  BatchSpanProcessor processor(std::make_unique<RecordingExporter>(seen),
                               {.max_queue_size = queue_size,
                                .schedule_delay = milliseconds(1),
                                .max_export_batch_size = 16,
                                .max_queue_bytes = 0});
  RunProducers(processor);
  ASSERT_TRUE(processor.ForceFlush(Clock::now() + milliseconds(20000)));
  const BatchSpanProcessorStats stats = processor.Stats();

  std::lock_guard<std::mutex> lock(seen->mutex);
  uint64_t exported = 0;
  for (int t = 0; t < kProducers; ++t) {
    const std::vector<uint64_t>& sequence = seen->by_producer[static_cast<size_t>(t)];
    for (size_t i = 1; i < sequence.size(); ++i) {
      ASSERT_LT(sequence[i - 1], sequence[i]) << "producer " << t << " at " << i;
    }
    exported += sequence.size();
  }
  EXPECT_EQ(stats.exported, exported);
  EXPECT_EQ(stats.enqueued, exported);
  EXPECT_EQ(stats.exported + stats.dropped_queue_full, kProducers * kPerProducer);
  EXPECT_EQ(stats.queued_bytes, 0U);
  EXPECT_EQ(stats.export_failures, 0U);
  EXPECT_LE(seen->max_batch, 16U);
}

TEST(BatchRing, ManyProducersSmallPowerOfTwoRingExactlyOnceInOrder) { CheckExactlyOnceInOrder(64); }

TEST(BatchRing, ManyProducersSmallOddRingExactlyOnceInOrder) { CheckExactlyOnceInOrder(48); }

// Shutdown exports everything queued, in order, although no batch filled and no delay passed.
TEST(BatchRing, ShutdownExportsWhatIsQueued) {
  auto seen = std::make_shared<Seen>();
  auto processor = std::make_unique<BatchSpanProcessor>(
      std::make_unique<RecordingExporter>(seen),
      BatchSpanProcessorOptions{.max_queue_size = 1024,
                                .schedule_delay = milliseconds(60000),
                                .max_export_batch_size = 512});
  for (uint64_t i = 1; i <= 100; ++i) {
    auto span = std::make_unique<SpanData>();
    span->trace_flags = 1;
    span->end_time_unix_nano = i;
    processor->OnEnd(std::move(span));
  }
  EXPECT_TRUE(processor->Shutdown(Clock::now() + milliseconds(10000)));
  EXPECT_EQ(processor->Stats().exported, 100U);
  EXPECT_EQ(processor->Stats().queued_bytes, 0U);
  processor.reset();
  std::lock_guard<std::mutex> lock(seen->mutex);
  ASSERT_EQ(seen->by_producer[0].size(), 100U);
  EXPECT_EQ(seen->by_producer[0].front(), 1U);
  EXPECT_EQ(seen->by_producer[0].back(), 100U);
}

}  // namespace
}  // namespace vllora::otel
