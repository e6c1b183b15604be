// GatewayHeaders(): the headers a request to the vLLora gateway carries, from the current span
// (bridged by an OTel layer), the attached baggage and the options.
#include "vllora/telemetry/gateway_headers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "vllora/core/core.h"
#include "vllora/otel/otel.h"
#include "vllora/otel_layer/otel_layer.h"
#include "vllora/subscriber/registry.h"
#include "vllora/telemetry/helpers.h"

namespace vllora::telemetry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kRemoteTraceParent =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string TraceParentOf(const otel::SpanContext& context) {
  return "00-" + context.trace_id().ToHex() + "-" + context.span_id().ToHex() + "-01";
}

/// Parses a traceparent back into a span context with the SDK's own propagator.
otel::SpanContext ParseTraceParent(const std::string& traceparent) {
  otel::MapCarrier carrier{{"traceparent", traceparent}};
  return otel::MakeTraceContextPropagator()->Extract(carrier, otel::Context()).span_context();
}

otel::Context FullBaggage() {
  return otel::Context().WithBaggage({{kRunIdKey, "run-1"},
                                      {kThreadIdKey, "thread-1"},
                                      {kLabelKey, "support-bot"},
                                      {kTenantKey, "tenant-1"},
                                      {kProjectIdKey, "project-1"}});
}

class GatewayHeadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_ = otel::TracerProvider::builder()
                    .WithSimpleExporter(std::make_unique<otel::InMemorySpanExporter>())
                    .WithResource(otel::Resource::Empty())
                    .Build();
    auto registry = Registry::Create();
    registry->With(OtelLayer(kTargetPrefix, LevelFilter::kInfo, provider_->GetTracer("test")))
        .With(std::make_shared<Layer>());  // keeps non-bridged spans alive in the registry
    SetGlobalSubscriber(registry);
  }
  void TearDown() override {
    SetGlobalSubscriber(nullptr);
    provider_->Shutdown();
  }

  std::shared_ptr<otel::TracerProvider> provider_;
};

TEST_F(GatewayHeadersTest, NothingCurrentMeansNoHeaders) {
  EXPECT_THAT(GatewayHeaders(), IsEmpty());
  EXPECT_THAT(GatewayHeaders({.thread_title = "", .tags = Tags()}), IsEmpty());
}

TEST_F(GatewayHeadersTest, OptionsAloneGiveTitleAndTags) {
  EXPECT_THAT(GatewayHeaders(
                  {.thread_title = "Weather chat", .tags = Tags{{"user", "u1"}, {"env", "dev"}}}),
              ElementsAre(Pair("X-Thread-Title", "Weather chat"),
                          Pair("x-tags", R"({"env":"dev","user":"u1"})")));
}

TEST_F(GatewayHeadersTest, SpanAndBaggageGiveEveryHeaderInOrder) {
  otel::Context::Token token = FullBaggage().Attach();
  Span run = VLLORA_CREATE_RUN_SPAN();
  auto entered = run.Enter();
  otel::SpanContext run_context = OtelSpanContext(run);
  ASSERT_TRUE(run_context.IsValid());
  Headers headers = GatewayHeaders({.thread_title = "Chat", .tags = Tags{{"k", "v"}}});
  // The tenant is baggage the gateway does not read as a header.
  EXPECT_THAT(headers,
              ElementsAre(Pair("traceparent", TraceParentOf(run_context)),
                          Pair("X-Run-Id", "run-1"), Pair("X-Thread-Id", "thread-1"),
                          Pair("x-label", "support-bot"), Pair("X-Thread-Title", "Chat"),
                          Pair("x-tags", R"({"k":"v"})"), Pair("X-Project-Id", "project-1")));
  ASSERT_FALSE(headers.empty());
  otel::SpanContext parsed = ParseTraceParent(headers[0].second);
  EXPECT_EQ(parsed.trace_id(), run_context.trace_id());
  EXPECT_EQ(parsed.span_id(), run_context.span_id());
  EXPECT_EQ(parsed.trace_flags(), run_context.trace_flags());
}

