// Bad input through the facade (issue 8): Span handles -> Registry -> OtelLayer -> SDK. Huge
// values, too many fields and events, NaN/±Inf, empty names, handles used after the span ended,
// "ending" twice and a handle moved to and dropped on another thread. Exact results asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "vllora/core/core.h"
#include "vllora/otel/otel.h"
#include "vllora/otel_layer/otel_layer.h"
#include "vllora/subscriber/registry.h"

namespace vllora {
namespace {

using otel::SpanData;
using SpanList = std::vector<std::unique_ptr<SpanData>>;

constexpr std::string_view kTarget = "app::robust";
constexpr std::string_view kMarker = "\xE2\x80\xA6";  // "…"

class FacadeRobustnessTest : public ::testing::Test {
 protected:
  void Install(otel::SpanLimits limits = {}) {
    auto exporter = std::make_unique<otel::InMemorySpanExporter>();
    storage_ = exporter->storage();
    provider_ = otel::TracerProvider::builder()
                    .WithSimpleExporter(std::move(exporter))
                    .WithResource(otel::Resource::Empty())
                    .WithSpanLimits(limits)
                    .Build();
    auto registry = Registry::Create();
    registry->With(OtelLayer("app", LevelFilter::kInfo, provider_->GetTracer("facade")));
    SetGlobalSubscriber(registry);
  }
  void TearDown() override {
    SetGlobalSubscriber(nullptr);
    if (provider_ != nullptr) provider_->Shutdown();
  }
  SpanList Take() { return storage_->Take(); }

