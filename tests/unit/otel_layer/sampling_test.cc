// Deciding sampling before a span is built: when the tracer's sampler drops spans by a fixed
// rule, the OTel layer answers "sometimes" for its callsites and a span the sampler would drop is
// never made (its fields are not even evaluated). Everything the sampler keeps is unchanged.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vllora/core/core.h"
#include "vllora/otel/otel.h"
#include "vllora/otel_layer/otel_layer.h"
#include "vllora/subscriber/fmt_layer.h"
#include "vllora/subscriber/registry.h"

namespace vllora {
namespace {

using otel::SpanData;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using SpanList = std::vector<std::unique_ptr<SpanData>>;

constexpr std::string_view kTarget = "app::runtime";
constexpr std::string_view kSampledParent =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr std::string_view kUnsampledParent =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

// A field value whose evaluation is counted.
int64_t Counted(int* evaluations) {
  ++*evaluations;
  return 42;
}

std::vector<std::string> Names(const SpanList& spans) {
  std::vector<std::string> names;
  for (const auto& span : spans) names.push_back(span->name);
  return names;
}

otel::Context Remote(std::string_view traceparent) {
  otel::MapCarrier carrier{{"traceparent", std::string(traceparent)}};
  return otel::MakeTraceContextPropagator()->Extract(carrier, otel::Context());
}

class EarlySamplingTest : public ::testing::Test {
 protected:
  void TearDown() override {
    SetGlobalSubscriber(nullptr);
    if (provider_) provider_->Shutdown();
  }

  // One OTel layer for kTarget over a tracer with `sampler`; `also_fmt` adds a fmt layer that
  // wants the same callsites.
  void Install(std::unique_ptr<otel::Sampler> sampler, OtelLayerOptions options = {},
               bool also_fmt = false) {
    auto exporter = std::make_unique<otel::InMemorySpanExporter>();
    storage_ = exporter->storage();
    provider_ = otel::TracerProvider::builder()
                    .WithSampler(std::move(sampler))
                    .WithSimpleExporter(std::move(exporter))
                    .WithResource(otel::Resource::Empty())
                    .Build();
    auto registry = Registry::Create();
    registry->With(
        OtelLayer(kTarget, LevelFilter::kInfo, provider_->GetTracer("sampling_test"), options));
    if (also_fmt) {
      fmt_out_ = std::tmpfile();
      ASSERT_NE(fmt_out_, nullptr);
      FmtLayerOptions fmt;
      fmt.out = fmt_out_;
      registry->With(MakeFmtLayer(fmt));
    }
    SetGlobalSubscriber(registry);
  }

  SpanList Take() { return storage_->Take(); }

  std::shared_ptr<otel::InMemorySpanStorage> storage_;
  std::shared_ptr<otel::TracerProvider> provider_;
  std::FILE* fmt_out_ = nullptr;