TEST_F(GatewayHeadersTest, SpanWithoutBaggageGivesOnlyTheTraceParent) {
  Span run = CreateRunSpan();
  auto entered = run.Enter();
  Span model = CreateModelInvokeSpan("in", "m", "openai", "gpt-4", "gpt-4", "own");
  auto entered_model = model.Enter();
  Headers headers = GatewayHeaders();
  ASSERT_THAT(headers, ElementsAre(Pair("traceparent", TraceParentOf(OtelSpanContext(model)))));
  otel::SpanContext parsed = ParseTraceParent(headers[0].second);
  EXPECT_EQ(parsed.trace_id(), OtelSpanContext(run).trace_id());
  EXPECT_EQ(parsed.span_id(), OtelSpanContext(model).span_id());
}

TEST_F(GatewayHeadersTest, NonBridgedCurrentSpanUsesTheNearestBridgedAncestor) {
  Span run = CreateRunSpan();
  auto entered = run.Enter();
  Span app = VLLORA_INFO_SPAN("app::handler", "handler");  // not an OTel span
  auto entered_app = app.Enter();
  ASSERT_FALSE(app.IsDisabled());
  EXPECT_FALSE(OtelSpanContext(app).IsValid());
  EXPECT_THAT(GatewayHeaders(),
              ElementsAre(Pair("traceparent", TraceParentOf(OtelSpanContext(run)))));
}

TEST_F(GatewayHeadersTest, BaggageWithoutSpanGivesTheIdHeaders) {
  otel::Context::Token token =
      otel::Context().WithBaggage({{kRunIdKey, "run-9"}, {kThreadIdKey, "thread-9"}}).Attach();
  EXPECT_THAT(GatewayHeaders(),
              ElementsAre(Pair("X-Run-Id", "run-9"), Pair("X-Thread-Id", "thread-9")));
}

TEST_F(GatewayHeadersTest, EmptyBaggageValuesAreNotSent) {
  otel::Context::Token token =
      otel::Context().WithBaggage({{kRunIdKey, ""}, {kLabelKey, "l"}}).Attach();
  EXPECT_THAT(GatewayHeaders(), ElementsAre(Pair("x-label", "l")));
}

TEST_F(GatewayHeadersTest, RemoteParentWithoutAFacadeSpanIsPassedOn) {
  otel::MapCarrier carrier{{"traceparent", kRemoteTraceParent}, {"tracestate", "vendor=1"}};
  otel::Context remote = otel::MakeTraceContextPropagator()->Extract(carrier, otel::Context());
  otel::Context::Token token = remote.Attach();
  EXPECT_THAT(GatewayHeaders(),
              ElementsAre(Pair("traceparent", kRemoteTraceParent), Pair("tracestate", "vendor=1")));
  Span run = CreateRunSpan();
  auto entered = run.Enter();
  Headers headers = GatewayHeaders();
  ASSERT_FALSE(headers.empty());
  EXPECT_THAT(headers[0], Pair("traceparent", TraceParentOf(OtelSpanContext(run))));
  EXPECT_EQ(ParseTraceParent(headers[0].second).trace_id().ToHex(),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  // W3C: a child span carries its parent's tracestate on.
  EXPECT_THAT(headers, ElementsAre(Pair("traceparent", TraceParentOf(OtelSpanContext(run))),
                                   Pair("tracestate", "vendor=1")));
}

TEST_F(GatewayHeadersTest, HeadersFollowTheCurrentSpanAcrossBind) {
  otel::Context::Token token = FullBaggage().Attach();
  Span run = CreateRunSpan();
  std::function<Headers()> later;
  {
    auto entered = run.Enter();
    later = Bind([] { return GatewayHeaders(); });
  }
  Headers headers;
  std::thread([&] { headers = later(); }).join();
  ASSERT_GE(headers.size(), 2u);
  EXPECT_THAT(headers[0], Pair("traceparent", TraceParentOf(OtelSpanContext(run))));
  EXPECT_THAT(headers[1], Pair("X-Run-Id", "run-1"));
}

}  // namespace
}  // namespace vllora::telemetry
