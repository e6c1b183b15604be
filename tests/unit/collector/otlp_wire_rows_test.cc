// The wire decoder (binary OTLP -> packed rows) against exact expected rows and against the
// reference path (protobuf parse + MapExportRequest) it replaces.
#include "collector/otlp_wire_rows.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "collector/otlp_mapping.h"
#include "collector/otlp_protobuf.h"

namespace vllora::collector::internal {
namespace {

using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;
using opentelemetry::proto::trace::v1::Span;

// ---- hand-written wire bytes ----
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Tag(uint32_t number, uint32_t wire) { return Varint((uint64_t{number} << 3) | wire); }
std::string Len(uint32_t number, const std::string& payload) {
  return Tag(number, 2) + Varint(payload.size()) + payload;
}
std::string VarintField(uint32_t number, uint64_t v) { return Tag(number, 0) + Varint(v); }
std::string Fixed64(uint32_t number, uint64_t v) {
  std::string out = Tag(number, 1);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string Fixed32(uint32_t number, uint32_t v) {
  std::string out = Tag(number, 5);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string Kv(const std::string& key, const std::string& any_value) {
  return Len(1, key) + Len(2, any_value);
}
std::string Request(const std::string& resource, const std::string& scope,
                    const std::string& spans) {
  return Len(1, Len(1, resource) + Len(2, Len(1, scope) + spans));
}

// Every row of `decoded` as SpanRows.
std::vector<SpanRow> Rows(const DecodedRequest& decoded) {
  std::vector<SpanRow> rows;
  for (size_t i = 0; i < decoded.batch.size(); ++i) rows.push_back(decoded.batch.Get(i));
  return rows;
}

void ExpectSameRow(const SpanRow& a, const SpanRow& b, size_t i) {
  SCOPED_TRACE("row " + std::to_string(i));
  EXPECT_EQ(a.trace_id, b.trace_id);
  EXPECT_EQ(a.span_id, b.span_id);
  EXPECT_EQ(a.parent_span_id, b.parent_span_id);
  EXPECT_EQ(a.thread_id, b.thread_id);
  EXPECT_EQ(a.operation_name, b.operation_name);
  EXPECT_EQ(a.start_time_us, b.start_time_us);
  EXPECT_EQ(a.finish_time_us, b.finish_time_us);
  EXPECT_EQ(a.attribute, b.attribute);
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.project_id, b.project_id);
  EXPECT_EQ(a.tenant, b.tenant);
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.status_code, b.status_code);
  EXPECT_EQ(a.status_message, b.status_message);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.resource, b.resource);
  EXPECT_EQ(a.scope_name, b.scope_name);
}

// The reference: protobuf parse + mapping.
bool Reference(const std::string& bytes, const std::string& tenant, MappedRequest* out) {
  ExportRequest request;
  std::string error;
  if (!ParseOtlpProtobuf(bytes, &request, &error)) return false;
  *out = MapExportRequest(request, tenant);
  return true;
}

// Asserts that the fast path decodes `bytes` (when `expect_fast`) and that the receivers' entry
// point gives exactly the reference's rows.
void ExpectSameAsReference(const std::string& bytes, const std::string& tenant,
                           bool expect_fast = true) {
  MappedRequest reference;
  ASSERT_TRUE(Reference(bytes, tenant, &reference));
  DecodedRequest fast;
  EXPECT_EQ(DecodeOtlpWireRows(bytes, tenant, &fast),
            expect_fast ? WireDecode::kOk : WireDecode::kFallBack);
  DecodedRequest decoded;
  std::string error;
  ASSERT_TRUE(DecodeOtlpProtobufRows(bytes, tenant, &decoded, &error)) << error;
  EXPECT_EQ(decoded.rejected_spans, reference.rejected_spans);
  EXPECT_EQ(decoded.error_message, reference.error_message);
  const std::vector<SpanRow> rows = Rows(decoded);
  ASSERT_EQ(rows.size(), reference.rows.size());
  for (size_t i = 0; i < rows.size(); ++i) ExpectSameRow(rows[i], reference.rows[i], i);
}

const std::string kTraceId("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
const std::string kSpanId("\x00\x00\x00\x00\x00\x00\x01\x00", 8);
const std::string kParentId("\xff\xff\xff\xff\xff\xff\xff\xff", 8);

std::string StringValue(const std::string& s) { return Len(1, s); }

TEST(CollectorOtlpWireRows, ExactRowFromKnownWireBytes) {
  const std::string resource = Len(1, Kv("service.name", StringValue("svc"))) +
                               Len(1, Kv("vllora.run_id", StringValue("run-r"))) +
                               Len(1, Kv("vllora.tenant", StringValue("t-res")));
  const std::string scope = Len(1, "my.lib") + Len(2, "1.0");
  const std::string event = Fixed64(1, 3'000'999) + Len(2, "ev") +
                            Len(3, Kv("n", Tag(3, 0) + Varint(static_cast<uint64_t>(-5))));
  const std::string span = Len(1, kTraceId) + Len(2, kSpanId) + Len(4, kParentId) +
                           Len(5, "chat \"x\"") + VarintField(6, 3) + Fixed64(7, 1'000'999) +
                           Fixed64(8, 2'000'000) +
                           Len(9, Kv("vllora.thread_id", StringValue("th-1"))) +
                           Len(9, Kv("tags", StringValue("{\"b\": 1, \"a\": [true]}"))) +
                           Len(9, Kv("vllora.label", Tag(2, 0) + Varint(1))) + Len(11, event) +
                           Len(15, Len(2, "bad") + VarintField(3, 2));
  const std::string bytes = Request(resource, scope, Len(2, span));
  DecodedRequest decoded;
  ASSERT_EQ(DecodeOtlpWireRows(bytes, "hdr", &decoded), WireDecode::kOk);
  ASSERT_EQ(decoded.batch.size(), 1u);
  EXPECT_EQ(decoded.rejected_spans, 0);
  const SpanRow row = decoded.batch.Get(0);
  EXPECT_EQ(row.trace_id, "01020304-0506-0708-090a-0b0c0d0e0f10");
  EXPECT_EQ(row.span_id, "256");
  EXPECT_EQ(row.parent_span_id, "18446744073709551615");
  EXPECT_EQ(row.operation_name, "chat \"x\"");
  EXPECT_EQ(row.kind, 3);
  EXPECT_EQ(row.start_time_us, 1000);
  EXPECT_EQ(row.finish_time_us, 2000);
  EXPECT_EQ(row.attribute,
            "{\"vllora.thread_id\":\"th-1\",\"tags\":\"{\\\"b\\\": 1, \\\"a\\\": [true]}\","
            "\"vllora.label\":true}");
  EXPECT_EQ(row.thread_id, "th-1");
  EXPECT_EQ(row.run_id, "run-r");  // from the resource
  EXPECT_EQ(row.project_id, std::nullopt);
  EXPECT_EQ(row.label, "true");
  EXPECT_EQ(row.tenant, "t-res");
  EXPECT_EQ(row.tags, "{\"a\":[true],\"b\":1}");
  EXPECT_EQ(row.status_code, 2);
  EXPECT_EQ(row.status_message, "bad");
  EXPECT_EQ(row.events, "[{\"name\":\"ev\",\"time_us\":3000,\"attributes\":{\"n\":-5}}]");
  EXPECT_EQ(row.resource,
            "{\"service.name\":\"svc\",\"vllora.run_id\":\"run-r\",\"vllora.tenant\":\"t-res\"}");
  EXPECT_EQ(row.scope_name, "my.lib");
  ExpectSameAsReference(bytes, "hdr");
}

TEST(CollectorOtlpWireRows, EveryAnyValueType) {
  const double kDouble = 0.1;
  const std::string array = Len(1, StringValue("a")) + Len(1, Tag(3, 0) + Varint(7)) + Len(1, "");
  const std::string kvlist = Len(1, Kv("x", Tag(2, 0) + Varint(0))) + Len(1, Len(1, "nokey"));
  const std::string attributes =
      Len(9, Kv("s", StringValue("\xff\x01 \xe2\x82\xac"))) +
      Len(9, Kv("b", Tag(2, 0) + Varint(1))) +
      Len(9, Kv("i", Tag(3, 0) + Varint(static_cast<uint64_t>(INT64_MIN)))) +
      Len(9, Kv("d", Fixed64(4, std::bit_cast<uint64_t>(kDouble)))) +
      Len(9, Kv("nan", Fixed64(4, std::bit_cast<uint64_t>(std::nan(""))))) +
      Len(9, Kv("inf", Fixed64(4, std::bit_cast<uint64_t>(-HUGE_VAL)))) +
      Len(9, Kv("bytes", Len(7, std::string("\x00\xfb\xff", 3)))) +
      Len(9, Kv("arr", Len(5, array))) + Len(9, Kv("kv", Len(6, kvlist))) +
      Len(9, Kv("empty", "")) + Len(9, Len(1, "unset")) +
      Len(9, Kv("last", StringValue("one") + Tag(3, 0) + Varint(2)));
  const std::string span = Len(1, kTraceId) + Len(2, kSpanId) + Len(5, "s") + attributes;
  const std::string bytes = Request("", "", Len(2, span));
  DecodedRequest decoded;
  ASSERT_EQ(DecodeOtlpWireRows(bytes, "", &decoded), WireDecode::kOk);
  ASSERT_EQ(decoded.batch.size(), 1u);
  EXPECT_EQ(decoded.batch.Get(0).attribute,
            "{\"s\":\"\xEF\xBF\xBD\\u0001 \xe2\x82\xac\",\"b\":true,\"i\":-9223372036854775808,"
            "\"d\":0.1,\"nan\":\"NaN\",\"inf\":\"-Infinity\",\"bytes\":\"APv/\","
            "\"arr\":[\"a\",7,null],\"kv\":{\"x\":false,\"nokey\":null},\"empty\":null,"
            "\"unset\":null,\"last\":2}");
  EXPECT_EQ(decoded.batch.Get(0).tenant, "default");
  EXPECT_EQ(decoded.batch.Get(0).resource, "{}");
  EXPECT_EQ(decoded.batch.Get(0).scope_name, std::nullopt);
  EXPECT_EQ(decoded.batch.Get(0).events, "[]");
  ExpectSameAsReference(bytes, "");
}

TEST(CollectorOtlpWireRows, UnknownFieldsAndWrongWireTypesAreSkipped) {
  const std::string unknown = VarintField(99, 5) + Fixed32(98, 1) + Fixed64(97, 2) +
                              Len(96, "\xff\xff garbage not a message");
  const std::string plain_span = Len(1, kTraceId) + Len(2, kSpanId) + Len(5, "n") +
                                 VarintField(6, 2) + Len(9, Kv("k", StringValue("v")));
  // Each message gets unknown fields; kind arrives a second time length-delimited (as a packed
  // field would), which protobuf skips as an unknown field of the wrong wire type; so is a
  // start time sent as a varint.
  const std::string span = unknown + Len(1, kTraceId) + Len(2, kSpanId) + Len(5, "n") +
                           VarintField(6, 2) + Len(6, Varint(4)) + VarintField(7, 9) +
                           Len(9, unknown + Kv("k", unknown + StringValue("v") + unknown)) +
                           unknown;
  const std::string with_unknown =
      Len(1, unknown + Len(1, unknown) + Len(2, unknown + Len(1, unknown) + Len(2, span))) +
      unknown;
  DecodedRequest a, b;
  ASSERT_EQ(DecodeOtlpWireRows(with_unknown, "", &a), WireDecode::kOk);
  ASSERT_EQ(DecodeOtlpWireRows(Request("", "", Len(2, plain_span)), "", &b), WireDecode::kOk);
  ASSERT_EQ(a.batch.size(), 1u);
  ASSERT_EQ(b.batch.size(), 1u);
  ExpectSameRow(a.batch.Get(0), b.batch.Get(0), 0);
  EXPECT_EQ(a.batch.Get(0).kind, 2);
  EXPECT_EQ(a.batch.Get(0).start_time_us, 0);
  ExpectSameAsReference(with_unknown, "");
}

TEST(CollectorOtlpWireRows, MalformedInputGivesAnErrorAndNoRows) {
  const std::string good = Len(1, kTraceId) + Len(2, kSpanId) + Len(5, "good");
  const std::string bad_span = Len(1, kTraceId) + Len(2, kSpanId) + Tag(5, 2) + Varint(50) + "x";
  const std::string cases[] = {
      Request("", "", Len(2, good) + Len(2, bad_span)),     // a later span's name runs past its end
      Request("", "", Len(2, good)).substr(0, 20),          // truncated request
      Request("", "", Len(2, good + Len(9, Tag(2, 7)))),    // wire type 7 inside an attribute
      Request("", "", Len(2, good + Len(11, "\x09\x01"))),  // truncated event time
      Request("", "", Len(2, good + Len(15, "\x80"))),      // truncated varint in the status
      Request("", "", Len(2, good + Len(13, Len(4, "\x12\x05")))),  // a link's bad attribute
      std::string("\xff\xff\xff\xff"),
  };
  for (const std::string& bytes : cases) {
    SCOPED_TRACE(testing::PrintToString(bytes));
    DecodedRequest decoded;
    EXPECT_EQ(DecodeOtlpWireRows(bytes, "", &decoded), WireDecode::kFallBack);
    EXPECT_TRUE(decoded.batch.empty());
    EXPECT_TRUE(decoded.batch.text.empty());
    std::string error;
    EXPECT_FALSE(DecodeOtlpProtobufRows(bytes, "", &decoded, &error));
    EXPECT_EQ(error, "malformed protobuf ExportTraceServiceRequest");
    EXPECT_TRUE(decoded.batch.empty());
    EXPECT_EQ(decoded.rejected_spans, 0);
  }
}

TEST(CollectorOtlpWireRows, RejectedSpansAreCountedAndLeaveNoText) {
  const std::string ok = Len(1, kTraceId) + Len(2, kSpanId) + Len(5, "ok");
  const std::string short_id = Len(1, kTraceId) + Len(2, "\x01") + Len(5, "bad") +
                               Len(9, Kv("big", StringValue(std::string(100, 'x'))));
  const std::string backwards =
      Len(1, kTraceId) + Len(2, kSpanId) + Len(5, "bad2") + Fixed64(7, 5000) + Fixed64(8, 4000);
  const std::string bytes = Request("", "", Len(2, short_id) + Len(2, ok) + Len(2, backwards));
  DecodedRequest decoded;
  ASSERT_EQ(DecodeOtlpWireRows(bytes, "", &decoded), WireDecode::kOk);
  ASSERT_EQ(decoded.batch.size(), 1u);
  EXPECT_EQ(decoded.batch.Get(0).operation_name, "ok");
  EXPECT_EQ(decoded.rejected_spans, 2);
  EXPECT_EQ(decoded.error_message,
            "2 spans rejected: span 0: span_id must be 8 bytes (got 1); span 2: "
            "end_time_unix_nano is before start_time_unix_nano");
  EXPECT_EQ(decoded.batch.text.find(std::string(100, 'x')), std::string::npos);
  ExpectSameAsReference(bytes, "");
}

// Spans of one trace share the trace id's text, spans without events share one "[]"; a rejected
// span's text (dropped) is never shared, and a different trace id in between gets its own text.
TEST(CollectorOtlpWireRows, SpansShareTraceIdAndEmptyEventsText) {
  const std::string other_trace(16, '\x22');
  const std::string event = Len(11, Fixed64(1, 7000) + Len(2, "ev"));
  const auto span = [](const std::string& trace, char id, const std::string& extra) {
    return Len(2, Len(1, trace) + Len(2, std::string(7, '\0') + id) + Len(5, "s") + extra);
  };
  const std::string rejected = Len(2, Len(1, other_trace) + Len(2, std::string(7, '\0') + '\x01') +
                                          Len(5, "s") + Fixed64(7, 5000) + Fixed64(8, 4000));
  const std::string request = Request(
      "", "",
      rejected + span(kTraceId, '\x02', "") + span(kTraceId, '\x03', event) +
          span(other_trace, '\x04', "") + span(kTraceId, '\x05', "") + span(kTraceId, '\x06', ""));
  DecodedRequest decoded;
  ASSERT_EQ(DecodeOtlpWireRows(request, "", &decoded), WireDecode::kOk);
  ASSERT_EQ(decoded.batch.size(), 5u);
  EXPECT_EQ(decoded.rejected_spans, 1);
  const std::string uuid = "01020304-0506-0708-090a-0b0c0d0e0f10";
  const std::vector<std::string> traces = {uuid, uuid, "22222222-2222-2222-2222-222222222222", uuid,
                                           uuid};
  const std::vector<std::string> span_ids = {"2", "3", "4", "5", "6"};
  for (size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(decoded.batch.Get(i).trace_id, traces[i]);
    EXPECT_EQ(decoded.batch.Get(i).span_id, span_ids[i]);
  }
  EXPECT_EQ(decoded.batch.Get(1).events, R"([{"name":"ev","time_us":7,"attributes":{}}])");
  for (size_t i : std::initializer_list<size_t>{0, 2, 3, 4})
    EXPECT_EQ(decoded.batch.Get(i).events, "[]") << i;
  const auto& rows = decoded.batch.rows;
  EXPECT_EQ(rows[1].offset[SpanBatch::kTraceId], rows[0].offset[SpanBatch::kTraceId]);
  EXPECT_NE(rows[2].offset[SpanBatch::kTraceId], rows[0].offset[SpanBatch::kTraceId]);
  // After the other trace, the first trace's id is written again (only the last one is kept).
  EXPECT_NE(rows[3].offset[SpanBatch::kTraceId], rows[0].offset[SpanBatch::kTraceId]);
  EXPECT_EQ(rows[4].offset[SpanBatch::kTraceId], rows[3].offset[SpanBatch::kTraceId]);
  for (size_t i : std::initializer_list<size_t>{2, 3, 4}) {
    EXPECT_EQ(rows[i].offset[SpanBatch::kEvents], rows[0].offset[SpanBatch::kEvents]) << i;
  }
  // One "[]" and three UUIDs in the text, each once.
  EXPECT_EQ(decoded.batch.text.find("[]"), decoded.batch.text.rfind("[]"));
  ExpectSameAsReference(request, "");
}

// Attributes and events are read from the stretch between the first and the last of their fields:
// fields of other kinds in between (and repeated fields split by them) change nothing.
TEST(CollectorOtlpWireRows, InterleavedAttributesAndEvents) {
  const std::string event_a = Len(11, Fixed64(1, 3000) + Len(2, "a"));
  const std::string event_b = Len(11, Fixed64(1, 4000) + Len(2, "b"));
  const std::string span =
      Len(9, Kv("k1", StringValue("v1"))) + event_a + Len(1, kTraceId) +
      Len(9, Kv("k2", VarintField(3, 7))) + Len(2, kSpanId) + VarintField(99, 1) + Len(5, "n") +
      Fixed64(9, 5) /* field 9 of the wrong wire type: skipped */ + event_b +
      Len(9, Kv("k3", StringValue("v3"))) + Fixed64(7, 1000) + Fixed64(8, 2000);
  const std::string bytes = Request("", "", Len(2, span));
  DecodedRequest decoded;
  ASSERT_EQ(DecodeOtlpWireRows(bytes, "", &decoded), WireDecode::kOk);
  ASSERT_EQ(decoded.batch.size(), 1u);
  const SpanRow row = decoded.batch.Get(0);
  EXPECT_EQ(row.attribute, R"({"k1":"v1","k2":7,"k3":"v3"})");
  EXPECT_EQ(row.events, R"([{"name":"a","time_us":3,"attributes":{}},)"
                        R"({"name":"b","time_us":4,"attributes":{}}])");
  EXPECT_EQ(row.operation_name, "n");
  ExpectSameAsReference(bytes, "");
}

TEST(CollectorOtlpWireRows, MergedMessagesMatchProtobuf) {
  const std::string ids = Len(1, kTraceId) + Len(2, kSpanId);
  // Two resources (attribute lists concatenated), two scopes (last name wins), two statuses
  // (merged field by field), the resource after the scope spans on the wire.
  const std::string span = ids + Len(5, "first") + Len(15, Len(2, "m1") + VarintField(3, 1)) +
                           Len(5, "second") + Len(15, VarintField(3, 2));
  const std::string resource_spans =
      Len(1, Len(1, Kv("vllora.project_id", StringValue("p1")))) +
      Len(2, Len(1, Len(1, "scope-a")) + Len(2, span) + Len(1, Len(1, "scope-b"))) +
      Len(1, Len(1, Kv("vllora.project_id", Tag(3, 0) + Varint(42))));
  const std::string bytes = Len(1, resource_spans);
  ExpectSameAsReference(bytes, "");
  DecodedRequest decoded;
  ASSERT_EQ(DecodeOtlpWireRows(bytes, "", &decoded), WireDecode::kOk);
  const SpanRow row = decoded.batch.Get(0);
  EXPECT_EQ(row.operation_name, "second");
  EXPECT_EQ(row.status_code, 2);
  EXPECT_EQ(row.status_message, "m1");
  EXPECT_EQ(row.project_id, "42");
  EXPECT_EQ(row.scope_name, "scope-b");
  EXPECT_EQ(row.resource, "{\"vllora.project_id\":\"p1\",\"vllora.project_id\":42}");

  // Forms the fast path leaves to protobuf: a KeyValue value sent twice, an array value sent
  // twice (both merged), values nested beyond the 32 levels kept, a group.
  std::string deep = Tag(3, 0) + Varint(1);
  for (int i = 0; i < 40; ++i) deep = Len(5, Len(1, deep));
  const std::string fallbacks[] = {
      Request("", "", Len(2, ids + Len(9, Kv("k", StringValue("a")) + Len(2, Tag(3, 0) + "\x05")))),
      Request("", "",
              Len(2, ids + Len(9, Kv("k", Len(5, Len(1, StringValue("a"))) +
                                              Len(5, Len(1, StringValue("b"))))))),
      Request("", "", Len(2, ids + Len(9, Kv("deep", deep)))),
      Request("", "", Len(2, ids + Tag(50, 3) + VarintField(1, 1) + Tag(50, 4))),
  };
  for (const std::string& fallback : fallbacks) ExpectSameAsReference(fallback, "", false);
}

TEST(CollectorOtlpWireRows, TenantPrecedence) {
  const std::string ids = Len(1, kTraceId) + Len(2, kSpanId) + Len(5, "n");
  const std::string spans = Len(2, ids + Len(9, Kv("vllora.tenant", StringValue("span-t")))) +
                            Len(2, ids + Len(9, Kv("vllora.tenant", StringValue("")))) +
                            Len(2, ids);
  for (const std::string& resource :
       {std::string(), Len(1, Kv("vllora.tenant", StringValue("res-t")))}) {
    for (const std::string& header : {std::string(), std::string("hdr\xff")}) {
      const std::string bytes = Request(resource, "", spans);
      ExpectSameAsReference(bytes, header);
      DecodedRequest decoded;
      ASSERT_EQ(DecodeOtlpWireRows(bytes, header, &decoded), WireDecode::kOk);
      const std::string fallback = !resource.empty() ? "res-t"
                                   : !header.empty() ? "hdr\xEF\xBF\xBD"
                                                     : "default";
      EXPECT_EQ(decoded.batch.Get(0).tenant, "span-t");
      EXPECT_EQ(decoded.batch.Get(1).tenant, fallback);
      EXPECT_EQ(decoded.batch.Get(2).tenant, fallback);
    }
  }
}

// Random requests built with the protobuf messages (every value type, invalid UTF-8, vLLora
// keys at both levels, events, links, statuses, invalid ids): the same rows as the reference.
void RandomValue(AnyValue* value, std::mt19937_64& rng, int depth) {
  const auto text = [&] {
    std::string s;
    const size_t n = rng() % 12;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t r = rng() % 10;
      s.push_back(r < 7 ? static_cast<char>('a' + rng() % 26) : static_cast<char>(rng() % 256));
    }
    return s;
  };
  switch (rng() % (depth < 3 ? 9 : 7)) {
    case 0:
    case 1:
      value->set_string_value(text());
      break;
    case 2:
      value->set_bool_value(rng() % 2 == 0);
      break;
    case 3:
      value->set_int_value(static_cast<int64_t>(rng()));
      break;
    case 4:
      value->set_double_value(std::bit_cast<double>(rng()));
      break;
    case 5:
      value->set_bytes_value(text());
      break;
    case 6:
      break;  // unset
    case 7:
      for (uint64_t i = rng() % 4; i > 0; --i) {
        RandomValue(value->mutable_array_value()->add_values(), rng, depth + 1);
      }
      value->mutable_array_value();
      break;
    default:
      for (uint64_t i = rng() % 4; i > 0; --i) {
        KeyValue* kv = value->mutable_kvlist_value()->add_values();
        kv->set_key(text());
        RandomValue(kv->mutable_value(), rng, depth + 1);
      }
      value->mutable_kvlist_value();
      break;
  }
}

void RandomAttributes(google::protobuf::RepeatedPtrField<KeyValue>* out, std::mt19937_64& rng) {
  static const char* const kKeys[] = {"vllora.tenant",
                                      "vllora.run_id",
                                      "vllora.thread_id",
                                      "vllora.project_id",
                                      "vllora.label",
                                      "tags",
                                      "model",
                                      "k"};
  for (uint64_t i = rng() % 6; i > 0; --i) {
    KeyValue* kv = out->Add();
    kv->set_key(kKeys[rng() % std::size(kKeys)]);
    if (kv->key() == "tags" && rng() % 2 == 0) {
      kv->mutable_value()->set_string_value(rng() % 2 == 0 ? "{\"x\":1}" : "[1]");
    } else {
      RandomValue(kv->mutable_value(), rng, 0);
    }
  }
}

TEST(CollectorOtlpWireRows, RandomRequestsMatchTheReference) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ExportRequest request;
    for (uint64_t r = rng() % 3 + 1; r > 0; --r) {
      auto* resource_spans = request.add_resource_spans();
      if (rng() % 4 != 0) {
        RandomAttributes(resource_spans->mutable_resource()->mutable_attributes(), rng);
      }
      for (uint64_t s = rng() % 3; s > 0; --s) {
        auto* scope_spans = resource_spans->add_scope_spans();
        if (rng() % 2 == 0) scope_spans->mutable_scope()->set_name(rng() % 2 ? "lib" : "");
        for (uint64_t n = rng() % 4; n > 0; --n) {
          Span* span = scope_spans->add_spans();
          std::string trace(16, '\0'), id(8, '\0');
          for (char& c : trace) c = static_cast<char>(rng());
          for (char& c : id) c = static_cast<char>(rng());
          span->set_trace_id(rng() % 20 == 0 ? trace.substr(0, 15) : trace);
          span->set_span_id(rng() % 20 == 0 ? std::string(8, '\0') : id);
          if (rng() % 2 == 0) span->set_parent_span_id(id);
          span->set_name(rng() % 10 == 0 ? "bad\xc3" : "span");
          span->set_kind(static_cast<Span::SpanKind>(rng() % 6));
          span->set_start_time_unix_nano(rng() % 1'000'000'000);
          span->set_end_time_unix_nano(rng() % 1'000'000'000);
          RandomAttributes(span->mutable_attributes(), rng);
          for (uint64_t e = rng() % 3; e > 0; --e) {
            auto* event = span->add_events();
            event->set_name("event");
            event->set_time_unix_nano(rng());
            RandomAttributes(event->mutable_attributes(), rng);
          }
          if (rng() % 4 == 0) {
            auto* link = span->add_links();
            link->set_trace_id(trace);
            RandomAttributes(link->mutable_attributes(), rng);
          }
          if (rng() % 2 == 0) {
            span->mutable_status()->set_code(
                static_cast<opentelemetry::proto::trace::v1::Status::StatusCode>(rng() % 3));
            span->mutable_status()->set_message(rng() % 2 ? "msg" : "");
          }
        }
      }
    }
    // Protobuf serializes invalid UTF-8 strings (logging an error); its parse then refuses them,
    // and the reference repairs them.
    const std::string bytes = request.SerializePartialAsString();
    ExpectSameAsReference(bytes, rng() % 2 ? "hdr" : "");
    if (HasFailure()) return;
  }
}

TEST(CollectorOtlpWireRows, BatchRoundTripsSpanRows) {
  SpanRow row;
  row.trace_id = "t";
  row.span_id = "1";
  row.thread_id = "";
  row.operation_name = "op";
  row.tags = "{}";
  row.kind = 2;
  row.start_time_us = -1;
  SpanBatch batch;
  ASSERT_TRUE(batch.Add(row));
  ASSERT_TRUE(batch.Add(row));
  ASSERT_EQ(batch.size(), 2u);
  ExpectSameRow(batch.Get(1), row, 1);
  EXPECT_EQ(batch.Text(0, SpanBatch::kParentSpanId), std::nullopt);
  EXPECT_EQ(batch.Text(0, SpanBatch::kThreadId), std::string_view(""));
}

// Consecutive spans with equal names share the name's text; a rejected span's name is never
// shared, and after another name in between the first one is written again.
TEST(CollectorOtlpWireRows, SpansShareTheOperationNameText) {
  const auto span = [](char id, const std::string& name, const std::string& extra) {
    return Len(2, Len(1, kTraceId) + Len(2, std::string(7, '\0') + id) + Len(5, name) + extra);
  };
  const std::string rejected = span('\x01', "chat", Fixed64(7, 5000) + Fixed64(8, 4000));
  const std::string request = Request(
      "", "",
      rejected + span('\x02', "chat", "") + span('\x03', "chat", "") + span('\x04', "tool", "") +
          span('\x05', "chat", "") + span('\x06', "chat\xff", "") + span('\x07', "chat\xff", ""));
  DecodedRequest decoded;
  ASSERT_EQ(DecodeOtlpWireRows(request, "", &decoded), WireDecode::kOk);
  ASSERT_EQ(decoded.batch.size(), 6u);
  EXPECT_EQ(decoded.rejected_spans, 1);
  const std::vector<std::string> names = {
      "chat", "chat", "tool", "chat", "chat\xEF\xBF\xBD", "chat\xEF\xBF\xBD"};
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(decoded.batch.Get(i).operation_name, names[i]) << i;
  }
  const auto& rows = decoded.batch.rows;
  const auto name_at = [&](size_t i) { return rows[i].offset[SpanBatch::kOperationName]; };
  EXPECT_EQ(name_at(1), name_at(0));
  EXPECT_NE(name_at(2), name_at(0));
  EXPECT_NE(name_at(3), name_at(0));  // written again after "tool"
  EXPECT_NE(name_at(4), name_at(3));
  EXPECT_EQ(name_at(5), name_at(4));
  ExpectSameAsReference(request, "");
}

