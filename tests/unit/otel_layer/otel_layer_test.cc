// The bridge from facade spans to SDK spans: names, parents, trace ids, attributes, status,
// events, filtering, remote parents, baggage across threads and coroutines, and span lifetime.
#include "vllora/otel_layer/otel_layer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/attribute_strings.h"
#include "vllora/asio/task_executor.h"
#include "vllora/core/core.h"
#include "vllora/otel/otel.h"
#include "vllora/subscriber/registry.h"
#include "vllora/telemetry/helpers.h"
#include "vllora/telemetry/span_names.h"

namespace vllora {
namespace {

using namespace std::chrono_literals;
using otel::AttributeValue;
using otel::SpanData;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::IsEmpty;
using SpanList = std::vector<std::unique_ptr<SpanData>>;

constexpr std::string_view kRemoteTraceParent =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr std::string_view kRemoteTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kRemoteSpanId = "00f067aa0ba902b7";

AttributeValue Str(std::string_view s) { return AttributeValue(s); }

const SpanData& Named(const SpanList& spans, std::string_view name) {
  for (const auto& span : spans) {
    if (span->name == name) return *span;
  }
  ADD_FAILURE() << "no exported span named " << name;
  static const SpanData kMissing;
  return kMissing;
}

std::vector<std::string> Names(const SpanList& spans) {
  std::vector<std::string> names;
  for (const auto& span : spans) names.push_back(span->name);
  return names;
}

std::optional<AttributeValue> Attr(const SpanData& span, std::string_view key) {
  return span.attributes.Find(key);
}

std::vector<std::string> AttributeKeys(const otel::Attributes& attributes) {
  std::vector<std::string> keys;
  for (otel::KeyValueView kv : attributes) keys.emplace_back(kv.key);
  return keys;
}

class OtelLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto exporter = std::make_unique<otel::InMemorySpanExporter>();
    storage_ = exporter->storage();
    std::vector<std::string> keys(telemetry::kBaggageKeys.begin(), telemetry::kBaggageKeys.end());
    provider_ = otel::TracerProvider::builder()
                    .WithSpanProcessor(otel::MakeBaggageSpanProcessor(std::move(keys)))
                    .WithSimpleExporter(std::move(exporter))
                    .WithResource(otel::Resource::Empty())
                    .Build();
    tracer_ = provider_->GetTracer("otel_layer_test");
  }

  void TearDown() override {
    SetGlobalSubscriber(nullptr);
    provider_->Shutdown();
  }

  /// The seed's setup: one OTel layer for vLLora's spans, one for the application's, one tracer.
  void InstallSeedLayers(OtelLayerOptions options = {}) {
    auto registry = Registry::Create();
    registry->With(OtelLayer(telemetry::kTargetPrefix, LevelFilter::kInfo, tracer_, options))
        .With(OtelLayer("app::runtime", LevelFilter::kInfo, tracer_, options));
    SetGlobalSubscriber(registry);
  }

  SpanList Take() { return storage_->Take(); }

  /// One OTel layer for "app::runtime" on a provider of its own with `limits`; its spans go to
  /// `*storage`. The caller shuts the returned provider down.
  std::shared_ptr<otel::TracerProvider> InstallLimitedLayer(
      const otel::SpanLimits& limits, std::shared_ptr<otel::InMemorySpanStorage>* storage,
      OtelLayerOptions options = {}) {
    auto exporter = std::make_unique<otel::InMemorySpanExporter>();
    *storage = exporter->storage();
    auto provider = otel::TracerProvider::builder()
                        .WithSimpleExporter(std::move(exporter))
                        .WithSpanLimits(limits)
                        .Build();
    auto registry = Registry::Create();
    registry->With(
        OtelLayer("app::runtime", LevelFilter::kInfo, provider->GetTracer("limits"), options));
    SetGlobalSubscriber(registry);
    return provider;
  }

  std::shared_ptr<otel::InMemorySpanStorage> storage_;
  std::shared_ptr<otel::TracerProvider> provider_;
  std::shared_ptr<otel::Tracer> tracer_;
};

TEST_F(OtelLayerTest, TwoLayersSharingOneTracerPutTheirSpansInOneTrace) {
  InstallSeedLayers();
  otel::SpanContext execution_context;
  otel::SpanContext run_context;
  {
    Span execution = VLLORA_INFO_SPAN("app::runtime::execution", "execution");
    auto entered = execution.Enter();
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
    execution_context = OtelSpanContext(execution);
    run_context = OtelSpanContext(run);
  }
  SpanList spans = Take();
  // The child closes first: its handle is dropped first and it keeps its parent open.
  ASSERT_THAT(Names(spans), ElementsAre("run", "execution"));
  const SpanData& run = *spans[0];
  const SpanData& execution = *spans[1];
  EXPECT_FALSE(execution.parent_span_id.IsValid());
  EXPECT_EQ(run.parent_span_id, execution.span_id);
  EXPECT_EQ(run.trace_id, execution.trace_id);
  EXPECT_FALSE(run.parent_is_remote);
  EXPECT_EQ(execution.span_id, execution_context.span_id());
  EXPECT_EQ(execution.trace_id, execution_context.trace_id());
  EXPECT_EQ(run.span_id, run_context.span_id());
  EXPECT_EQ(run.scope->name, "otel_layer_test");
  EXPECT_EQ(run.kind, otel::SpanKind::kInternal);
  EXPECT_EQ(run.status_code, otel::StatusCode::kUnset);
}