  std::shared_ptr<otel::InMemorySpanStorage> storage_;
  std::shared_ptr<otel::TracerProvider> provider_;
};

std::string_view Str(const otel::Attributes& attributes, std::string_view key) {
  auto value = attributes.Find(key);
  if (!value.has_value()) return "<missing>";
  const auto* s = std::get_if<std::string_view>(&*value);
  return s != nullptr ? *s : "<not a string>";
}

double Dbl(const otel::Attributes& attributes, std::string_view key) {
  auto value = attributes.Find(key);
  if (!value.has_value()) return -1.0;
  const auto* d = std::get_if<double>(&*value);
  return d != nullptr ? *d : -1.0;
}

TEST_F(FacadeRobustnessTest, HugeFieldValuesAreCutWithAMarker) {
  Install(otel::SpanLimits{.max_attribute_value_length = 32});
  const std::string huge(2 << 20, 'v');
  {
    Span span = VLLORA_INFO_SPAN(kTarget, "huge", {"initial", std::string_view(huge)});
    span.Record("recorded", std::string_view(huge));
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  const std::string cut = std::string(29, 'v') + std::string(kMarker);
  EXPECT_EQ(Str(spans[0]->attributes, "initial"), cut);
  EXPECT_EQ(Str(spans[0]->attributes, "recorded"), cut);
}

TEST_F(FacadeRobustnessTest, TooManyFieldsAndEventsAreDroppedAndCounted) {
  Install(otel::SpanLimits{.max_attributes = 8, .max_events = 3});
  {
    // 36 initial fields: more than the bridge's 32 inline views, so the overflow path runs too.
    Span span = StartSpan(
        Level::kInfo, kTarget, "many",
        {{"f00", int64_t{0}},  {"f01", int64_t{1}},  {"f02", int64_t{2}},  {"f03", int64_t{3}},
         {"f04", int64_t{4}},  {"f05", int64_t{5}},  {"f06", int64_t{6}},  {"f07", int64_t{7}},
         {"f08", int64_t{8}},  {"f09", int64_t{9}},  {"f10", int64_t{10}}, {"f11", int64_t{11}},
         {"f12", int64_t{12}}, {"f13", int64_t{13}}, {"f14", int64_t{14}}, {"f15", int64_t{15}},
         {"f16", int64_t{16}}, {"f17", int64_t{17}}, {"f18", int64_t{18}}, {"f19", int64_t{19}},
         {"f20", int64_t{20}}, {"f21", int64_t{21}}, {"f22", int64_t{22}}, {"f23", int64_t{23}},
         {"f24", int64_t{24}}, {"f25", int64_t{25}}, {"f26", int64_t{26}}, {"f27", int64_t{27}},
         {"f28", int64_t{28}}, {"f29", int64_t{29}}, {"f30", int64_t{30}}, {"f31", int64_t{31}},
         {"f32", int64_t{32}}, {"f33", int64_t{33}}, {"f34", int64_t{34}}, {"f35", int64_t{35}}});
    span.Record({{"late1", 1}, {"late2", 2}});
    auto entered = span.Enter();
    for (int i = 0; i < 10; ++i) EmitEvent(Level::kInfo, kTarget, "tick");
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  const SpanData& data = *spans[0];
  ASSERT_EQ(data.attributes.size(), 8U);
  EXPECT_EQ(data.attributes.At(0).key, "f00");
  EXPECT_EQ(data.attributes.At(7).key, "f07");
  EXPECT_EQ(data.dropped_attributes_count(), 36U - 8U + 2U);
  EXPECT_EQ(data.events.size(), 3U);
  EXPECT_EQ(data.dropped_events_count, 7U);
}

TEST_F(FacadeRobustnessTest, NanAndInfinityFieldsAreKept) {
  Install();
  const double inf = std::numeric_limits<double>::infinity();
  {
    Span span = VLLORA_INFO_SPAN(kTarget, "doubles",
                                 {"nan", std::numeric_limits<double>::quiet_NaN()}, {"inf", inf});
    span.Record("neg_inf", -inf);
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_TRUE(std::isnan(Dbl(spans[0]->attributes, "nan")));
  EXPECT_EQ(Dbl(spans[0]->attributes, "inf"), inf);
  EXPECT_EQ(Dbl(spans[0]->attributes, "neg_inf"), -inf);
}

TEST_F(FacadeRobustnessTest, EmptyNameBecomesThePlaceholder) {
  Install();
  { Span span = StartSpan(Level::kInfo, kTarget, ""); }
  { Span span = VLLORA_INFO_SPAN(kTarget, "renamed", {"otel.name", ""}); }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 2U);
  EXPECT_EQ(spans[0]->name, otel::kEmptySpanName);
  EXPECT_EQ(spans[1]->name, "unnamed");
}

TEST_F(FacadeRobustnessTest, HandlesOfAnEndedSpanAreNoOps) {
  Install();
  Span span = VLLORA_INFO_SPAN(kTarget, "ended", {"before", 1});
  Span moved = std::move(span);
  span.Record("after_move",
              2);  // moved-from handle: empty, a no-op  // NOLINT(bugprone-use-after-move)
  { auto entered = span.Enter(); }
  moved = Span();  // the last handle is gone: the span ends here
  moved.Record("after_end", 3);
  moved = Span();  // "ending" again: nothing happens
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_EQ(spans[0]->attributes.size(), 1U);
  EXPECT_FALSE(spans[0]->attributes.Find("after_move").has_value());
  EXPECT_FALSE(spans[0]->attributes.Find("after_end").has_value());
  EXPECT_TRUE(Take().empty());
}

TEST_F(FacadeRobustnessTest, CopiesEndTheSpanOnceWhenTheLastOneGoes) {
  Install();
  Span a = VLLORA_INFO_SPAN(kTarget, "shared");
  Span b = a;
  a = Span();
  EXPECT_TRUE(Take().empty());  // b still holds it
  b.Record("late", true);
  b = Span();
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_EQ(spans[0]->name, "shared");
  EXPECT_TRUE(spans[0]->attributes.Find("late").has_value());
}

TEST_F(FacadeRobustnessTest, HandleMovedToAnotherThreadEndsThereOnce) {
  Install();
  otel::SpanContext parent_context;
  {
    Span parent = VLLORA_INFO_SPAN(kTarget, "parent");
    auto entered = parent.Enter();
    parent_context = OtelSpanContext(parent);
    Span child = VLLORA_INFO_SPAN(kTarget, "moved", {"where", "origin"});
    std::thread worker([span = std::move(child)]() mutable {
      span.Record("where", "worker");
      span = Span();  // ends on the worker thread
    });
    worker.join();
    EXPECT_TRUE(child.IsDisabled());  // NOLINT(bugprone-use-after-move)
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 2U);
  EXPECT_EQ(spans[0]->name, "moved");
  EXPECT_EQ(Str(spans[0]->attributes, "where"), "worker");
  EXPECT_EQ(spans[0]->parent_span_id, parent_context.span_id());
  EXPECT_EQ(spans[0]->trace_id, parent_context.trace_id());
  EXPECT_EQ(spans[1]->name, "parent");
}

}  // namespace
}  // namespace vllora