// Add shares the previous row's slice for an equal text (never for span ids or attributes);
// every row still reads back exactly.
TEST(CollectorOtlpWireRows, BatchAddSharesTextEqualToThePreviousRow) {
  SpanRow a;
  a.trace_id = "trace-1";
  a.span_id = "1";
  a.operation_name = "op";
  a.attribute = R"({"k":1})";
  a.tenant = "tenant";
  a.resource = R"({"service.name":"x"})";
  a.scope_name = "scope";
  SpanRow b = a;
  b.span_id = "1";      // equal span id and attribute: still copied
  b.tenant = "tenanT";  // same length, other text
  SpanRow c = b;
  c.trace_id = "trace-2";
  c.span_id = "3";
  SpanBatch batch;
  for (const SpanRow* row : {&a, &b, &c}) ASSERT_TRUE(batch.Add(*row));
  ExpectSameRow(batch.Get(0), a, 0);
  ExpectSameRow(batch.Get(1), b, 1);
  ExpectSameRow(batch.Get(2), c, 2);
  const auto& rows = batch.rows;
  EXPECT_EQ(rows[1].offset[SpanBatch::kTraceId], rows[0].offset[SpanBatch::kTraceId]);
  EXPECT_EQ(rows[1].offset[SpanBatch::kResource], rows[0].offset[SpanBatch::kResource]);
  EXPECT_EQ(rows[2].offset[SpanBatch::kResource], rows[0].offset[SpanBatch::kResource]);
  EXPECT_EQ(rows[1].offset[SpanBatch::kScopeName], rows[0].offset[SpanBatch::kScopeName]);
  EXPECT_EQ(rows[1].offset[SpanBatch::kEvents], rows[0].offset[SpanBatch::kEvents]);
  EXPECT_NE(rows[1].offset[SpanBatch::kTenant], rows[0].offset[SpanBatch::kTenant]);
  EXPECT_EQ(rows[2].offset[SpanBatch::kTenant], rows[1].offset[SpanBatch::kTenant]);
  EXPECT_NE(rows[2].offset[SpanBatch::kTraceId], rows[1].offset[SpanBatch::kTraceId]);
  EXPECT_NE(rows[1].offset[SpanBatch::kSpanId], rows[0].offset[SpanBatch::kSpanId]);
  EXPECT_NE(rows[1].offset[SpanBatch::kAttribute], rows[0].offset[SpanBatch::kAttribute]);
}

}  // namespace
}  // namespace vllora::collector::internal