TEST_F(OtelLayerTest, FieldsBecomeTypedAttributes) {
  InstallSeedLayers();
  {
    Span span =
        VLLORA_INFO_SPAN("app::runtime::execution", "typed", {"s", "text"}, {"i", int64_t{-5}},
                         {"u", uint64_t{18446744073709551615u}}, {"d", 1.5}, {"b", true},
                         {"j", Json(R"({"a":[1,2]})")}, {"none", Value()});
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& span = *spans[0];
  EXPECT_THAT(AttributeKeys(span.attributes), ElementsAre("s", "i", "u", "d", "b", "j"));
  EXPECT_EQ(Attr(span, "s"), Str("text"));
  EXPECT_EQ(Attr(span, "i"), AttributeValue(int64_t{-5}));
  EXPECT_EQ(Attr(span, "u"), AttributeValue(uint64_t{18446744073709551615u}));
  EXPECT_EQ(Attr(span, "d"), AttributeValue(1.5));
  EXPECT_EQ(Attr(span, "b"), AttributeValue(true));
  EXPECT_EQ(Attr(span, "j"), Str(R"({"a":[1,2]})"));  // JSON is exported as its text
  EXPECT_EQ(Attr(span, "none"), std::nullopt);
}

// The spans of a callsite after its first take its prepared layout, which copies the scalar
// values' bytes as they are: each keeps its own values, of every type.
TEST_F(OtelLayerTest, EverySpanOfACallsiteKeepsItsOwnValuesOfEveryType) {
  InstallSeedLayers();
  const std::string texts[] = {"first", "second value", "third"};
  for (int i = 0; i < 3; ++i) {
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "typed", {"s", texts[i]},
                                 {"i", int64_t{-5} * i}, {"u", uint64_t{18446744073709551615u} - i},
                                 {"d", 1.5 * i}, {"b", i % 2 == 1}, {"j", Json(texts[i])});
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const SpanData& span = *spans[static_cast<size_t>(i)];
    EXPECT_THAT(AttributeKeys(span.attributes), ElementsAre("s", "i", "u", "d", "b", "j"));
    EXPECT_EQ(Attr(span, "s"), Str(texts[i]));
    EXPECT_EQ(Attr(span, "i"), AttributeValue(int64_t{-5} * i));
    EXPECT_EQ(Attr(span, "u"), AttributeValue(uint64_t{18446744073709551615u} - i));
    EXPECT_EQ(Attr(span, "d"), AttributeValue(1.5 * i));
    EXPECT_EQ(Attr(span, "b"), AttributeValue(i % 2 == 1));
    EXPECT_EQ(Attr(span, "j"), Str(texts[i]));
  }
}

// Keys outside read-only memory are compared by their bytes on every span of a callsite, also
// against an empty key with no address (which once matched a plan's heap key by address).
TEST_F(OtelLayerTest, KeysOutsideReadOnlyMemoryAreComparedOnEverySpan) {
  InstallSeedLayers();
  const std::string keys[] = {"heap.key", "other.key", ""};
  for (int i = 0; i < 4; ++i) {
    const std::string_view key = i < 2    ? std::string_view(keys[0])
                                 : i == 2 ? std::string_view(keys[1])
                                          : std::string_view();
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "runtime_keys", {key, int64_t{i}});
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 4u);
  const char* expected[] = {"heap.key", "heap.key", "other.key", ""};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const SpanData& span = *spans[static_cast<size_t>(i)];
    EXPECT_THAT(AttributeKeys(span.attributes), ElementsAre(expected[i]));
    EXPECT_EQ(Attr(span, expected[i]), AttributeValue(int64_t{i}));
  }
}

