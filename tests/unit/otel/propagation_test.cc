#include "vllora/otel/propagation.h"

#include <gtest/gtest.h>

namespace vllora::otel {
namespace {

constexpr const char* kTraceHex = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kSpanHex = "00f067aa0ba902b7";

Context ExtractTraceParent(std::string_view traceparent) {
  MapCarrier carrier;
  carrier.Set("traceparent", traceparent);
  return MakeTraceContextPropagator()->Extract(carrier, Context());
}

TEST(TraceContextPropagatorTest, ExtractValid) {
  MapCarrier carrier{{"Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                     {"tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"}};
  Context context = MakeTraceContextPropagator()->Extract(carrier, Context());
  const SpanContext& span = context.span_context();
  ASSERT_TRUE(span.IsValid());
  EXPECT_EQ(span.trace_id().ToHex(), kTraceHex);
  EXPECT_EQ(span.span_id().ToHex(), kSpanHex);
  EXPECT_TRUE(span.IsSampled());
  EXPECT_TRUE(span.IsRemote());
  EXPECT_EQ(span.trace_state(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
}

TEST(TraceContextPropagatorTest, InjectExtractRoundTrip) {
  SpanContext original(*TraceId::FromHex(kTraceHex), *SpanId::FromHex(kSpanHex), 0, false,
                       "vendor=value");
  MapCarrier carrier;
  auto propagator = MakeTraceContextPropagator();
  propagator->Inject(Context().WithSpanContext(original), carrier);
  EXPECT_EQ(carrier.Get("traceparent"), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  EXPECT_EQ(carrier.Get("tracestate"), "vendor=value");
  SpanContext back = propagator->Extract(carrier, Context()).span_context();
  EXPECT_EQ(back.trace_id(), original.trace_id());
  EXPECT_EQ(back.span_id(), original.span_id());
  EXPECT_FALSE(back.IsSampled());
  EXPECT_TRUE(back.IsRemote());
  EXPECT_EQ(back.trace_state(), "vendor=value");
}

TEST(TraceContextPropagatorTest, InjectNothingForInvalid) {
  MapCarrier carrier;
  MakeTraceContextPropagator()->Inject(Context(), carrier);
  EXPECT_TRUE(carrier.headers().empty());
}

TEST(TraceContextPropagatorTest, MalformedIgnored) {
  const char* bad[] = {
      "",
      "garbage",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",          // short
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",        // v00 too long
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",         // dash misplaced
      "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",         // bad hex
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",         // upper case
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // version ff
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",         // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",         // zero span id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",         // bad flags
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",        // future version, no dash
      "\x01\x02\xff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  // binary garbage
  };
  for (const char* value : bad) {
    EXPECT_FALSE(ExtractTraceParent(value).span_context().IsValid()) << value;
  }
}

TEST(TraceContextPropagatorTest, FutureVersionAccepted) {
  Context context =
      ExtractTraceParent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future");
  EXPECT_TRUE(context.span_context().IsValid());
}

TEST(TraceContextPropagatorTest, MalformedKeepsIntoContext) {
  Context into = Context().WithBaggage({{"k", "v"}});
  MapCarrier carrier{{"traceparent", "nonsense"}};
  Context out = MakeTraceContextPropagator()->Extract(carrier, into);
  EXPECT_EQ(out, into);
}

TEST(TraceContextPropagatorTest, InvalidTraceStateDroppedButParentKept) {
  MapCarrier carrier{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                     {"tracestate", "UPPER=bad,=x"}};
  Context context = MakeTraceContextPropagator()->Extract(carrier, Context());
  EXPECT_TRUE(context.span_context().IsValid());
  EXPECT_EQ(context.span_context().trace_state(), "");
}

TEST(BaggagePropagatorTest, ExtractWithPercentEncodingAndMalformedEntries) {
  MapCarrier carrier{{"baggage",
                      "userId=alice, serverNode = DF%2028,isProduction=false;prop=1,bad,=novalue,"
                      "k%=v,key=bad%zz,trailing=ok"}};
  Context context = MakeBaggagePropagator()->Extract(carrier, Context());
  const Baggage& baggage = context.baggage();
  EXPECT_EQ(*baggage.Get("userId"), "alice");
  EXPECT_EQ(*baggage.Get("serverNode"), "DF 28");
  EXPECT_EQ(*baggage.Get("isProduction"), "false");
  EXPECT_EQ(*baggage.Get("trailing"), "ok");
  EXPECT_FALSE(baggage.Get("bad").has_value());
  EXPECT_FALSE(baggage.Get("key").has_value());
  EXPECT_EQ(baggage.size(), 5U);  // userId, serverNode, isProduction, k%, trailing
}

TEST(BaggagePropagatorTest, InjectEncodesAndRoundTrips) {
  Context context = Context().WithBaggage({{"user", "a b,c;d=é"}, {"plain", "x"}});
  MapCarrier carrier;
  auto propagator = MakeBaggagePropagator();
  propagator->Inject(context, carrier);
  EXPECT_EQ(carrier.Get("baggage"), "user=a%20b%2Cc%3Bd%3D%C3%A9,plain=x");
  Context back = propagator->Extract(carrier, Context());
  EXPECT_EQ(back.baggage(), context.baggage());
}

TEST(BaggagePropagatorTest, MergesIntoExisting) {
  Context into = Context().WithBaggage({{"a", "1"}, {"b", "2"}});
  MapCarrier carrier{{"baggage", "b=3,c=4"}};
  Baggage baggage = MakeBaggagePropagator()->Extract(carrier, into).baggage();
  EXPECT_EQ(*baggage.Get("a"), "1");
  EXPECT_EQ(*baggage.Get("b"), "3");
  EXPECT_EQ(*baggage.Get("c"), "4");
}

TEST(CompositePropagatorTest, InjectsAndExtractsBoth) {
  std::vector<std::unique_ptr<TextMapPropagator>> list;
  list.push_back(MakeTraceContextPropagator());
  list.push_back(MakeBaggagePropagator());
  auto composite = MakeCompositePropagator(std::move(list));
  SpanContext span(*TraceId::FromHex(kTraceHex), *SpanId::FromHex(kSpanHex), 1, false);
  Context context = Context().WithSpanContext(span).WithBaggage({{"k", "v"}});
  MapCarrier carrier;
  composite->Inject(context, carrier);
  EXPECT_FALSE(carrier.Get("traceparent").empty());
  EXPECT_EQ(carrier.Get("baggage"), "k=v");
  Context back = composite->Extract(carrier, Context());
  EXPECT_EQ(back.span_context().span_id(), span.span_id());
  EXPECT_EQ(*back.baggage().Get("k"), "v");
}

TEST(PercentCodingTest, DecodeRejectsBadEscapes) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%41%62", out));
  EXPECT_EQ(out, "aAb");
  EXPECT_FALSE(PercentDecode("%", out));
  EXPECT_FALSE(PercentDecode("%4", out));
  EXPECT_FALSE(PercentDecode("%G1", out));
}

}  // namespace
}  // namespace vllora::otel
