// Encodes hand-built SpanData with EncodeOtlpProtobuf / EncodeOtlpJson, decodes the result
// (generated protobuf parser, nlohmann::json) and checks every field.
#include "vllora/otlp/otlp_encoding.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/otlp_recordable.h"
#include "support/otlp_span_fixtures.h"

namespace vllora::otlp {
namespace {

namespace pb_collector = ::opentelemetry::proto::collector::trace::v1;
namespace pb_common = ::opentelemetry::proto::common::v1;
namespace pb_trace = ::opentelemetry::proto::trace::v1;
using testing::FixtureResource;
using testing::FixtureScope;
using testing::FixtureSpanId;
using testing::FixtureTraceId;
using testing::MakeRichSpan;
using testing::MakeSimpleSpan;

template <size_t N>
std::string Bytes(const std::array<uint8_t, N>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

pb_collector::ExportTraceServiceRequest DecodeProtobuf(
    const std::vector<std::unique_ptr<otel::SpanData>>& batch) {
  const std::string wire = EncodeOtlpProtobuf(batch);
  pb_collector::ExportTraceServiceRequest request;
  EXPECT_TRUE(request.ParseFromString(wire));
  return request;
}

const pb_common::AnyValue* FindAttribute(
    const google::protobuf::RepeatedPtrField<pb_common::KeyValue>& attributes,
    std::string_view key) {
  for (const auto& kv : attributes) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

std::vector<std::unique_ptr<otel::SpanData>> OneRichSpan() {
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(MakeRichSpan());
  return batch;
}

TEST(OtlpProtobufEncoding, EmptyBatchIsAnEmptyRequest) {
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(nullptr);
  EXPECT_EQ(DecodeProtobuf(batch).resource_spans_size(), 0);
}

TEST(OtlpProtobufEncoding, SpanFieldsRoundTrip) {
  const auto request = DecodeProtobuf(OneRichSpan());
  ASSERT_EQ(request.resource_spans_size(), 1);
  const pb_trace::ResourceSpans& rs = request.resource_spans(0);
  ASSERT_EQ(rs.scope_spans_size(), 1);
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 1);
  const pb_trace::Span& span = rs.scope_spans(0).spans(0);

  EXPECT_EQ(span.trace_id(), Bytes(FixtureTraceId(1).bytes));
  EXPECT_EQ(span.span_id(), Bytes(FixtureSpanId(1).bytes));
  EXPECT_EQ(span.parent_span_id(), Bytes(FixtureSpanId(2).bytes));
  EXPECT_EQ(span.trace_state(), "vendor=abc,other=1");
  // sampled | is-remote known | parent is remote
  EXPECT_EQ(span.flags(), 0x301u);
  EXPECT_EQ(span.name(), "chat gpt-4o");
  EXPECT_EQ(span.kind(), pb_trace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(span.start_time_unix_nano(), 1700000000123456789ULL);
  EXPECT_EQ(span.end_time_unix_nano(), 1700000001987654321ULL);
  EXPECT_EQ(span.dropped_attributes_count(), 0u);
  EXPECT_EQ(span.dropped_events_count(), 3u);
  EXPECT_EQ(span.dropped_links_count(), 4u);
  ASSERT_TRUE(span.has_status());
  EXPECT_EQ(span.status().code(), pb_trace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(span.status().message(), "upstream failed");
}

TEST(OtlpProtobufEncoding, AttributesKeepOrderAndType) {
  const auto request = DecodeProtobuf(OneRichSpan());
  const auto& attributes = request.resource_spans(0).scope_spans(0).spans(0).attributes();
  std::vector<std::string> keys;
  for (const auto& kv : attributes) keys.push_back(kv.key());
  EXPECT_THAT(keys,
              ::testing::ElementsAre("str", "str.unicode", "str.escape", "str.empty", "bool.true",
                                     "int.neg", "int.max", "uint.small", "uint.big", "double"));

  EXPECT_EQ(FindAttribute(attributes, "str")->string_value(), "hello");
  EXPECT_EQ(FindAttribute(attributes, "str.unicode")->string_value(), "h\xC3\xA9llo \xE2\x9C\x93");
  EXPECT_EQ(FindAttribute(attributes, "str.escape")->string_value(),
            "quote\" backslash\\ nl\n tab\t");
  ASSERT_EQ(FindAttribute(attributes, "str.empty")->value_case(),
            pb_common::AnyValue::kStringValue);
  EXPECT_EQ(FindAttribute(attributes, "str.empty")->string_value(), "");
  ASSERT_EQ(FindAttribute(attributes, "bool.true")->value_case(), pb_common::AnyValue::kBoolValue);
  EXPECT_TRUE(FindAttribute(attributes, "bool.true")->bool_value());
  EXPECT_EQ(FindAttribute(attributes, "int.neg")->int_value(), -42);
  EXPECT_EQ(FindAttribute(attributes, "int.max")->int_value(), std::numeric_limits<int64_t>::max());
  ASSERT_EQ(FindAttribute(attributes, "uint.small")->value_case(), pb_common::AnyValue::kIntValue);
  EXPECT_EQ(FindAttribute(attributes, "uint.small")->int_value(), 7);
  ASSERT_EQ(FindAttribute(attributes, "uint.big")->value_case(), pb_common::AnyValue::kStringValue);
  EXPECT_EQ(FindAttribute(attributes, "uint.big")->string_value(), "18446744073709551615");
  ASSERT_EQ(FindAttribute(attributes, "double")->value_case(), pb_common::AnyValue::kDoubleValue);
  EXPECT_EQ(FindAttribute(attributes, "double")->double_value(), 0.1);
}

TEST(OtlpProtobufEncoding, EventsAndLinks) {
  const auto request = DecodeProtobuf(OneRichSpan());
  const pb_trace::Span& span = request.resource_spans(0).scope_spans(0).spans(0);
  ASSERT_EQ(span.events_size(), 2);
  EXPECT_EQ(span.events(0).name(), "first");
  EXPECT_EQ(span.events(0).time_unix_nano(), 1700000000500000000ULL);
  ASSERT_EQ(span.events(0).attributes_size(), 2);
  EXPECT_EQ(span.events(0).attributes(0).key(), "event.n");
  EXPECT_EQ(span.events(0).attributes(0).value().int_value(), 1);
  EXPECT_EQ(span.events(0).attributes(1).key(), "event.flag");
  EXPECT_EQ(span.events(0).attributes(1).value().value_case(), pb_common::AnyValue::kBoolValue);
  EXPECT_FALSE(span.events(0).attributes(1).value().bool_value());
  EXPECT_EQ(span.events(1).name(), "second");
  EXPECT_EQ(span.events(1).time_unix_nano(), 1700000000600000000ULL);
  EXPECT_EQ(span.events(1).attributes_size(), 0);

  ASSERT_EQ(span.links_size(), 2);
  EXPECT_EQ(span.links(0).trace_id(), Bytes(FixtureTraceId(2).bytes));
  EXPECT_EQ(span.links(0).span_id(), Bytes(FixtureSpanId(3).bytes));
  EXPECT_EQ(span.links(0).trace_state(), "k=v");
  EXPECT_EQ(span.links(0).flags(), 0x301u);
  ASSERT_EQ(span.links(0).attributes_size(), 1);
  EXPECT_EQ(span.links(0).attributes(0).value().string_value(), "follows");
  EXPECT_EQ(span.links(1).trace_id(), Bytes(FixtureTraceId(1).bytes));
  EXPECT_EQ(span.links(1).span_id(), Bytes(FixtureSpanId(4).bytes));
  EXPECT_EQ(span.links(1).flags(), 0x100u);
  EXPECT_EQ(span.links(1).trace_state(), "");
}

TEST(OtlpProtobufEncoding, ResourceAndScope) {
  const auto request = DecodeProtobuf(OneRichSpan());
  const pb_trace::ResourceSpans& rs = request.resource_spans(0);
  EXPECT_EQ(rs.schema_url(), "https://opentelemetry.io/schemas/1.24.0");
  ASSERT_EQ(rs.resource().attributes_size(), 2);
  EXPECT_EQ(rs.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "svc");
  EXPECT_EQ(rs.resource().attributes(1).key(), "host.cores");
  EXPECT_EQ(rs.resource().attributes(1).value().int_value(), 8);
  const pb_trace::ScopeSpans& ss = rs.scope_spans(0);
  EXPECT_EQ(ss.scope().name(), "my.lib");
  EXPECT_EQ(ss.scope().version(), "1.2.3");
  EXPECT_EQ(ss.schema_url(), "https://opentelemetry.io/schemas/1.21.0");
}

TEST(OtlpProtobufEncoding, RootSpanWithUnsetStatus) {
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(MakeSimpleSpan(1));
  const auto request = DecodeProtobuf(batch);
  const pb_trace::Span& span = request.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_TRUE(span.parent_span_id().empty());
  EXPECT_FALSE(span.has_status());
  EXPECT_EQ(span.flags(), 0x101u);
  EXPECT_EQ(span.kind(), pb_trace::Span::SPAN_KIND_INTERNAL);
  EXPECT_EQ(span.start_time_unix_nano(), 1001u);
  EXPECT_EQ(span.end_time_unix_nano(), 2001u);
}

TEST(OtlpProtobufEncoding, GroupsByResourceThenScopeInFirstAppearanceOrder) {
  const auto resource_a = FixtureResource("a");
  const auto resource_b = FixtureResource("b");
  const auto scope_x = FixtureScope("x");
  const auto scope_y = FixtureScope("y");
  // Same contents as scope_x in another object: grouped with it.
  const auto scope_x_copy = FixtureScope("x");
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(MakeSimpleSpan(1, resource_a, scope_x));
  batch.push_back(MakeSimpleSpan(2, resource_b, scope_x));
  batch.push_back(MakeSimpleSpan(3, resource_a, scope_y));
  batch.push_back(nullptr);
  batch.push_back(MakeSimpleSpan(4, resource_a, scope_x_copy));
  batch.push_back(MakeSimpleSpan(5, resource_b, scope_x));
  const auto request = DecodeProtobuf(batch);

  ASSERT_EQ(request.resource_spans_size(), 2);
  const auto& a = request.resource_spans(0);
  EXPECT_EQ(a.resource().attributes(0).value().string_value(), "a");
  ASSERT_EQ(a.scope_spans_size(), 2);
  EXPECT_EQ(a.scope_spans(0).scope().name(), "x");
  ASSERT_EQ(a.scope_spans(0).spans_size(), 2);
  EXPECT_EQ(a.scope_spans(0).spans(0).name(), "simple-1");
  EXPECT_EQ(a.scope_spans(0).spans(1).name(), "simple-4");
  EXPECT_EQ(a.scope_spans(1).scope().name(), "y");
  ASSERT_EQ(a.scope_spans(1).spans_size(), 1);
  EXPECT_EQ(a.scope_spans(1).spans(0).name(), "simple-3");
  const auto& b = request.resource_spans(1);
  EXPECT_EQ(b.resource().attributes(0).value().string_value(), "b");
  ASSERT_EQ(b.scope_spans_size(), 1);
  ASSERT_EQ(b.scope_spans(0).spans_size(), 2);
  EXPECT_EQ(b.scope_spans(0).spans(0).name(), "simple-2");
  EXPECT_EQ(b.scope_spans(0).spans(1).name(), "simple-5");
}

TEST(OtlpProtobufEncoding, MissingResourceAndScope) {
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(MakeSimpleSpan(1, nullptr, nullptr));
  const auto request = DecodeProtobuf(batch);
  ASSERT_EQ(request.resource_spans_size(), 1);
  EXPECT_FALSE(request.resource_spans(0).has_resource());
  ASSERT_EQ(request.resource_spans(0).scope_spans_size(), 1);
  EXPECT_FALSE(request.resource_spans(0).scope_spans(0).has_scope());
  EXPECT_EQ(request.resource_spans(0).scope_spans(0).spans_size(), 1);
}

TEST(OtlpProtobufEncoding, DroppedAttributeCounts) {
  auto span = MakeSimpleSpan(1);
  span->attributes.SetLimits(1, 0);
  span->attributes.Set("kept", int64_t{1});
  span->attributes.Set("dropped.1", int64_t{2});
  span->attributes.Set("dropped.2", int64_t{3});
  otel::Event event;
  event.name = "e";
  event.attributes.SetLimits(1, 0);
  event.attributes.Set("a", true);
  event.attributes.Set("b", true);
  span->events.push_back(std::move(event));
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(std::move(span));
  const auto request = DecodeProtobuf(batch);
  const pb_trace::Span& out = request.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(out.attributes_size(), 1);
  EXPECT_EQ(out.dropped_attributes_count(), 2u);
  EXPECT_EQ(out.events(0).dropped_attributes_count(), 1u);
}

TEST(OtlpProtobufEncoding, InvalidUtf8IsReplaced) {
  auto span = MakeSimpleSpan(1);
  span->name = std::string("ok\xFF\xC3");
  span->attributes.Set("bad", std::string_view("a\x80z"));
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(std::move(span));
  const auto request = DecodeProtobuf(batch);
  const pb_trace::Span& out = request.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(out.name(), "ok\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(out.attributes(0).value().string_value(), "a\xEF\xBF\xBDz");
}

TEST(OtlpRecordable, AssignUtf8KeepsValidSequencesAndReplacesInvalidOnes) {
  std::string out;
  internal::AssignUtf8("\xF0\x9F\x98\x80 \xE2\x82\xAC", out);  // 4-byte emoji, euro sign
  EXPECT_EQ(out, "\xF0\x9F\x98\x80 \xE2\x82\xAC");
  internal::AssignUtf8("\xC0\xAF", out);  // overlong '/'
  EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD");
  internal::AssignUtf8("\xED\xA0\x80", out);  // surrogate half
  EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  internal::AssignUtf8(std::string_view("\0x", 2), out);
  EXPECT_EQ(out, std::string("\0x", 2));
}

// Every string field goes through the repair: keys, event names, trace state, status message.
TEST(OtlpProtobufEncoding, InvalidUtf8IsReplacedInEveryStringField) {
  auto span = MakeSimpleSpan(1);
  span->trace_state = std::string("k=\xFF");
  span->status_message = std::string("\xE2\x82");  // truncated euro sign: one maximal subpart
  span->attributes.Set(std::string_view("k\xC3"), std::string_view("v"));
  otel::Event event;
  event.name = std::string("\xF4\x90\x80\x80");  // above U+10FFFF: four bad bytes
  event.attributes.Set("e", std::string_view("\xC0"));
  span->events.push_back(std::move(event));
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(std::move(span));
  const std::string bytes = EncodeOtlpProtobuf(batch);
  pb_collector::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(bytes));  // proto3 parsing rejects invalid UTF-8
  const pb_trace::Span& out = request.resource_spans(0).scope_spans(0).spans(0);
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(out.trace_state(), "k=" + r);
  EXPECT_EQ(out.status().message(), r + r);
  EXPECT_EQ(out.attributes(out.attributes_size() - 1).key(), "k" + r);
  EXPECT_EQ(out.events(0).name(), r + r + r + r);
  EXPECT_EQ(out.events(0).attributes(0).value().string_value(), r);
}

// ------------------------------------------------------------------------------------------
// OTLP/JSON

nlohmann::json DecodeJson(const std::vector<std::unique_ptr<otel::SpanData>>& batch) {
  const std::string text = EncodeOtlpJson(batch);
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << text;
  return json;
}

TEST(OtlpJsonEncoding, SpanFields) {
  const nlohmann::json json = DecodeJson(OneRichSpan());
  ASSERT_EQ(json["resourceSpans"].size(), 1u);
  const nlohmann::json& rs = json["resourceSpans"][0];
  EXPECT_EQ(rs["schemaUrl"], "https://opentelemetry.io/schemas/1.24.0");
  EXPECT_EQ(rs["resource"]["attributes"][0]["key"], "service.name");
  EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "svc");
  EXPECT_EQ(rs["resource"]["attributes"][1]["value"]["intValue"], "8");
  const nlohmann::json& ss = rs["scopeSpans"][0];
  EXPECT_EQ(ss["scope"]["name"], "my.lib");
  EXPECT_EQ(ss["scope"]["version"], "1.2.3");
  EXPECT_EQ(ss["schemaUrl"], "https://opentelemetry.io/schemas/1.21.0");
  const nlohmann::json& span = ss["spans"][0];
  EXPECT_EQ(span["traceId"], FixtureTraceId(1).ToHex());
  EXPECT_EQ(span["spanId"], FixtureSpanId(1).ToHex());
  EXPECT_EQ(span["parentSpanId"], FixtureSpanId(2).ToHex());
  EXPECT_EQ(span["traceState"], "vendor=abc,other=1");
  EXPECT_EQ(span["flags"], 0x301);
  EXPECT_EQ(span["name"], "chat gpt-4o");
  EXPECT_EQ(span["kind"], 3);
  EXPECT_EQ(span["startTimeUnixNano"], "1700000000123456789");
  EXPECT_EQ(span["endTimeUnixNano"], "1700000001987654321");
  EXPECT_EQ(span["droppedEventsCount"], 3);
  EXPECT_EQ(span["droppedLinksCount"], 4);
  EXPECT_FALSE(span.contains("droppedAttributesCount"));
  EXPECT_EQ(span["status"]["code"], 2);
  EXPECT_EQ(span["status"]["message"], "upstream failed");

  const nlohmann::json& attributes = span["attributes"];
  ASSERT_EQ(attributes.size(), 10u);
  const auto value_of = [&](std::string_view key) {
    for (const auto& kv : attributes) {
      if (kv["key"] == key) return kv["value"];
    }
    return nlohmann::json();
  };
  EXPECT_EQ(value_of("str"), nlohmann::json({{"stringValue", "hello"}}));
  EXPECT_EQ(value_of("str.unicode")["stringValue"], "h\xC3\xA9llo \xE2\x9C\x93");
  EXPECT_EQ(value_of("str.escape")["stringValue"], "quote\" backslash\\ nl\n tab\t");
  EXPECT_EQ(value_of("str.empty"), nlohmann::json({{"stringValue", ""}}));
  EXPECT_EQ(value_of("bool.true"), nlohmann::json({{"boolValue", true}}));
  EXPECT_EQ(value_of("int.neg"), nlohmann::json({{"intValue", "-42"}}));
  EXPECT_EQ(value_of("int.max"), nlohmann::json({{"intValue", "9223372036854775807"}}));
  EXPECT_EQ(value_of("uint.small"), nlohmann::json({{"intValue", "7"}}));
  EXPECT_EQ(value_of("uint.big"), nlohmann::json({{"stringValue", "18446744073709551615"}}));
  ASSERT_TRUE(value_of("double")["doubleValue"].is_number_float());
  EXPECT_EQ(value_of("double")["doubleValue"].get<double>(), 0.1);

  ASSERT_EQ(span["events"].size(), 2u);
  EXPECT_EQ(span["events"][0]["name"], "first");
  EXPECT_EQ(span["events"][0]["timeUnixNano"], "1700000000500000000");
  EXPECT_EQ(span["events"][0]["attributes"][0]["value"]["intValue"], "1");
  EXPECT_EQ(span["events"][0]["attributes"][1]["value"]["boolValue"], false);
  EXPECT_FALSE(span["events"][1].contains("attributes"));
  ASSERT_EQ(span["links"].size(), 2u);
  EXPECT_EQ(span["links"][0]["traceId"], FixtureTraceId(2).ToHex());
  EXPECT_EQ(span["links"][0]["spanId"], FixtureSpanId(3).ToHex());
  EXPECT_EQ(span["links"][0]["traceState"], "k=v");
  EXPECT_EQ(span["links"][0]["flags"], 0x301);
  EXPECT_EQ(span["links"][0]["attributes"][0]["value"]["stringValue"], "follows");
  EXPECT_EQ(span["links"][1]["flags"], 0x100);
}

TEST(OtlpJsonEncoding, RootSpanOmitsDefaults) {
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(MakeSimpleSpan(1));
  const nlohmann::json span = DecodeJson(batch)["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_FALSE(span.contains("parentSpanId"));
  EXPECT_FALSE(span.contains("status"));
  EXPECT_FALSE(span.contains("traceState"));
  EXPECT_FALSE(span.contains("events"));
  EXPECT_FALSE(span.contains("links"));
  EXPECT_EQ(span["kind"], 1);
}

TEST(OtlpJsonEncoding, SpecialDoublesAndControlCharacters) {
  auto span = MakeSimpleSpan(1);
  span->attributes.Set("nan", std::numeric_limits<double>::quiet_NaN());
  span->attributes.Set("inf", std::numeric_limits<double>::infinity());
  span->attributes.Set("ninf", -std::numeric_limits<double>::infinity());
  span->attributes.Set("big", 1e300);
  span->attributes.Set("ctl", std::string_view("\x01\x1f\x7f", 3));
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(std::move(span));
  const std::string text = EncodeOtlpJson(batch);
  EXPECT_NE(text.find("\"doubleValue\":\"NaN\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"doubleValue\":\"Infinity\""), std::string::npos);
  EXPECT_NE(text.find("\"doubleValue\":\"-Infinity\""), std::string::npos);
  EXPECT_NE(text.find("\\u0001\\u001f\x7f"), std::string::npos);
  const nlohmann::json json = nlohmann::json::parse(text);
  const auto& attributes = json["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"];
  EXPECT_EQ(attributes[3]["value"]["doubleValue"].get<double>(), 1e300);
  EXPECT_EQ(attributes[4]["value"]["stringValue"], std::string("\x01\x1f\x7f", 3));
}

std::string HexToBase64(const std::string& hex) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (i + 1 < bytes.size()) n |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    if (i + 2 < bytes.size()) n |= uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[n & 63] : '=');
  }
  return out;
}

TEST(OtlpJsonEncoding, ProtobufJsonParserReadsTheSameRequest) {
  // OTLP/JSON is the proto3 JSON mapping except that ids are hex instead of base64. Turning the
  // ids back into base64 must give JSON that protobuf's own parser reads into exactly the
  // message EncodeOtlpProtobuf produced.
  std::vector<std::unique_ptr<otel::SpanData>> batch = OneRichSpan();
  batch.push_back(MakeSimpleSpan(2, FixtureResource("other"), FixtureScope("other")));
  nlohmann::json json = DecodeJson(batch);
  for (auto& rs : json["resourceSpans"]) {
    for (auto& ss : rs["scopeSpans"]) {
      for (auto& span : ss["spans"]) {
        for (const char* id : {"traceId", "spanId", "parentSpanId"}) {
          if (span.contains(id)) span[id] = HexToBase64(span[id].get<std::string>());
        }
        if (!span.contains("links")) continue;
        for (auto& link : span["links"]) {
          link["traceId"] = HexToBase64(link["traceId"].get<std::string>());
          link["spanId"] = HexToBase64(link["spanId"].get<std::string>());
        }
      }
    }
  }
  pb_collector::ExportTraceServiceRequest from_json;
  const auto status = google::protobuf::util::JsonStringToMessage(json.dump(), &from_json);
  ASSERT_TRUE(status.ok()) << status.ToString();
  const auto from_wire = DecodeProtobuf(batch);
  std::string difference;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differencer.Compare(from_wire, from_json)) << difference;
}

TEST(OtlpJsonEncoding, InvalidUtf8IsReplacedWithExactBytes) {
  auto span = MakeSimpleSpan(1);
  span->name = std::string(
      "a\xFF"
      "b");
  span->attributes.Set("bad", std::string_view("\xED\xA0\x80z"));  // surrogate half
  span->attributes.Set("ok", std::string_view("caf\xC3\xA9"));
  std::vector<std::unique_ptr<otel::SpanData>> batch;
  batch.push_back(std::move(span));
  const std::string text = EncodeOtlpJson(batch);
  // Written as UTF-8 bytes (JSON allows them), never as the invalid input bytes.
  EXPECT_NE(text.find("\"name\":\"a\xEF\xBF\xBD"
                      "b\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"stringValue\":\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"stringValue\":\"caf\xC3\xA9\""), std::string::npos) << text;
  EXPECT_EQ(text.find('\xFF'), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
}

}  // namespace
}  // namespace vllora::otlp