TEST_F(OtelLayerTest, RecordedFieldsArePresentBeforeExport) {
  InstallSeedLayers();
  {
    Span span =
        VLLORA_INFO_SPAN("vllora::user_tracing::api_invoke", "api_invoke", {"status", "pending"});
    span.Record("late", int64_t{42});
    span.Record({{"status", "done"}, {"ratio", 0.25}});
    span.InScope([] { Span::Current().Record("ttft", uint64_t{843129}); });
    EXPECT_EQ(storage_->Size(), 0u);
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& span = *spans[0];
  EXPECT_THAT(AttributeKeys(span.attributes), ElementsAre("status", "late", "ratio", "ttft"));
  EXPECT_EQ(Attr(span, "status"), Str("done"));  // replaced in place
  EXPECT_EQ(Attr(span, "late"), AttributeValue(int64_t{42}));
  EXPECT_EQ(Attr(span, "ratio"), AttributeValue(0.25));
  EXPECT_EQ(Attr(span, "ttft"), AttributeValue(uint64_t{843129}));
}

TEST_F(OtelLayerTest, ErrorFieldSetsStatusErrorAndTheErrorAttribute) {
  InstallSeedLayers();
  {
    Span at_creation =
        VLLORA_INFO_SPAN("app::runtime::execution", "at_creation", {"error", "boom"});
    Span recorded = VLLORA_INFO_SPAN("app::runtime::execution", "recorded");
    recorded.Record("error", "late failure");
    Span helper = VLLORA_INFO_SPAN("vllora::user_tracing::tool", "helper");
    telemetry::RecordError(helper, "tool failed");
    Span empty_error = VLLORA_INFO_SPAN("app::runtime::execution", "empty_error", {"error", ""});
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 4u);
  for (std::string_view name : {"at_creation", "recorded", "helper"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(Named(spans, name).status_code, otel::StatusCode::kError);
  }
  EXPECT_EQ(Attr(Named(spans, "at_creation"), "error"), Str("boom"));
  EXPECT_EQ(Named(spans, "at_creation").status_message, "boom");
  EXPECT_EQ(Attr(Named(spans, "recorded"), "error"), Str("late failure"));
  EXPECT_EQ(Named(spans, "recorded").status_message, "late failure");
  EXPECT_EQ(Attr(Named(spans, "helper"), "error"), Str("tool failed"));
  // An empty error is no error.
  EXPECT_EQ(Named(spans, "empty_error").status_code, otel::StatusCode::kUnset);
}

TEST_F(OtelLayerTest, SpecialOtelFieldsSetKindNameAndStatusAndAreNotAttributes) {
  InstallSeedLayers();
  {
    Span server = VLLORA_INFO_SPAN("app::runtime::execution", "server", {"otel.kind", "SERVER"},
                                   {"otel.name", "GET /chat"}, {"otel.status_code", "ok"},
                                   {"plain", int64_t{1}});
    Span client = VLLORA_INFO_SPAN("app::runtime::execution", "client", {"otel.kind", "client"});
    client.Record({{"otel.name", "renamed later"},
                   {"otel.status_code", "error"},
                   {"otel.status_message", "upstream 502"}});
    Span unknown_kind =
        VLLORA_INFO_SPAN("app::runtime::execution", "unknown_kind", {"otel.kind", "sideways"});
  }
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("unknown_kind", "renamed later", "GET /chat"));
  const SpanData& server = Named(spans, "GET /chat");
  EXPECT_EQ(server.kind, otel::SpanKind::kServer);
  EXPECT_EQ(server.status_code, otel::StatusCode::kOk);
  EXPECT_THAT(AttributeKeys(server.attributes), ElementsAre("plain"));
  const SpanData& client = Named(spans, "renamed later");
  EXPECT_EQ(client.kind, otel::SpanKind::kClient);
  EXPECT_EQ(client.status_code, otel::StatusCode::kError);
  EXPECT_EQ(client.status_message, "upstream 502");
  EXPECT_THAT(AttributeKeys(client.attributes), IsEmpty());
  EXPECT_EQ(Named(spans, "unknown_kind").kind, otel::SpanKind::kInternal);
  EXPECT_THAT(AttributeKeys(Named(spans, "unknown_kind").attributes), IsEmpty());
}

TEST_F(OtelLayerTest, EventsInsideABridgedSpanBecomeSpanEvents) {
  InstallSeedLayers();
  {
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
    auto entered = run.Enter();
    VLLORA_EVENT(Level::kWarn, "vllora::user_tracing::run", "retry {} of {}", 1, 3)
        .With("model", "gpt-4")
        .With("attempt", int64_t{1});
    EmitEvent(Level::kInfo, "vllora::user_tracing::run", "");
    // Below the layer's level: not an event.
    VLLORA_EVENT(Level::kDebug, "vllora::user_tracing::run", "too verbose");
  }
  // Outside any span: nowhere to attach, nothing exported.
  VLLORA_EVENT(Level::kError, "vllora::user_tracing::run", "orphan");
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& run = *spans[0];
  ASSERT_EQ(run.events.size(), 2u);
  const otel::Event& retry = run.events[0];
  EXPECT_EQ(retry.name, "retry 1 of 3");
  EXPECT_THAT(AttributeKeys(retry.attributes), ElementsAre("level", "target", "model", "attempt"));
  EXPECT_EQ(retry.attributes.Find("level"), Str("WARN"));
  EXPECT_EQ(retry.attributes.Find("target"), Str("vllora::user_tracing::run"));
  EXPECT_EQ(retry.attributes.Find("model"), Str("gpt-4"));
  EXPECT_EQ(retry.attributes.Find("attempt"), AttributeValue(int64_t{1}));
  EXPECT_GE(retry.time_unix_nano, run.start_time_unix_nano);
  EXPECT_LE(retry.time_unix_nano, run.end_time_unix_nano);
  EXPECT_EQ(run.events[1].name, "event");  // an empty message gets a name
  EXPECT_EQ(run.events[1].attributes.Find("level"), Str("INFO"));
}

TEST_F(OtelLayerTest, EventsCanBeTurnedOff) {
  InstallSeedLayers(OtelLayerOptions{.with_events = false});
  {
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
    auto entered = run.Enter();
    VLLORA_EVENT(Level::kInfo, "vllora::user_tracing::run", "not exported");
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_THAT(spans[0]->events, IsEmpty());
}

TEST_F(OtelLayerTest, WithLocationAddsCodeAttributes) {
  InstallSeedLayers(OtelLayerOptions{.with_location = true});
  uint32_t line = 0;
  {
    // clang-format off
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "located"); line = __LINE__;
    // clang-format on
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_THAT(AttributeKeys(spans[0]->attributes),
              ElementsAre("code.filepath", "code.lineno", "code.namespace"));
  auto file = Attr(*spans[0], "code.filepath");
  ASSERT_TRUE(file.has_value());
  ASSERT_TRUE(std::holds_alternative<std::string_view>(*file));
  EXPECT_THAT(std::string(std::get<std::string_view>(*file)), EndsWith("otel_layer_test.cc"));
  EXPECT_EQ(Attr(*spans[0], "code.lineno"), AttributeValue(static_cast<int64_t>(line)));
  EXPECT_EQ(Attr(*spans[0], "code.namespace"), Str("app::runtime::execution"));
}

TEST_F(OtelLayerTest, FilteredOutSpansAreNotExportedAndChildrenAttachToTheNearestBridgedSpan) {
  // A layer without a filter keeps every span alive in the registry, bridged or not.
  auto registry = Registry::Create();
  registry->With(OtelLayer(telemetry::kTargetPrefix, LevelFilter::kInfo, tracer_))
      .With(std::make_shared<Layer>());
  SetGlobalSubscriber(registry);
  otel::SpanContext run_context;
  {
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
    auto r = run.Enter();
    run_context = OtelSpanContext(run);
    Span other_target = VLLORA_INFO_SPAN("app::elsewhere", "other_target");
    auto o = other_target.Enter();
    Span too_verbose = VLLORA_DEBUG_SPAN("vllora::user_tracing::run", "too_verbose");
    auto v = too_verbose.Enter();
    Span prefix_lookalike = VLLORA_INFO_SPAN("vllora::user_tracing_extra", "prefix_lookalike");
    auto p = prefix_lookalike.Enter();
    EXPECT_FALSE(too_verbose.IsDisabled());                // alive in the registry...
    EXPECT_FALSE(OtelSpanContext(too_verbose).IsValid());  // ...but not bridged
    EXPECT_FALSE(OtelSpanContext(prefix_lookalike).IsValid());
    Span task = VLLORA_INFO_SPAN("vllora::user_tracing::task", "task");
    // The OTel context of a non-bridged current span is its nearest bridged ancestor's.
    EXPECT_EQ(CurrentOtelContext().span_context(), run_context);
  }
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("task", "run"));
  EXPECT_EQ(spans[0]->parent_span_id, spans[1]->span_id);
  EXPECT_EQ(spans[0]->trace_id, spans[1]->trace_id);
  EXPECT_EQ(spans[1]->span_id, run_context.span_id());
}

TEST_F(OtelLayerTest, DisabledSpanHasNoOtelSpanContext) {
  InstallSeedLayers();
  Span disabled = VLLORA_INFO_SPAN("nobody::wants", "this");
  EXPECT_TRUE(disabled.IsDisabled());
  EXPECT_FALSE(OtelSpanContext(disabled).IsValid());
  EXPECT_FALSE(OtelSpanContext(Span()).IsValid());
  EXPECT_TRUE(CurrentOtelContext().IsEmpty());
}

TEST_F(OtelLayerTest, RemoteParentFromAnAttachedContext) {
  InstallSeedLayers();
  otel::MapCarrier carrier{{"traceparent", std::string(kRemoteTraceParent)}};
  otel::Context remote = otel::MakeTraceContextPropagator()->Extract(carrier, otel::Context());
  ASSERT_TRUE(remote.span_context().IsValid());
  {
    otel::Context::Token token = remote.Attach();
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
    auto entered = run.Enter();
    Span child = VLLORA_INFO_SPAN("vllora::user_tracing::task", "task");
  }
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("task", "run"));
  const SpanData& run = *spans[1];
  EXPECT_EQ(run.trace_id.ToHex(), kRemoteTraceId);
  EXPECT_EQ(run.parent_span_id.ToHex(), kRemoteSpanId);
  EXPECT_TRUE(run.parent_is_remote);
  EXPECT_TRUE(run.IsSampled());
  const SpanData& task = *spans[0];
  EXPECT_EQ(task.trace_id.ToHex(), kRemoteTraceId);
  EXPECT_EQ(task.parent_span_id, run.span_id);  // the bridged parent wins over the remote one
  EXPECT_FALSE(task.parent_is_remote);
}

