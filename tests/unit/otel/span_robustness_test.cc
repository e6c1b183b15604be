// Bad input on the SDK span API (issue 8): huge values, too many attributes and events,
// NaN/±Inf, empty names, recording on an ended span, ending twice, a span ended on another
// thread. None may crash, throw or corrupt what is exported; every result is asserted exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "vllora/otel/otel.h"

namespace vllora::otel {
namespace {

using SpanList = std::vector<std::unique_ptr<SpanData>>;

constexpr std::string_view kMarker = "\xE2\x80\xA6";  // "…"

class SpanRobustnessTest : public ::testing::Test {
 protected:
  void Build(SpanLimits limits = {}) {
    auto exporter = std::make_unique<InMemorySpanExporter>();
    storage_ = exporter->storage();
    provider_ = TracerProvider::builder()
                    .WithSimpleExporter(std::move(exporter))
                    .WithResource(Resource::Empty())
                    .WithSpanLimits(limits)
                    .Build();
    tracer_ = provider_->GetTracer("robustness");
  }
  SpanList Take() { return storage_->Take(); }

  std::shared_ptr<InMemorySpanStorage> storage_;
  std::shared_ptr<TracerProvider> provider_;
  std::shared_ptr<Tracer> tracer_;
};

std::string_view Str(const SpanData& span, std::string_view key) {
  auto value = span.attributes.Find(key);
  if (!value.has_value()) return "<missing>";
  const auto* s = std::get_if<std::string_view>(&*value);
  return s != nullptr ? *s : "<not a string>";
}

double Dbl(const Attributes& attributes, std::string_view key) {
  auto value = attributes.Find(key);
  if (!value.has_value()) return -1.0;
  const auto* d = std::get_if<double>(&*value);
  return d != nullptr ? *d : -1.0;
}

TEST_F(SpanRobustnessTest, HugeStringValuesAreCutAtTheLimitWithAMarker) {
  Build(SpanLimits{.max_attribute_value_length = 64});
  const std::string huge(4 << 20, 'h');                            // 4 MiB
  const std::string accents = std::string(62, 'a') + "\xC3\xA9";   // 64 bytes: fits exactly
  const std::string split = std::string(60, 'b') + "\xC3\xA9zzz";  // cut would split é
  const KeyValueView initial[] = {{"initial", std::string_view(huge)}};
  auto span = tracer_->StartSpan("huge", {.attributes = initial});
  span->SetAttribute("later", std::string_view(huge));
  span->SetAttribute("fits", std::string_view(accents));
  span->SetAttribute("split", std::string_view(split));
  span->RecordError(huge);
  span->End();
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  const SpanData& data = *spans[0];
  const std::string cut = std::string(61, 'h') + std::string(kMarker);
  EXPECT_EQ(Str(data, "initial"), cut);
  EXPECT_EQ(Str(data, "later"), cut);
  EXPECT_EQ(Str(data, "error"), cut);
  EXPECT_EQ(Str(data, "fits"), accents);
  EXPECT_EQ(Str(data, "split"), std::string(60, 'b') + std::string(kMarker));
  EXPECT_EQ(data.dropped_attributes_count(), 0U);
  EXPECT_EQ(data.status_code, StatusCode::kError);
}

TEST_F(SpanRobustnessTest, TooManyAttributesAndEventsAreDroppedAndCounted) {
  Build(SpanLimits{.max_attributes = 4, .max_events = 2, .max_links = 1});
  const KeyValueView initial[] = {{"a", int64_t{1}}, {"b", int64_t{2}}, {"c", int64_t{3}},
                                  {"d", int64_t{4}}, {"e", int64_t{5}}, {"f", int64_t{6}}};
  auto span = tracer_->StartSpan("many", {.attributes = initial});
  span->SetAttribute("a", int64_t{10});  // existing key: replaced, not counted
  span->SetAttribute("g", int64_t{7});   // new key beyond the limit: dropped
  const KeyValueView event_attributes[] = {{"k1", int64_t{1}},
                                           {"k2", int64_t{2}},
                                           {"k3", int64_t{3}},
                                           {"k4", int64_t{4}},
                                           {"k5", int64_t{5}}};
  for (int i = 0; i < 5; ++i) span->AddEvent("event", event_attributes);
  span->End();
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  const SpanData& data = *spans[0];
  ASSERT_EQ(data.attributes.size(), 4U);
  EXPECT_EQ(data.attributes.At(0).key, "a");
  EXPECT_EQ(std::get<int64_t>(data.attributes.At(0).value), 10);
  EXPECT_EQ(data.attributes.At(3).key, "d");
  EXPECT_EQ(data.dropped_attributes_count(), 3U);  // e, f, g
  ASSERT_EQ(data.events.size(), 2U);
  EXPECT_EQ(data.dropped_events_count, 3U);
  EXPECT_EQ(data.events[0].attributes.size(), 4U);
  EXPECT_EQ(data.events[0].attributes.dropped_count(), 1U);
}

TEST_F(SpanRobustnessTest, NanAndInfinityAreKept) {
  Build();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const KeyValueView initial[] = {{"nan", nan}, {"inf", inf}};
  auto span = tracer_->StartSpan("doubles", {.attributes = initial});
  span->SetAttribute("neg_inf", -inf);
  const KeyValueView event_attributes[] = {{"nan", nan}};
  span->AddEvent("with_nan", event_attributes);
  span->End();
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  const SpanData& data = *spans[0];
  EXPECT_TRUE(std::isnan(Dbl(data.attributes, "nan")));
  EXPECT_EQ(Dbl(data.attributes, "inf"), inf);
  EXPECT_EQ(Dbl(data.attributes, "neg_inf"), -inf);
  ASSERT_EQ(data.events.size(), 1U);
  EXPECT_TRUE(std::isnan(Dbl(data.events[0].attributes, "nan")));
}

TEST_F(SpanRobustnessTest, EmptyNamesBecomeThePlaceholder) {
  Build();
  tracer_->StartSpan("")->End();
  auto renamed = tracer_->StartSpan("first");
  renamed->UpdateName("");
  renamed->End();
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 2U);
  EXPECT_EQ(spans[0]->name, "unnamed");
  EXPECT_EQ(spans[1]->name, kEmptySpanName);
}

TEST_F(SpanRobustnessTest, RecordingOnAnEndedSpanIsIgnored) {
  Build();
  auto span = tracer_->StartSpan("ended");
  span->SetAttribute("before", int64_t{1});
  span->End();
  EXPECT_FALSE(span->IsRecording());
  span->SetAttribute("after", int64_t{2});
  span->AddEvent("after");
  span->SetStatus(StatusCode::kError, "after");
  span->RecordError("after");
  span->UpdateName("after");
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_EQ(spans[0]->name, "ended");
  EXPECT_EQ(spans[0]->attributes.size(), 1U);
  EXPECT_FALSE(spans[0]->attributes.Find("after").has_value());
  EXPECT_TRUE(spans[0]->events.empty());
  EXPECT_EQ(spans[0]->status_code, StatusCode::kUnset);
}

TEST_F(SpanRobustnessTest, EndingTwiceExportsOnceWithTheFirstEndTime) {
  Build();
  auto span = tracer_->StartSpan("twice", {.start_time_unix_nano = 1000});
  span->End(2000);
  span->End(3000);
  span.reset();  // the destructor's End() is a no-op too
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_EQ(spans[0]->start_time_unix_nano, 1000U);
  EXPECT_EQ(spans[0]->end_time_unix_nano, 2000U);
}

TEST_F(SpanRobustnessTest, SpanMovedToAnotherThreadIsExportedOnce) {
  Build();
  auto parent = tracer_->StartSpan("parent");
  const SpanContext parent_context = parent->context();
  auto child = tracer_->StartSpan("moved", {.parent = &parent_context});
  child->SetAttribute("where", "origin");
  std::thread worker([span = std::move(child)]() mutable {
    span->SetAttribute("where", "worker");
    span->SetAttribute("worker_only", true);
    span->End();
  });
  worker.join();
  EXPECT_EQ(child, nullptr);
  parent->End();
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 2U);
  EXPECT_EQ(spans[0]->name, "moved");
  EXPECT_EQ(Str(*spans[0], "where"), "worker");
  EXPECT_EQ(spans[0]->attributes.size(), 2U);
  EXPECT_EQ(spans[0]->parent_span_id, parent_context.span_id());
  EXPECT_EQ(spans[0]->trace_id, parent_context.trace_id());
  EXPECT_EQ(spans[1]->name, "parent");
}

TEST_F(SpanRobustnessTest, ConcurrentRecordAndEndExportOnce) {
  Build();
  auto span = tracer_->StartSpan("raced");
  Span* raw = span.get();
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([raw, t] {
      for (int i = 0; i < 200; ++i) {
        raw->SetAttribute("t" + std::to_string(t), int64_t{i});
        raw->AddEvent("e");
      }
    });
  }
  std::thread ender([raw] { raw->End(); });
  for (auto& w : writers) w.join();
  ender.join();
  span.reset();
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  // Whatever landed before End() is there, and within the limits.
  EXPECT_LE(spans[0]->attributes.size(), 4U);
  EXPECT_LE(spans[0]->events.size(), 128U);
}

}  // namespace
}  // namespace vllora::otel
