#include "collector/otlp_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace vllora::collector::internal {
namespace {

using ::testing::HasSubstr;

// DecodeOtlpJson with the collector's default value limit; true when decoded.
bool Decode(std::string_view body, ExportRequest* request, std::string* error) {
  return DecodeOtlpJson(body, size_t{1} << 20, request, error) == JsonDecode::kOk;
}

constexpr const char* kGood = R"({
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
    "scopeSpans": [{
      "scope": {"name": "lib", "version": "1.0"},
      "spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "eee19b7ec3c1b173",
        "name": "chat_completion",
        "kind": 3,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": 1544712661000000000,
        "attributes": [
          {"key": "i", "value": {"intValue": "-5"}},
          {"key": "j", "value": {"intValue": 6}},
          {"key": "d", "value": {"doubleValue": "-Infinity"}},
          {"key": "b", "value": {"bytesValue": "AQID"}},
          {"key": "a", "value": {"arrayValue": {"values": [{"boolValue": true}]}}},
          {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "x", "value": {"stringValue": "y"}}]}}}
        ],
        "events": [{"timeUnixNano": "1544712660500000000", "name": "ev"}],
        "status": {"code": 2, "message": "boom"},
        "someFutureField": {"ignored": [1, 2, 3]}
      }, {
        "trace_id": "5b8efff798038103d269b633813fc60c",
        "span_id": "eee19b7ec3c1b175",
        "name": "snake",
        "kind": "SPAN_KIND_SERVER"
      }]
    }]
  }]
})";

TEST(CollectorOtlpJson, DecodesEveryField) {
  ExportRequest request;
  std::string error;
  ASSERT_TRUE(Decode(kGood, &request, &error)) << error;
  ASSERT_EQ(CountSpans(request), 2u);
  const auto& scope = request.resource_spans(0).scope_spans(0);
  EXPECT_EQ(scope.scope().name(), "lib");
  EXPECT_EQ(scope.scope().version(), "1.0");
  const auto& span = scope.spans(0);
  EXPECT_EQ(TraceIdToUuid(span.trace_id()), "5b8efff7-9803-8103-d269-b633813fc60c");
  EXPECT_EQ(SpanIdToDecimal(span.span_id()), "17213210219539181940");
  EXPECT_EQ(SpanIdToDecimal(span.parent_span_id()), "17213210219539181939");
  EXPECT_EQ(span.name(), "chat_completion");
  EXPECT_EQ(span.kind(), 3);
  EXPECT_EQ(span.start_time_unix_nano(), 1544712660000000000ULL);
  EXPECT_EQ(span.end_time_unix_nano(), 1544712661000000000ULL);
  ASSERT_EQ(span.attributes_size(), 6);
  EXPECT_EQ(span.attributes(0).value().int_value(), -5);
  EXPECT_EQ(span.attributes(1).value().int_value(), 6);
  EXPECT_TRUE(std::isinf(span.attributes(2).value().double_value()));
  EXPECT_EQ(span.attributes(3).value().bytes_value(), std::string("\x01\x02\x03"));
  EXPECT_TRUE(span.attributes(4).value().array_value().values(0).bool_value());
  EXPECT_EQ(span.attributes(5).value().kvlist_value().values(0).value().string_value(), "y");
  EXPECT_EQ(span.events(0).time_unix_nano(), 1544712660500000000ULL);
  EXPECT_EQ(span.status().code(), 2);
  EXPECT_EQ(span.status().message(), "boom");
  EXPECT_EQ(scope.spans(1).name(), "snake");
  EXPECT_EQ(scope.spans(1).kind(), 2);
  EXPECT_EQ(SpanIdToDecimal(scope.spans(1).span_id()), "17213210219539181941");

  const MappedRequest mapped = MapExportRequest(request, "");
  ASSERT_EQ(mapped.rows.size(), 2u);
  EXPECT_EQ(mapped.rows[0].attribute,
            R"({"i":-5,"j":6,"d":"-Infinity","b":"AQID","a":[true],"kv":{"x":"y"}})");
}