TEST_F(OtelLayerTest, BaggageSpanProcessorStampsVlloraBaggageFromTheAttachedContext) {
  InstallSeedLayers();
  otel::Context context = otel::Context().WithBaggage({{telemetry::kRunIdKey, "run-1"},
                                                       {telemetry::kThreadIdKey, "thread-1"},
                                                       {telemetry::kProjectIdKey, "project-1"},
                                                       {"unrelated", "not copied"}});
  {
    otel::Context::Token token = context.Attach();
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run", {"own", int64_t{1}});
    auto entered = run.Enter();
    Span execution = VLLORA_INFO_SPAN("app::runtime::execution", "execution");
  }
  { Span outside = VLLORA_INFO_SPAN("vllora::user_tracing::run", "outside"); }
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("execution", "run", "outside"));
  for (std::string_view name : {"run", "execution"}) {
    SCOPED_TRACE(name);
    const SpanData& span = Named(spans, name);
    EXPECT_EQ(Attr(span, "vllora.run_id"), Str("run-1"));
    EXPECT_EQ(Attr(span, "vllora.thread_id"), Str("thread-1"));
    EXPECT_EQ(Attr(span, "vllora.project_id"), Str("project-1"));
    EXPECT_EQ(Attr(span, "vllora.label"), std::nullopt);
    EXPECT_EQ(Attr(span, "unrelated"), std::nullopt);
  }
  EXPECT_THAT(AttributeKeys(Named(spans, "run").attributes),
              ElementsAre("own", "vllora.run_id", "vllora.thread_id", "vllora.project_id"));
  EXPECT_THAT(AttributeKeys(Named(spans, "outside").attributes), IsEmpty());
}

TEST_F(OtelLayerTest, CurrentOtelContextCarriesTheCurrentSpanAndTheBaggage) {
  InstallSeedLayers();
  otel::Context context = otel::Context().WithBaggage({{telemetry::kRunIdKey, "run-2"}});
  otel::Context::Token token = context.Attach();
  Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
  {
    auto entered = run.Enter();
    otel::Context current = CurrentOtelContext();
    EXPECT_EQ(current.span_context(), OtelSpanContext(run));
    EXPECT_EQ(current.baggage().Get(telemetry::kRunIdKey), "run-2");
  }
  otel::Context outside = CurrentOtelContext();  // no current span: the attached context
  EXPECT_EQ(outside, context);
  EXPECT_FALSE(outside.span_context().IsValid());
}