 public:
  ~EarlySamplingTest() override {
    if (fmt_out_ != nullptr) std::fclose(fmt_out_);
  }
};

TEST_F(EarlySamplingTest, AlwaysOffMakesNoSpanAndEvaluatesNoField) {
  Install(otel::MakeAlwaysOffSampler());
  int evaluations = 0;
  {
    Span outer = VLLORA_INFO_SPAN("app::runtime", "outer", {"n", Counted(&evaluations)});
    EXPECT_TRUE(outer.IsDisabled());
    auto entered = outer.Enter();
    EXPECT_TRUE(Span::Current().IsDisabled());
    Span inner = VLLORA_INFO_SPAN("app::runtime::inner", "inner", {"n", Counted(&evaluations)});
    EXPECT_TRUE(inner.IsDisabled());
    Span root = VLLORA_ROOT_SPAN(Level::kInfo, "app::runtime", "root");
    EXPECT_TRUE(root.IsDisabled());
    Span twin = StartSpan(Level::kInfo, "app::runtime", "function_twin");
    EXPECT_TRUE(twin.IsDisabled());
  }
  EXPECT_EQ(evaluations, 0);
  EXPECT_THAT(Take(), IsEmpty());
}

TEST_F(EarlySamplingTest, TheOptionOffBuildsANonRecordingSpanAsTheOtelApiDoes) {
  OtelLayerOptions options;
  options.skip_spans_the_sampler_drops = false;
  Install(otel::MakeAlwaysOffSampler(), options);
  int evaluations = 0;
  otel::SpanContext context;
  {
    Span span = VLLORA_INFO_SPAN("app::runtime", "dropped", {"n", Counted(&evaluations)});
    EXPECT_FALSE(span.IsDisabled());
    context = OtelSpanContext(span);
  }
  EXPECT_EQ(evaluations, 1);
  EXPECT_TRUE(context.IsValid());
  EXPECT_FALSE(context.IsSampled());
  EXPECT_THAT(Take(), IsEmpty());
}

TEST_F(EarlySamplingTest, ParentBasedOffKeepsSpansUnderASampledRemoteParent) {
  Install(otel::MakeParentBasedSampler(otel::MakeAlwaysOffSampler()));
  const otel::Context remote = Remote(kSampledParent);
  ASSERT_TRUE(remote.span_context().IsSampled());
  int evaluations = 0;
  Span run;
  {
    otel::Context::Token token = remote.Attach();
    run = VLLORA_INFO_SPAN("app::runtime", "run", {"n", Counted(&evaluations)});
    ASSERT_FALSE(run.IsDisabled());
    auto entered = run.Enter();
    Span task = VLLORA_INFO_SPAN("app::runtime", "task", {"n", Counted(&evaluations)});
    EXPECT_FALSE(task.IsDisabled());
    // A root facade span takes the attached Context's span as its parent, as StartSpan does.
    Span root = VLLORA_ROOT_SPAN(Level::kInfo, "app::runtime", "root");
    EXPECT_FALSE(root.IsDisabled());
  }
  // Outside the attached context: an explicit sampled parent is still kept; a root is not.
  Span child = VLLORA_SPAN_CHILD_OF(run, Level::kInfo, "app::runtime", "child_of_run");
  EXPECT_FALSE(child.IsDisabled());
  Span orphan = VLLORA_INFO_SPAN("app::runtime", "orphan", {"n", Counted(&evaluations)});
  EXPECT_TRUE(orphan.IsDisabled());
  child = Span();
  run = Span();
  EXPECT_EQ(evaluations, 2);
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("root", "task", "child_of_run", "run"));
  const SpanData& run_data = *spans[3];
  EXPECT_EQ(run_data.trace_id.ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(run_data.parent_span_id.ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(run_data.parent_is_remote);
  EXPECT_EQ(spans[1]->parent_span_id, run_data.span_id);            // task
  EXPECT_EQ(spans[2]->parent_span_id, run_data.span_id);            // child_of_run
  EXPECT_EQ(spans[0]->parent_span_id.ToHex(), "00f067aa0ba902b7");  // root
}

TEST_F(EarlySamplingTest, ParentBasedOffDropsSpansUnderAnUnsampledRemoteParent) {
  Install(otel::MakeParentBasedSampler(otel::MakeAlwaysOffSampler()));
  int evaluations = 0;
  {
    otel::Context::Token token = Remote(kUnsampledParent).Attach();
    Span run = VLLORA_INFO_SPAN("app::runtime", "run", {"n", Counted(&evaluations)});
    EXPECT_TRUE(run.IsDisabled());
  }
  EXPECT_EQ(evaluations, 0);
  EXPECT_THAT(Take(), IsEmpty());
}

TEST_F(EarlySamplingTest, SamplersThatLookAtTheTraceIdKeepTheFullPath) {
  Install(otel::MakeTraceIdRatioSampler(0.5));
  int evaluations = 0;
  int made = 0;
  for (int i = 0; i < 64; ++i) {
    Span span = VLLORA_INFO_SPAN("app::runtime", "ratio", {"n", Counted(&evaluations)});
    if (!span.IsDisabled()) ++made;
  }
  EXPECT_EQ(evaluations, 64);
  EXPECT_EQ(made, 64);  // every facade span exists; the sampler decides on export
  const size_t exported = Take().size();
  EXPECT_GT(exported, 0u);
  EXPECT_LT(exported, 64u);
}

TEST_F(EarlySamplingTest, RatioZeroIsAFixedDrop) {
  Install(otel::MakeTraceIdRatioSampler(0.0));
  int evaluations = 0;
  Span span = VLLORA_INFO_SPAN("app::runtime", "ratio_zero", {"n", Counted(&evaluations)});
  EXPECT_TRUE(span.IsDisabled());
  EXPECT_EQ(evaluations, 0);
}

TEST_F(EarlySamplingTest, AnotherLayerWantingTheCallsiteKeepsTheSpan) {
  Install(otel::MakeAlwaysOffSampler(), {}, /*also_fmt=*/true);
  int evaluations = 0;
  {
    Span span = VLLORA_INFO_SPAN("app::runtime", "logged", {"n", Counted(&evaluations)});
    EXPECT_FALSE(span.IsDisabled());
    EXPECT_FALSE(OtelSpanContext(span).IsSampled());
  }
  EXPECT_EQ(evaluations, 1);
  EXPECT_THAT(Take(), IsEmpty());
}

TEST(FixedSamplingDecisionTest, EachSamplerSaysWhenItsDecisionIsFixed) {
  using otel::SamplingDecision;
  const otel::SpanContext root;
  const otel::SpanContext sampled = Remote(kSampledParent).span_context();
  const otel::SpanContext unsampled = Remote(kUnsampledParent).span_context();
  EXPECT_EQ(otel::MakeAlwaysOnSampler()->FixedDecision(root), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(otel::MakeAlwaysOffSampler()->FixedDecision(sampled), SamplingDecision::kDrop);
  EXPECT_EQ(otel::MakeTraceIdRatioSampler(0.0)->FixedDecision(root), SamplingDecision::kDrop);
  EXPECT_EQ(otel::MakeTraceIdRatioSampler(1.0)->FixedDecision(root),
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(otel::MakeTraceIdRatioSampler(0.25)->FixedDecision(root), std::nullopt);
  auto parent_based = otel::MakeParentBasedSampler(otel::MakeTraceIdRatioSampler(0.25));
  EXPECT_EQ(parent_based->FixedDecision(root), std::nullopt);
  EXPECT_EQ(parent_based->FixedDecision(sampled), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(parent_based->FixedDecision(unsampled), SamplingDecision::kDrop);
}

}  // namespace
}  // namespace vllora