TEST(CollectorOtlpJson, InvalidJsonIsRefused) {
  ExportRequest request;
  std::string error;
  EXPECT_FALSE(Decode(R"({"resourceSpans": [)", &request, &error));
  EXPECT_THAT(error, HasSubstr("invalid JSON"));
  EXPECT_FALSE(Decode("", &request, &error));
  EXPECT_FALSE(Decode("[]", &request, &error));
  EXPECT_EQ(error, "$: must be an object");
}

TEST(CollectorOtlpJson, WrongTypesNameThePath) {
  ExportRequest request;
  std::string error;
  EXPECT_FALSE(Decode(R"({"resourceSpans": 5})", &request, &error));
  EXPECT_EQ(error, "resourceSpans: must be an array");
  EXPECT_FALSE(Decode(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz0"}]}]}]})",
                      &request, &error));
  EXPECT_EQ(error, "resourceSpans[0].scopeSpans[0].spans[0].traceId: not a hex string");
  EXPECT_FALSE(
      Decode(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"12x"}]}]}]})",
             &request, &error));
  EXPECT_EQ(error,
            "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: must be an integer "
            "(number or decimal string)");
  EXPECT_FALSE(
      Decode(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":-1}]}]}]})",
             &request, &error));
  EXPECT_EQ(error, "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: out of range");
  EXPECT_EQ(CountSpans(request), 0u);
}

TEST(CollectorOtlpJson, WrongLengthHexIdsAreRejectedPerSpan) {
  ExportRequest request;
  std::string error;
  ASSERT_TRUE(Decode(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103d269b633813fc6","spanId":"eee19b7ec3c1b174"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]})",
      &request, &error))
      << error;
  const MappedRequest mapped = MapExportRequest(request, "");
  EXPECT_EQ(mapped.rows.size(), 1u);
  EXPECT_EQ(mapped.rejected_spans, 2);
  EXPECT_EQ(mapped.error_message,
            "2 spans rejected: span 0: trace_id must be 16 bytes (got 15); span 1: span_id must "
            "be 8 bytes (got 6)");
}

TEST(CollectorOtlpJson, InvalidUtf8BytesAreRepaired) {
  ExportRequest request;
  std::string error;
  ASSERT_TRUE(
      Decode("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"a\xff"
             "b\"}]}]}]}",
             &request, &error))
      << error;
  EXPECT_EQ(request.resource_spans(0).scope_spans(0).spans(0).name(),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(CollectorOtlpJson, DeepNestingIsRefused) {
  std::string deep =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":)";
  for (int i = 0; i < 300; ++i) deep += R"({"arrayValue":{"values":[)";
  ExportRequest request;
  std::string error;
  EXPECT_FALSE(Decode(deep, &request, &error));
}

// A small body can hold many JSON values (`{},{},...`), and the parsed tree and messages take up
// to ~175 bytes per value: the values are counted first and beyond the limit nothing is parsed.
TEST(CollectorOtlpJson, MoreValuesThanTheLimitAreRefusedBeforeParsing) {
  std::string spans;
  for (int i = 0; i < 100; ++i) spans += i == 0 ? "{}" : ",{}";
  const std::string body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[)" + spans + "]}]}]}";
  // Counted: the envelope's 3 `{` and 3 `[`, then 100 `{` and 99 `,`; a `,` in a string is not.
  ExportRequest request;
  std::string error;
  EXPECT_EQ(DecodeOtlpJson(body, 205, &request, &error), JsonDecode::kOk) << error;
  EXPECT_EQ(CountSpans(request), 100u);
  EXPECT_EQ(DecodeOtlpJson(body, 204, &request, &error), JsonDecode::kTooLarge);
  EXPECT_EQ(error,
            "OTLP/JSON request with more than 204 JSON values (send smaller batches, or use "
            "protobuf)");
  EXPECT_EQ(CountSpans(request), 0u);
  const std::string commas_in_a_string =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":",,,,,,,,"}]}]}]})";
  EXPECT_EQ(DecodeOtlpJson(commas_in_a_string, 7, &request, &error), JsonDecode::kOk) << error;
  EXPECT_EQ(request.resource_spans(0).scope_spans(0).spans(0).name(), ",,,,,,,,");
}

}  // namespace
}  // namespace vllora::collector::internal