TEST_F(OtelLayerTest, BaggageAndSpanFollowBindToAnotherThread) {
  InstallSeedLayers();
  otel::Context context = otel::Context().WithBaggage({{telemetry::kRunIdKey, "run-bound"}});
  std::optional<std::string> seen_in_thread;
  bool context_leaked = true;
  Span parent = VLLORA_INFO_SPAN("vllora::user_tracing::run", "parent");
  std::function<void()> work;
  {
    otel::Context::Token token = context.Attach();
    auto entered = parent.Enter();
    work = Bind([&] {
      auto value = otel::Context::Current().baggage().Get(telemetry::kRunIdKey);
      if (value) seen_in_thread = std::string(*value);
      Span bound = VLLORA_INFO_SPAN("vllora::user_tracing::task", "bound");
    });
  }
  auto unbound = [] { Span span = VLLORA_INFO_SPAN("vllora::user_tracing::task", "unbound"); };
  std::thread([&] {
    work();
    context_leaked = !otel::Context::Current().IsEmpty() || !Span::Current().IsDisabled();
    unbound();
  }).join();
  work = nullptr;  // drops the captured span handle
  parent = Span();
  EXPECT_EQ(seen_in_thread, "run-bound");
  EXPECT_FALSE(context_leaked);
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("bound", "unbound", "parent"));
  const SpanData& bound = Named(spans, "bound");
  EXPECT_EQ(Attr(bound, "vllora.run_id"), Str("run-bound"));
  EXPECT_EQ(bound.parent_span_id, Named(spans, "parent").span_id);
  const SpanData& unbound_span = Named(spans, "unbound");
  EXPECT_EQ(Attr(unbound_span, "vllora.run_id"), std::nullopt);
  EXPECT_FALSE(unbound_span.parent_span_id.IsValid());
}

asio::awaitable<void> BaggageReadingTask(std::optional<std::string>* seen) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 1ms);
  co_await timer.async_wait(asio::use_awaitable);  // resume on the io thread, later
  auto value = otel::Context::Current().baggage().Get(telemetry::kRunIdKey);
  if (value) *seen = std::string(*value);
  Span task = VLLORA_INFO_SPAN("vllora::user_tracing::task", "coroutine_task");
  co_await timer.async_wait(asio::use_awaitable);
  Span::Current().Record("after_second_resume", true);
}

TEST_F(OtelLayerTest, BaggageFollowsAnAsioCoroutineSpawnedWithTaskExecutor) {
  InstallSeedLayers();
  otel::Context context = otel::Context().WithBaggage({{telemetry::kRunIdKey, "run-async"}});
  asio::io_context io;
  std::optional<std::string> seen;
  Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
  {
    otel::Context::Token token = context.Attach();
    auto entered = run.Enter();
    asio::co_spawn(TaskExecutor(io.get_executor()), Instrument(BaggageReadingTask(&seen), run),
                   asio::detached);
  }
  // A plain handler on the same io_context sees neither the baggage nor the span.
  bool plain_handler_saw_context = true;
  asio::post(io, [&] {
    plain_handler_saw_context =
        !otel::Context::Current().IsEmpty() || !Span::Current().IsDisabled();
  });
  std::thread([&] { io.run(); }).join();
  run = Span();
  EXPECT_EQ(seen, "run-async");
  EXPECT_FALSE(plain_handler_saw_context);
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("coroutine_task", "run"));
  const SpanData& task = *spans[0];
  EXPECT_EQ(Attr(task, "vllora.run_id"), Str("run-async"));
  EXPECT_EQ(task.parent_span_id, spans[1]->span_id);
  // The span entered by Instrument is current again after the second resumption.
  EXPECT_EQ(Attr(*spans[1], "after_second_resume"), AttributeValue(true));
}

TEST_F(OtelLayerTest, EndTimeIsAfterStartTime) {
  InstallSeedLayers();
  {
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "timed");
    std::this_thread::sleep_for(2ms);
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_GT(spans[0]->start_time_unix_nano, 0u);
  EXPECT_GE(spans[0]->end_time_unix_nano - spans[0]->start_time_unix_nano, 2'000'000u);
}

TEST_F(OtelLayerTest, RepeatedFieldKeysKeepTheLastValueInTheFirstPosition) {
  InstallSeedLayers(OtelLayerOptions{.with_location = true});
  {
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "dup", {"k", "first"},
                                 {"other", int64_t{1}}, {"k", "last"});
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_THAT(AttributeKeys(spans[0]->attributes),
              ElementsAre("k", "other", "code.filepath", "code.lineno", "code.namespace"));
  EXPECT_EQ(Attr(*spans[0], "k"), Str("last"));
  EXPECT_EQ(Attr(*spans[0], "other"), AttributeValue(int64_t{1}));
}

TEST_F(OtelLayerTest, FieldsBeyondTheSpansInlineStorageAreAllKeptInOrder) {
  InstallSeedLayers();
  const std::string long_value(60, 'x');  // 10 x 60 bytes: more than the inline block holds
  {
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "many", {"f0", long_value},
                                 {"f1", long_value}, {"f2", long_value}, {"f3", long_value},
                                 {"f4", long_value}, {"f5", long_value}, {"f6", long_value},
                                 {"f7", long_value}, {"f8", long_value}, {"f9", int64_t{9}});
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_THAT(AttributeKeys(spans[0]->attributes),
              ElementsAre("f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"));
  EXPECT_EQ(Attr(*spans[0], "f8"), Str(long_value));
  EXPECT_EQ(Attr(*spans[0], "f9"), AttributeValue(int64_t{9}));
}

