#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "vllora/otel/otel.h"

namespace vllora::otel {
namespace {

struct Fixture {
  std::shared_ptr<InMemorySpanStorage> storage;
  std::shared_ptr<TracerProvider> provider;
  std::shared_ptr<Tracer> tracer;
};

Fixture MakeFixture(TracerProvider::Builder builder = TracerProvider::builder()) {
  Fixture f;
  auto exporter = std::make_unique<InMemorySpanExporter>();
  f.storage = exporter->storage();
  f.provider = builder.WithSimpleExporter(std::move(exporter))
                   .WithResource(Resource::FromAttributes({{"service.name", "svc"}}))
                   .WithSpanLimits(SpanLimits{})
                   .Build();
  f.tracer = f.provider->GetTracer("test.scope", "1.2.3");
  return f;
}

const SpanData* FindSpan(const std::vector<std::unique_ptr<SpanData>>& spans,
                         std::string_view name) {
  for (const auto& span : spans) {
    if (span->name == name) return span.get();
  }
  return nullptr;
}

TEST(TracerTest, ParentChildViaCurrentContext) {
  Fixture f = MakeFixture();
  auto root = f.tracer->StartSpan("root", {.kind = SpanKind::kServer});
  ASSERT_TRUE(root->IsRecording());
  {
    Context::Token token = Context::Current().WithSpanContext(root->context()).Attach();
    auto child = f.tracer->StartSpan("child");
    child->End();
  }
  root->End();
  auto spans = f.storage->Take();
  ASSERT_EQ(spans.size(), 2U);
  const SpanData* r = FindSpan(spans, "root");
  const SpanData* c = FindSpan(spans, "child");
  ASSERT_NE(r, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(r->parent_span_id.IsValid());
  EXPECT_EQ(c->parent_span_id, r->span_id);
  EXPECT_EQ(c->trace_id, r->trace_id);
  EXPECT_NE(c->span_id, r->span_id);
  EXPECT_TRUE(r->IsSampled());
  EXPECT_EQ(r->kind, SpanKind::kServer);
  EXPECT_EQ(c->kind, SpanKind::kInternal);
  EXPECT_GE(r->end_time_unix_nano, r->start_time_unix_nano);
  EXPECT_GT(r->start_time_unix_nano, 0U);
  // Resource and scope.
  ASSERT_NE(c->resource, nullptr);
  EXPECT_EQ(std::get<std::string_view>(*c->resource->attributes().Find("service.name")), "svc");
  ASSERT_NE(c->scope, nullptr);
  EXPECT_EQ(c->scope->name, "test.scope");
  EXPECT_EQ(c->scope->version, "1.2.3");
  EXPECT_EQ(c->resource, r->resource);  // shared, not copied
}

TEST(TracerTest, ExplicitParentAndContextOption) {
  Fixture f = MakeFixture();
  auto root = f.tracer->StartSpan("root");
  SpanContext parent = root->context();
  auto child = f.tracer->StartSpan("child", {.parent = &parent});
  Context context = Context().WithSpanContext(parent);
  auto child2 = f.tracer->StartSpan("child2", {.context = &context});
  child->End();
  child2->End();
  root->End();
  auto spans = f.storage->Take();
  EXPECT_EQ(FindSpan(spans, "child")->parent_span_id, parent.span_id());
  EXPECT_EQ(FindSpan(spans, "child2")->parent_span_id, parent.span_id());
}

TEST(TracerTest, RemoteParentFromExtractedContext) {
  Fixture f = MakeFixture();
  MapCarrier carrier{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
  Context extracted = MakeTraceContextPropagator()->Extract(carrier, Context());
  {
    Context::Token token = extracted.Attach();
    f.tracer->StartSpan("server")->End();
  }
  auto spans = f.storage->Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_EQ(spans[0]->trace_id.ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(spans[0]->parent_span_id.ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(spans[0]->parent_is_remote);
}

TEST(TracerTest, ChildrenKeepTheRemoteParentsTraceState) {
  Fixture f = MakeFixture();
  MapCarrier carrier{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                     {"tracestate", "vendor=abc,other=1"}};
  Context extracted = MakeTraceContextPropagator()->Extract(carrier, Context());
  {
    Context::Token token = extracted.Attach();
    auto server = f.tracer->StartSpan("server");
    EXPECT_EQ(server->context().trace_state(), "vendor=abc,other=1");
    StartSpanOptions child_options;
    child_options.parent = &server->context();
    auto child = f.tracer->StartSpan("child", child_options);
    EXPECT_EQ(child->context().trace_state(), "vendor=abc,other=1");
    EXPECT_NE(child->context(), server->context());  // other span id, same tracestate
    child->End();
    server->End();
  }
  auto spans = f.storage->Take();
  ASSERT_EQ(spans.size(), 2U);
  EXPECT_EQ(spans[0]->name, "child");
  EXPECT_EQ(spans[0]->trace_state, "vendor=abc,other=1");
  EXPECT_EQ(spans[1]->trace_state, "vendor=abc,other=1");
  // Equality compares the tracestate text, not where it is stored.
  const SpanContext a(spans[0]->trace_id, spans[0]->span_id, 1, false, "k=v");
  const SpanContext b(spans[0]->trace_id, spans[0]->span_id, 1, false, std::string("k=v"));
  const SpanContext c(spans[0]->trace_id, spans[0]->span_id, 1, false, "k=w");
  const SpanContext none(spans[0]->trace_id, spans[0]->span_id, 1, false);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, none);
  EXPECT_FALSE(none.HasTraceState());
  EXPECT_EQ(none.trace_state(), "");
}

TEST(TracerTest, SpansPointAtOneKeptResourceAndScopeThatOutliveTheProvider) {
  std::vector<std::unique_ptr<SpanData>> spans;
  for (int i = 0; i < 2; ++i) {
    Fixture f = MakeFixture();
    f.tracer->StartSpan("s")->End();
    auto taken = f.storage->Take();
    ASSERT_EQ(taken.size(), 1U);
    spans.push_back(std::move(taken[0]));
    f.provider->Shutdown();
  }  // both providers destroyed here
  // Equal resources and scopes are one object, with no reference count to update per span.
  EXPECT_EQ(spans[0]->resource.get(), spans[1]->resource.get());
  EXPECT_EQ(spans[0]->scope.get(), spans[1]->scope.get());
  EXPECT_EQ(spans[0]->resource.use_count(), 0);
  EXPECT_EQ(spans[0]->scope.use_count(), 0);
  // Still valid after the providers are gone.
  EXPECT_EQ(std::get<std::string_view>(*spans[1]->resource->attributes().Find("service.name")),
            "svc");
  EXPECT_EQ(spans[1]->scope->name, "test.scope");
  EXPECT_EQ(spans[1]->scope->version, "1.2.3");
  // A different resource is another object.
  auto exporter = std::make_unique<InMemorySpanExporter>();
  auto storage = exporter->storage();
  auto provider = TracerProvider::builder()
                      .WithSimpleExporter(std::move(exporter))
                      .WithResource(Resource::FromAttributes({{"service.name", "other-svc"}}))
                      .Build();
  provider->GetTracer("test.scope", "1.2.3")->StartSpan("s")->End();
  auto taken = storage->Take();
  ASSERT_EQ(taken.size(), 1U);
  EXPECT_NE(taken[0]->resource.get(), spans[0]->resource.get());
  EXPECT_EQ(taken[0]->scope.get(), spans[0]->scope.get());
}

TEST(TracerTest, UnsampledRemoteParentGivesNonRecordingSpan) {
  Fixture f = MakeFixture();
  MapCarrier carrier{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}};
  Context extracted = MakeTraceContextPropagator()->Extract(carrier, Context());
  auto span = f.tracer->StartSpan("dropped", {.context = &extracted});
  EXPECT_FALSE(span->IsRecording());
  EXPECT_TRUE(span->context().IsValid());
  EXPECT_EQ(span->context().trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(span->context().IsSampled());
  span->SetAttribute("k", int64_t{1});
  span->End();
  EXPECT_EQ(f.storage->Size(), 0U);
}

TEST(TracerTest, AttributesEventsStatusAndEndTwice) {
  Fixture f = MakeFixture();
  KeyValueView initial[] = {{"initial", int64_t{1}}};
  auto span = f.tracer->StartSpan("op", {.attributes = initial});
  span->SetAttribute("model", "gpt-4o");
  span->SetAttribute("tokens", int64_t{42});
  KeyValueView event_attrs[] = {{"chunk", int64_t{3}}};
  span->AddEvent("first_token", event_attrs, 1234);
  span->UpdateName("renamed");
  span->RecordError("boom");
  span->End(5000000000000000000ULL);
  EXPECT_FALSE(span->IsRecording());
  span->SetAttribute("after_end", true);
  span->SetStatus(StatusCode::kOk);
  span->End();
  auto spans = f.storage->Take();
  ASSERT_EQ(spans.size(), 1U);
  const SpanData& data = *spans[0];
  EXPECT_EQ(data.name, "renamed");
  EXPECT_EQ(std::get<int64_t>(*data.attributes.Find("initial")), 1);
  EXPECT_EQ(std::get<std::string_view>(*data.attributes.Find("model")), "gpt-4o");
  EXPECT_EQ(std::get<int64_t>(*data.attributes.Find("tokens")), 42);
  EXPECT_EQ(std::get<std::string_view>(*data.attributes.Find("error")), "boom");
  EXPECT_FALSE(data.attributes.Find("after_end").has_value());
  EXPECT_EQ(data.status_code, StatusCode::kError);
  EXPECT_EQ(data.status_message, "boom");
  EXPECT_EQ(data.end_time_unix_nano, 5000000000000000000ULL);
  ASSERT_EQ(data.events.size(), 1U);
  EXPECT_EQ(data.events[0].name, "first_token");
  EXPECT_EQ(data.events[0].time_unix_nano, 1234U);
  EXPECT_EQ(std::get<int64_t>(*data.events[0].attributes.Find("chunk")), 3);
}

TEST(TracerTest, StatusRules) {
  Fixture f = MakeFixture();
  auto span = f.tracer->StartSpan("s");
  span->SetStatus(StatusCode::kError, "bad");
  span->SetStatus(StatusCode::kUnset);
  span->SetStatus(StatusCode::kOk, "ignored message");
  span->SetStatus(StatusCode::kError, "too late");
  span->RecordError("late error");
  span->End();
  auto spans = f.storage->Take();
  EXPECT_EQ(spans[0]->status_code, StatusCode::kOk);
  EXPECT_EQ(spans[0]->status_message, "");
  EXPECT_EQ(std::get<std::string_view>(*spans[0]->attributes.Find("error")), "late error");
}

TEST(TracerTest, DestroyingUnendedSpanEndsIt) {
  Fixture f = MakeFixture();
  { auto span = f.tracer->StartSpan("scoped"); }
  EXPECT_EQ(f.storage->Size(), 1U);
}

TEST(TracerTest, SpanLimitsApplied) {
  auto exporter = std::make_unique<InMemorySpanExporter>();
  auto storage = exporter->storage();
  auto provider = TracerProvider::builder()
                      .WithSimpleExporter(std::move(exporter))
                      .WithSpanLimits(SpanLimits{.max_attributes = 2,
                                                 .max_events = 1,
                                                 .max_links = 1,
                                                 .max_attribute_value_length = 3})
                      .Build();
  Link links[2];
  auto span = provider->GetTracer("t")->StartSpan("s", {.links = links});
  span->SetAttribute("a", "abcdef");
  span->SetAttribute("b", int64_t{1});
  span->SetAttribute("c", int64_t{2});
  span->AddEvent("e1");
  span->AddEvent("e2");
  span->End();
  auto spans = storage->Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_EQ(std::get<std::string_view>(*spans[0]->attributes.Find("a")), "abc");
  EXPECT_EQ(spans[0]->attributes.size(), 2U);
  EXPECT_EQ(spans[0]->dropped_attributes_count(), 1U);
  EXPECT_EQ(spans[0]->events.size(), 1U);
  EXPECT_EQ(spans[0]->dropped_events_count, 1U);
  EXPECT_EQ(spans[0]->links.size(), 1U);
  EXPECT_EQ(spans[0]->dropped_links_count, 1U);
}

// A span from StartSpan() keeps the provider's state alive (StartSpanIn's spans do not: their
// creator keeps the tracer). Dropping every owner first, then using the span, is a
// use-after-free under ASan if the span holds no reference.
TEST(TracerTest, ASpanFromStartSpanOutlivesItsTracerAndProvider) {
  Fixture f = MakeFixture();
  auto span = f.tracer->StartSpan("outlives");
  ASSERT_TRUE(span->IsRecording());
  f.tracer.reset();
  f.provider.reset();  // shuts the processors down
  span->SetAttribute("k", int64_t{1});
  span->AddEvent("after the provider");  // reads the provider's span limits
  span->End();
  span.reset();
  // Ended after the shutdown: not exported.
  EXPECT_TRUE(f.storage->Take().empty());
}

TEST(TracerTest, SpansStartedInCallerStorageRecordEndAndAreDestroyedInPlace) {
  Fixture f = MakeFixture();
  alignas(Span) std::byte parent_storage[sizeof(Span)];
  alignas(Span) std::byte child_storage[sizeof(Span)];
  Span* parent = f.tracer->StartSpanIn(parent_storage, "parent");
  ASSERT_EQ(static_cast<void*>(parent), static_cast<void*>(parent_storage));
  ASSERT_TRUE(parent->IsRecording());
  StartSpanOptions options;
  options.parent = &parent->context();
  const KeyValueView attributes[] = {{"k", int64_t{7}}};
  options.attributes = attributes;
  Span* child = f.tracer->StartSpanIn(child_storage, "child", options);
  ASSERT_EQ(static_cast<void*>(child), static_cast<void*>(child_storage));
  child->End();
  std::destroy_at(child);
  std::destroy_at(parent);  // destroying an unended span ends it, as with StartSpan
  auto spans = f.storage->Take();
  ASSERT_EQ(spans.size(), 2U);
  EXPECT_EQ(spans[0]->name, "child");
  EXPECT_EQ(spans[0]->parent_span_id, spans[1]->span_id);
  EXPECT_EQ(spans[0]->trace_id, spans[1]->trace_id);
  EXPECT_EQ(spans[0]->attributes.Find("k"), AttributeValue(int64_t{7}));
  EXPECT_EQ(spans[1]->name, "parent");

  // A dropped span is non-recording, still in the caller's storage.
  auto off = TracerProvider::builder().WithSampler(MakeAlwaysOffSampler()).Build();
  alignas(Span) std::byte dropped_storage[sizeof(Span)];
  Span* dropped = off->GetTracer("t")->StartSpanIn(dropped_storage, "dropped");
  ASSERT_EQ(static_cast<void*>(dropped), static_cast<void*>(dropped_storage));
  EXPECT_FALSE(dropped->IsRecording());
  EXPECT_TRUE(dropped->context().IsValid());
  std::destroy_at(dropped);
}

// The tracer decides ParentBased over the SDK's constant roots without calling the sampler; every
// other sampler is asked. Each case: the root's and the children's sampled flags, whether they
// record, and FixedSamplingDecision, for every way of building the sampler.
TEST(TracerTest, EachSamplerDecidesRootsAndChildrenAsItsDescriptionSays) {
  // Counts its calls; decides like ParentBased(AlwaysOn) (a user's sampler: always asked).
  class CountingSampler final : public Sampler {
   public:
    explicit CountingSampler(int* calls) : calls_(calls) {}
    SamplingResult ShouldSample(const SpanContext& parent, const TraceId&, std::string_view,
                                SpanKind) noexcept override {
      ++*calls_;
      SamplingResult result;
      result.decision = !parent.IsValid() || parent.IsSampled() ? SamplingDecision::kRecordAndSample
                                                                : SamplingDecision::kDrop;
      return result;
    }
    std::string Description() const override { return "Counting"; }

   private:
    int* calls_;
  };
  struct Case {
    const char* name;
    std::function<std::unique_ptr<Sampler>()> make;
    bool root_sampled;
    std::optional<SamplingDecision> root_fixed;  // FixedSamplingDecision for a root
  };
  int user_calls = 0;
  const Case cases[] = {
      {"ParentBased(AlwaysOn)", [] { return MakeParentBasedSampler(MakeAlwaysOnSampler()); }, true,
       SamplingDecision::kRecordAndSample},
      {"ParentBased(AlwaysOff)", [] { return MakeParentBasedSampler(MakeAlwaysOffSampler()); },
       false, SamplingDecision::kDrop},
      {"ParentBased(ratio 1)", [] { return MakeParentBasedSampler(MakeTraceIdRatioSampler(1)); },
       true, SamplingDecision::kRecordAndSample},
      {"ParentBased(ratio 0)", [] { return MakeParentBasedSampler(MakeTraceIdRatioSampler(0)); },
       false, SamplingDecision::kDrop},
      {"ParentBased(null root)", [] { return MakeParentBasedSampler(nullptr); }, true,
       SamplingDecision::kRecordAndSample},
      {"AlwaysOn", [] { return MakeAlwaysOnSampler(); }, true, SamplingDecision::kRecordAndSample},
      {"AlwaysOff", [] { return MakeAlwaysOffSampler(); }, false, SamplingDecision::kDrop},
      {"ParentBased(user)",
       [&] { return MakeParentBasedSampler(std::make_unique<CountingSampler>(&user_calls)); }, true,
       std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto builder = TracerProvider::builder();
    builder.WithSampler(c.make());
    Fixture f = MakeFixture(std::move(builder));
    const auto root = f.tracer->StartSpan("root");
    EXPECT_EQ(root->context().IsSampled(), c.root_sampled);
    EXPECT_EQ(root->IsRecording(), c.root_sampled);
    const SpanContext no_parent;
    EXPECT_EQ(f.tracer->FixedSamplingDecision(&no_parent), c.root_fixed);
    // Children of a sampled and of an unsampled remote parent follow it, except under the
    // samplers that ignore the parent.
    const bool ignores_parent = std::string_view(c.name).starts_with("Always");
    for (const bool parent_sampled : {true, false}) {
      const SpanContext parent(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c").value(),
                               SpanId::FromUint64(7), parent_sampled ? 1 : 0, true);
      StartSpanOptions options;
      options.parent = &parent;
      const auto child = f.tracer->StartSpan("child", options);
      const bool sampled = ignores_parent ? c.root_sampled : parent_sampled;
      EXPECT_EQ(child->context().IsSampled(), sampled) << "parent sampled: " << parent_sampled;
      EXPECT_EQ(child->context().trace_id(), parent.trace_id());
      const auto fixed = f.tracer->FixedSamplingDecision(&parent);
      ASSERT_TRUE(fixed.has_value());
      EXPECT_EQ(*fixed, sampled ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop);
    }
    root->End();
  }
  // The user's root sampler was asked for the root span (and for nothing else).
  EXPECT_EQ(user_calls, 1);
}

TEST(TracerTest, SamplerAndShutdown) {
  auto exporter = std::make_unique<InMemorySpanExporter>();
  auto storage = exporter->storage();
  auto provider = TracerProvider::builder()
                      .WithSimpleExporter(std::move(exporter))
                      .WithSampler(MakeAlwaysOffSampler())
                      .Build();
  auto tracer = provider->GetTracer("t");
  EXPECT_EQ(tracer, provider->GetTracer("t"));
  EXPECT_NE(tracer, provider->GetTracer("t", "2"));
  auto dropped = tracer->StartSpan("dropped");
  EXPECT_FALSE(dropped->IsRecording());
  EXPECT_TRUE(dropped->context().IsValid());
  dropped->End();
  EXPECT_EQ(storage->Size(), 0U);

  auto provider2 = TracerProvider::builder()
                       .WithSimpleExporter(std::make_unique<InMemorySpanExporter>(storage))
                       .Build();
  auto tracer2 = provider2->GetTracer("t");
  EXPECT_TRUE(tracer2->StartSpan("before")->IsRecording());
  EXPECT_TRUE(provider2->Shutdown());
  EXPECT_TRUE(provider2->Shutdown());  // idempotent
  EXPECT_FALSE(tracer2->StartSpan("after")->IsRecording());
  provider2.reset();
  EXPECT_FALSE(tracer2->StartSpan("after provider destroyed")->IsRecording());
}

TEST(TracerTest, ProcessorOrderAndCopies) {
  auto first = std::make_unique<InMemorySpanExporter>();
  auto second = std::make_unique<InMemorySpanExporter>();
  auto s1 = first->storage();
  auto s2 = second->storage();
  auto provider = TracerProvider::builder()
                      .WithSimpleExporter(std::move(first))
                      .WithSimpleExporter(std::move(second))
                      .Build();
  auto span = provider->GetTracer("t")->StartSpan("both");
  span->SetAttribute("k", "v");
  span->End();
  auto a = s1->Take();
  auto b = s2->Take();
  ASSERT_EQ(a.size(), 1U);
  ASSERT_EQ(b.size(), 1U);
  EXPECT_NE(a[0].get(), b[0].get());
  EXPECT_EQ(std::get<std::string_view>(*a[0]->attributes.Find("k")), "v");
  EXPECT_EQ(std::get<std::string_view>(*b[0]->attributes.Find("k")), "v");
}

TEST(TracerTest, ConcurrentMutationIsSafe) {
  Fixture f = MakeFixture();
  auto span = f.tracer->StartSpan("shared");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        span->SetAttribute("t" + std::to_string(t) + "." + std::to_string(i), int64_t{i});
        span->AddEvent("e");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  span->End();
  auto spans = f.storage->Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_EQ(spans[0]->attributes.size(), 80U);
  EXPECT_EQ(spans[0]->events.size(), 80U);
}

TEST(BaggageSpanProcessorTest, CopiesOnlyConfiguredKeys) {
  auto exporter = std::make_unique<InMemorySpanExporter>();
  auto storage = exporter->storage();
  auto provider = TracerProvider::builder()
                      .WithSpanProcessor(MakeBaggageSpanProcessor({"user.id", "session.id"}))
                      .WithSimpleExporter(std::move(exporter))
                      .Build();
  Context context = Context().WithBaggage({{"user.id", "u1"}, {"secret", "s"}});
  {
    Context::Token token = context.Attach();
    provider->GetTracer("t")->StartSpan("s")->End();
  }
  auto spans = storage->Take();
  ASSERT_EQ(spans.size(), 1U);
  EXPECT_EQ(std::get<std::string_view>(*spans[0]->attributes.Find("user.id")), "u1");
  EXPECT_FALSE(spans[0]->attributes.Find("secret").has_value());
  EXPECT_FALSE(spans[0]->attributes.Find("session.id").has_value());
}

TEST(ConsoleExporterTest, OutputContainsNameAndIds) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  ASSERT_NE(out, nullptr);
  {
    auto provider = TracerProvider::builder()
                        .WithSimpleExporter(MakeConsoleSpanExporter(out))
                        .WithResource(Resource::FromAttributes({{"service.name", "console-svc"}}))
                        .Build();
    auto tracer = provider->GetTracer("t");
    auto root = tracer->StartSpan("console-root");
    SpanContext parent = root->context();
    auto child = tracer->StartSpan("console-child", {.parent = &parent});
    child->SetAttribute("answer", int64_t{42});
    child->AddEvent("evt");
    child->RecordError("oops");
    child->End();
    root->End();
    std::string text;
    std::fflush(out);
    text.assign(buffer, size);
    EXPECT_NE(text.find("console-root"), std::string::npos);
    EXPECT_NE(text.find("console-child"), std::string::npos);
    EXPECT_NE(text.find(parent.trace_id().ToHex()), std::string::npos);
    EXPECT_NE(text.find(parent.span_id().ToHex()), std::string::npos);
    EXPECT_NE(text.find(child->context().span_id().ToHex()), std::string::npos);
    EXPECT_NE(text.find("answer = 42"), std::string::npos);
    EXPECT_NE(text.find("ERROR (oops)"), std::string::npos);
    EXPECT_NE(text.find("evt"), std::string::npos);
    EXPECT_NE(text.find("console-svc"), std::string::npos);
    // Resource printed once.
    EXPECT_EQ(text.find("Resource:"), text.rfind("Resource:"));
  }
  std::fclose(out);
  std::free(buffer);
}

}  // namespace
}  // namespace vllora::otel