TEST_F(OtelLayerTest, SpanLimitsApplyToFields) {
  otel::SpanLimits limits;
  limits.max_attributes = 2;
  limits.max_attribute_value_length = 4;
  std::shared_ptr<otel::InMemorySpanStorage> storage;
  auto provider = InstallLimitedLayer(limits, &storage);
  {
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "limited", {"a", "abcdefgh"},
                                 {"b", int64_t{2}}, {"c", true});
  }
  SpanList spans = storage->Take();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_THAT(AttributeKeys(spans[0]->attributes), ElementsAre("a", "b"));
  EXPECT_EQ(Attr(*spans[0], "a"), Str("a\xE2\x80\xA6"));  // cut to 4 bytes with the marker
  EXPECT_EQ(spans[0]->dropped_attributes_count(), 1u);
  provider->Shutdown();
}

// A callsite's spans after the first reuse its prepared attribute layout; whatever changes
// between them (a key in a reused buffer, a value type, a special key) must still be exact.
TEST_F(OtelLayerTest, EachSpanOfACallsiteHasItsOwnKeysTypesAndSpecialFields) {
  InstallSeedLayers(OtelLayerOptions{.with_location = true});
  char key[16] = "alpha";  // writable: the same address and length, other contents
  uint32_t line = 0;
  const auto emit = [&](Value value) {
    // clang-format off
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "changing", {std::string_view(key), value}, {"n", int64_t{7}}); line = __LINE__;
    // clang-format on
  };
  emit("one");
  emit("two");
  std::memcpy(key, "bravo", 6);
  emit("three");
  emit(int64_t{4});
  emit(Value());  // an empty value is no attribute
  std::memcpy(key, "otel.name", 10);
  emit("renamed");
  std::memcpy(key, "bravo", 6);
  emit(true);

  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 7u);
  const std::vector<std::string> located = {"code.filepath", "code.lineno", "code.namespace"};
  const auto keys = [&](std::vector<std::string> first) {
    first.insert(first.end(), located.begin(), located.end());
    return first;
  };
  EXPECT_EQ(AttributeKeys(spans[0]->attributes), keys({"alpha", "n"}));
  EXPECT_EQ(Attr(*spans[0], "alpha"), Str("one"));
  EXPECT_EQ(Attr(*spans[1], "alpha"), Str("two"));
  EXPECT_EQ(AttributeKeys(spans[2]->attributes), keys({"bravo", "n"}));
  EXPECT_EQ(Attr(*spans[2], "bravo"), Str("three"));
  EXPECT_EQ(Attr(*spans[3], "bravo"), AttributeValue(int64_t{4}));
  EXPECT_EQ(AttributeKeys(spans[4]->attributes), keys({"n"}));
  EXPECT_EQ(spans[5]->name, "renamed");
  EXPECT_EQ(AttributeKeys(spans[5]->attributes), keys({"n"}));
  EXPECT_EQ(Attr(*spans[6], "bravo"), AttributeValue(true));
  for (size_t i = 0; i < spans.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(i == 5 ? "renamed" : "changing", spans[i]->name);
    EXPECT_EQ(Attr(*spans[i], "n"), AttributeValue(int64_t{7}));
    EXPECT_EQ(Attr(*spans[i], "code.lineno"), AttributeValue(static_cast<int64_t>(line)));
    EXPECT_EQ(Attr(*spans[i], "code.namespace"), Str("app::runtime::execution"));
  }
}

TEST_F(OtelLayerTest, EverySpanOfACallsiteHonoursTheSpanLimits) {
  otel::SpanLimits limits;
  limits.max_attribute_value_length = 4;
  std::shared_ptr<otel::InMemorySpanStorage> storage;
  auto provider = InstallLimitedLayer(limits, &storage);
  const std::string values[] = {"abc", "abcdefgh", "wxyz", "vwxyz"};
  for (const std::string& value : values) {
    Span span =
        VLLORA_INFO_SPAN("app::runtime::execution", "limited", {"a", value}, {"b", int64_t{2}});
  }
  SpanList spans = storage->Take();
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(Attr(*spans[0], "a"), Str("abc"));
  EXPECT_EQ(Attr(*spans[1], "a"), Str("a\xE2\x80\xA6"));  // cut to 4 bytes with the marker
  EXPECT_EQ(Attr(*spans[2], "a"), Str("wxyz"));
  EXPECT_EQ(Attr(*spans[3], "a"), Str("v\xE2\x80\xA6"));
  for (const auto& span : spans) {
    EXPECT_THAT(AttributeKeys(span->attributes), ElementsAre("a", "b"));
    EXPECT_EQ(Attr(*span, "b"), AttributeValue(int64_t{2}));
  }
  provider->Shutdown();
}

// Every attribute of a span, in order: "key=type:value" (type: AttributeValue's index).
std::vector<std::string> TypedAttributes(const SpanData& span) {
  return testing::TypedAttributeStrings(span.attributes);
}

// One callsite for the location tests below; returns its line.
uint32_t EmitLocated(int64_t i) {
  // clang-format off
  Span span = VLLORA_INFO_SPAN("app::runtime::execution", "located", {"model", "gpt-4o"}, {"n", i}); return __LINE__;
  // clang-format on
}

// The code.* attributes are part of a callsite's prepared layout after its first span: every
// span of the callsite carries the same ones, in the same place, as the first (built the
// general way), and none when the option is off.
TEST_F(OtelLayerTest, EverySpanOfACallsiteCarriesItsLocationExactlyLikeTheFirst) {
  const std::string file = __FILE__;
  uint32_t line = 0;
  for (const bool with_location : {true, false, true}) {
    SCOPED_TRACE(with_location);
    InstallSeedLayers(OtelLayerOptions{.with_location = with_location});
    for (int64_t i = 0; i < 4; ++i) line = EmitLocated(i);
    SpanList spans = Take();
    ASSERT_EQ(spans.size(), 4u);
    for (int64_t i = 0; i < 4; ++i) {
      SCOPED_TRACE(i);
      std::vector<std::string> expected = {"model=4:gpt-4o", "n=1:" + std::to_string(i)};
      if (with_location) {
        expected.push_back("code.filepath=4:" + file);
        expected.push_back("code.lineno=1:" + std::to_string(line));
        expected.push_back("code.namespace=4:app::runtime::execution");
      }
      EXPECT_EQ(TypedAttributes(*spans[static_cast<size_t>(i)]), expected);
      EXPECT_EQ(spans[static_cast<size_t>(i)]->dropped_attributes_count(), 0u);
    }
  }
}

// A value-length limit shorter than the file path (or the target) cuts them on every span
// exactly as on the first, with the marker; a limit they fit is no cut.
TEST_F(OtelLayerTest, EverySpanOfACallsiteCutsItsLocationAtTheValueLengthLimit) {
  const std::string file = __FILE__;
  const std::string target = "app::runtime::execution";
  for (const uint32_t limit :
       {8U, static_cast<uint32_t>(file.size() - 1), static_cast<uint32_t>(file.size())}) {
    SCOPED_TRACE(limit);
    otel::SpanLimits limits;
    limits.max_attribute_value_length = limit;
    std::shared_ptr<otel::InMemorySpanStorage> storage;
    auto provider = InstallLimitedLayer(limits, &storage, OtelLayerOptions{.with_location = true});
    uint32_t line = 0;
    for (int64_t i = 0; i < 3; ++i) line = EmitLocated(i);
    SpanList spans = storage->Take();
    ASSERT_EQ(spans.size(), 3u);
    const std::string cut_file =
        limit < file.size() ? file.substr(0, limit - 3) + "\xE2\x80\xA6" : file;
    const std::string cut_target =
        limit < target.size() ? target.substr(0, limit - 3) + "\xE2\x80\xA6" : target;
    EXPECT_EQ(cut_file, otel::TruncateWithMarker(file, limit));
    for (int64_t i = 0; i < 3; ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(TypedAttributes(*spans[static_cast<size_t>(i)]),
                (std::vector<std::string>{
                    "model=4:gpt-4o", "n=1:" + std::to_string(i), "code.filepath=4:" + cut_file,
                    "code.lineno=1:" + std::to_string(line), "code.namespace=4:" + cut_target}));
    }
    provider->Shutdown();
  }
}

// The count limit holds for the code.* attributes of every span of a callsite too.
TEST_F(OtelLayerTest, EverySpanOfACallsiteKeepsItsLocationWithinTheCountLimit) {
  otel::SpanLimits limits;
  limits.max_attributes = 3;
  std::shared_ptr<otel::InMemorySpanStorage> storage;
  auto provider = InstallLimitedLayer(limits, &storage, OtelLayerOptions{.with_location = true});
  for (int64_t i = 0; i < 3; ++i) EmitLocated(i);
  SpanList spans = storage->Take();
  ASSERT_EQ(spans.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(TypedAttributes(*spans[static_cast<size_t>(i)]),
              (std::vector<std::string>{"model=4:gpt-4o", "n=1:" + std::to_string(i),
                                        "code.filepath=4:" + std::string(__FILE__)}));
    EXPECT_EQ(spans[static_cast<size_t>(i)]->dropped_attributes_count(), 2u);
  }
  provider->Shutdown();
}

// Fields that get no prepared layout (an empty value, more than it holds with the location) are
// exact on every span; a callsite whose fields change to a shape that has one gets it, and back.
TEST_F(OtelLayerTest, EverySpanOfACallsiteWithoutAPreparedLayoutIsExact) {
  InstallSeedLayers(OtelLayerOptions{.with_location = true});
  uint32_t five_line = 0;
  uint32_t six_line = 0;
  const auto five = [&](Value optional, int64_t i) {
    // clang-format off
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "five", {"a", "x"}, {"b", optional}, {"c", i}, {"d", true}, {"e", "y"}); five_line = __LINE__;
    // clang-format on
  };
  const auto six = [&](int64_t i) {
    // clang-format off
    Span span = VLLORA_INFO_SPAN("app::runtime::execution", "six", {"a", "x"}, {"b", "z"}, {"c", i}, {"d", true}, {"e", "y"}, {"f", int64_t{6}}); six_line = __LINE__;
    // clang-format on
  };
  const std::vector<Value> optionals = {Value(),       Value(), Value("some"),
                                        Value("more"), Value(), Value("last")};
  for (size_t i = 0; i < optionals.size(); ++i) {
    five(optionals[i], static_cast<int64_t>(i));
    six(static_cast<int64_t>(i));
  }
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 2 * optionals.size());
  const auto located = [](std::vector<std::string> attributes, uint32_t line) {
    attributes.push_back("code.filepath=4:" + std::string(__FILE__));
    attributes.push_back("code.lineno=1:" + std::to_string(line));
    attributes.push_back("code.namespace=4:app::runtime::execution");
    return attributes;
  };
  for (size_t i = 0; i < optionals.size(); ++i) {
    SCOPED_TRACE(i);
    const std::string c = "c=1:" + std::to_string(i);
    std::vector<std::string> five_attributes = {"a=4:x"};
    if (optionals[i].type() != Value::Type::kNone) {
      five_attributes.push_back("b=4:" + std::string(optionals[i].str()));
    }
    five_attributes.insert(five_attributes.end(), {c, "d=0:true", "e=4:y"});
    EXPECT_EQ(spans[2 * i]->name, "five");
    EXPECT_EQ(TypedAttributes(*spans[2 * i]), located(five_attributes, five_line));
    EXPECT_EQ(spans[2 * i + 1]->name, "six");
    EXPECT_EQ(TypedAttributes(*spans[2 * i + 1]),
              located({"a=4:x", "b=4:z", c, "d=0:true", "e=4:y", "f=1:6"}, six_line));
  }
}

// Emits one span from a callsite whose file path is longer than a prepared layout holds (at the
// end of this file, under #line); returns the path.
std::string_view EmitFromALongPath(int64_t i);

// A file path too long to be a constant of the prepared layout: the callsite gets no prepared
// layout, and every span still carries the code.* attributes, exact.
TEST_F(OtelLayerTest, EverySpanOfACallsiteWithAVeryLongPathCarriesItsLocation) {
  InstallSeedLayers(OtelLayerOptions{.with_location = true});
  std::string_view path;
  for (int64_t i = 0; i < 3; ++i) path = EmitFromALongPath(i);
  ASSERT_GT(path.size(), otel::Attributes::Layout::kMaxBytes);
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(TypedAttributes(*spans[static_cast<size_t>(i)]),
              (std::vector<std::string>{"n=1:" + std::to_string(i),
                                        "code.filepath=4:" + std::string(path), "code.lineno=1:7",
                                        "code.namespace=4:app::runtime::execution"}));
  }
}

TEST_F(OtelLayerTest, ThreadsEmittingFromOneCallsiteKeepTheirOwnValues) {
  InstallSeedLayers();
  constexpr int kThreads = 2;
  constexpr int64_t kSpans = 200;
  const auto run = [](int64_t thread) {
    const std::string tag = "thread-" + std::to_string(thread);
    for (int64_t i = 0; i < kSpans; ++i) {
      Span span = VLLORA_INFO_SPAN("app::runtime::execution", "shared", {"tag", tag}, {"i", i},
                                   {"t", thread});
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(run, t);
  for (auto& thread : threads) thread.join();
  SpanList spans = Take();
  ASSERT_EQ(spans.size(), static_cast<size_t>(kThreads * kSpans));
  std::vector<std::vector<bool>> seen(kThreads, std::vector<bool>(kSpans, false));
  for (const auto& span : spans) {
    ASSERT_THAT(AttributeKeys(span->attributes), ElementsAre("tag", "i", "t"));
    const auto thread = std::get<int64_t>(*Attr(*span, "t"));
    const auto i = std::get<int64_t>(*Attr(*span, "i"));
    ASSERT_TRUE(thread >= 0 && thread < kThreads && i >= 0 && i < kSpans);
    EXPECT_EQ(Attr(*span, "tag"), Str("thread-" + std::to_string(thread)));
    EXPECT_FALSE(seen[static_cast<size_t>(thread)][static_cast<size_t>(i)]);
    seen[static_cast<size_t>(thread)][static_cast<size_t>(i)] = true;
  }
}

TEST_F(OtelLayerTest, SpanIsExportedOnlyWhenItsLastHandleIsGone) {
  InstallSeedLayers();
  Span first = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
  Span copy = first;
  Span child = VLLORA_SPAN_CHILD_OF(first, Level::kInfo, "vllora::user_tracing::task", "task");
  first = Span();
  EXPECT_EQ(storage_->Size(), 0u);
  copy = Span();
  EXPECT_EQ(storage_->Size(), 0u);  // the child keeps its parent open
  child = Span();
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("task", "run"));
  EXPECT_EQ(spans[0]->parent_span_id, spans[1]->span_id);
}

TEST_F(OtelLayerTest, OnlyTheFirstMatchingOtelLayerBridgesASpan) {
  // Overlapping prefixes: both layers see vllora::user_tracing::run; it is exported once.
  auto registry = Registry::Create();
  registry->With(OtelLayer("vllora", LevelFilter::kInfo, tracer_))
      .With(OtelLayer("vllora::user_tracing", LevelFilter::kInfo, tracer_));
  SetGlobalSubscriber(registry);
  {
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
    run.Record("recorded", int64_t{1});
  }
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("run"));
  EXPECT_EQ(Attr(*spans[0], "recorded"), AttributeValue(int64_t{1}));
}

TEST_F(OtelLayerTest, EventSeenByTwoOtelLayersIsAddedOnce) {
  auto registry = Registry::Create();
  registry->With(OtelLayer("vllora", LevelFilter::kInfo, tracer_))
      .With(OtelLayer("vllora::user_tracing", LevelFilter::kInfo, tracer_));
  SetGlobalSubscriber(registry);
  {
    Span run = VLLORA_INFO_SPAN("vllora::user_tracing::run", "run");
    auto entered = run.Enter();
    VLLORA_EVENT(Level::kInfo, "vllora::user_tracing::run", "seen by both layers");
  }
  SpanList spans = Take();
  ASSERT_THAT(Names(spans), ElementsAre("run"));
  EXPECT_EQ(spans[0]->events.size(), 1u);
}

// Last in this file: __FILE__ stays the long path from here on.
#line 1 "/a-directory-name-of-forty-bytes-012345678/a-directory-name-of-forty-bytes-012345678/a-directory-name-of-forty-bytes-012345678/a-directory-name-of-forty-bytes-012345678/a-directory-name-of-forty-bytes-012345678/a-directory-name-of-forty-bytes-012345678/a-directory-name-of-forty-bytes-012345678/a-directory-name-of-forty-bytes-012345678/a-directory-name-of-forty-bytes-012345678/long.cc"
//
//
//
//
//
std::string_view EmitFromALongPath(int64_t i) {
  Span span = VLLORA_INFO_SPAN("app::runtime::execution", "long", {"n", i});  // line 7
  return __FILE__;
}

}  // namespace
}  // namespace vllora
