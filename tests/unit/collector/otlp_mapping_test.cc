#include "collector/otlp_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "collector/json_text.h"
#include "collector/otlp_wire_rows.h"
#include "unit/collector/counting_heap.h"

namespace vllora::collector::internal {
namespace {

using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;
using opentelemetry::proto::trace::v1::Span;
using ::testing::Optional;

const std::string kTraceId("\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c", 16);
const std::string kSpanId("\xb7\xad\x6b\x71\x69\x20\x33\x31", 8);
const std::string kParentId("\x00\x00\x00\x00\x00\x00\x00\x2a", 8);

KeyValue* Add(google::protobuf::RepeatedPtrField<KeyValue>* list, const std::string& key) {
  KeyValue* kv = list->Add();
  kv->set_key(key);
  return kv;
}

Span* AddSpan(ExportRequest& request) {
  if (request.resource_spans_size() == 0) request.add_resource_spans()->add_scope_spans();
  Span* span = request.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  span->set_trace_id(kTraceId);
  span->set_span_id(kSpanId);
  span->set_name("model_call");
  span->set_start_time_unix_nano(1'700'000'000'123'456'789ULL);
  span->set_end_time_unix_nano(1'700'000'001'000'000'999ULL);
  return span;
}

TEST(CollectorMapping, IdsInContractForm) {
  EXPECT_EQ(TraceIdToUuid(kTraceId), "0af76519-16cd-43dd-8448-eb211c80319c");
  EXPECT_EQ(SpanIdToDecimal(kSpanId), "13235353014750950193");
  EXPECT_EQ(SpanIdToDecimal(kParentId), "42");
  EXPECT_EQ(SpanIdToDecimal(std::string(8, '\xff')), "18446744073709551615");
}

TEST(CollectorMapping, EveryColumnOfAFullSpan) {
  ExportRequest request;
  auto* rs = request.add_resource_spans();
  Add(rs->mutable_resource()->mutable_attributes(), "service.name")
      ->mutable_value()
      ->set_string_value("agent");
  Add(rs->mutable_resource()->mutable_attributes(), "vllora.project_id")
      ->mutable_value()
      ->set_string_value("from-resource");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("vllora::user_tracing");
  Span* span = ss->add_spans();
  span->set_trace_id(kTraceId);
  span->set_span_id(kSpanId);
  span->set_parent_span_id(kParentId);
  span->set_name("model_call");
  span->set_kind(Span::SPAN_KIND_CLIENT);
  span->set_start_time_unix_nano(1'700'000'000'123'456'789ULL);
  span->set_end_time_unix_nano(1'700'000'001'000'000'999ULL);
  auto* attrs = span->mutable_attributes();
  Add(attrs, "s")->mutable_value()->set_string_value("t\"x\n");
  Add(attrs, "b")->mutable_value()->set_bool_value(true);
  Add(attrs, "i")->mutable_value()->set_int_value(-9'007'199'254'740'993LL);
  Add(attrs, "d")->mutable_value()->set_double_value(0.25);
  Add(attrs, "nan")->mutable_value()->set_double_value(std::numeric_limits<double>::quiet_NaN());
  Add(attrs, "inf")->mutable_value()->set_double_value(std::numeric_limits<double>::infinity());
  Add(attrs, "ninf")->mutable_value()->set_double_value(-std::numeric_limits<double>::infinity());
  Add(attrs, "bytes")->mutable_value()->set_bytes_value(std::string("\x01\x02\x03\xff", 4));
  auto* array = Add(attrs, "arr")->mutable_value()->mutable_array_value();
  array->add_values()->set_int_value(1);
  array->add_values()->set_string_value("two");
  auto* kvlist = Add(attrs, "kv")->mutable_value()->mutable_kvlist_value();
  Add(kvlist->mutable_values(), "inner")->mutable_value()->set_bool_value(false);
  Add(attrs, "empty");  // no value set
  Add(attrs, "vllora.thread_id")->mutable_value()->set_string_value("thread-1");
  Add(attrs, "vllora.run_id")->mutable_value()->set_string_value("run-1");
  Add(attrs, "vllora.project_id")->mutable_value()->set_string_value("project-1");
  Add(attrs, "vllora.tenant")->mutable_value()->set_string_value("acme");
  Add(attrs, "vllora.label")->mutable_value()->set_string_value("nightly");
  Add(attrs, "tags")->mutable_value()->set_string_value(R"({"env":"dev","n":1})");
  span->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  span->mutable_status()->set_message("rate limited");
  auto* event = span->add_events();
  event->set_name("exception");
  event->set_time_unix_nano(1'700'000'000'500'000'000ULL);
  Add(event->mutable_attributes(), "exception.message")->mutable_value()->set_string_value("boom");

  const MappedRequest mapped = MapExportRequest(request, "header-tenant");
  ASSERT_EQ(mapped.rows.size(), 1u);
  EXPECT_EQ(mapped.rejected_spans, 0);
  EXPECT_EQ(mapped.error_message, "");
  const SpanRow& row = mapped.rows[0];
  EXPECT_EQ(row.trace_id, "0af76519-16cd-43dd-8448-eb211c80319c");
  EXPECT_EQ(row.span_id, "13235353014750950193");
  EXPECT_THAT(row.parent_span_id, Optional(std::string("42")));
  EXPECT_THAT(row.thread_id, Optional(std::string("thread-1")));
  EXPECT_EQ(row.operation_name, "model_call");
  EXPECT_EQ(row.start_time_us, 1'700'000'000'123'456);
  EXPECT_EQ(row.finish_time_us, 1'700'000'001'000'000);
  EXPECT_EQ(row.attribute,
            R"({"s":"t\"x\n","b":true,"i":-9007199254740993,"d":0.25,"nan":"NaN",)"
            R"("inf":"Infinity","ninf":"-Infinity","bytes":"AQID/w==","arr":[1,"two"],)"
            R"("kv":{"inner":false},"empty":null,"vllora.thread_id":"thread-1",)"
            R"("vllora.run_id":"run-1","vllora.project_id":"project-1","vllora.tenant":"acme",)"
            R"("vllora.label":"nightly","tags":"{\"env\":\"dev\",\"n\":1}"})");
  EXPECT_THAT(row.run_id, Optional(std::string("run-1")));
  EXPECT_THAT(row.project_id, Optional(std::string("project-1")));
  EXPECT_EQ(row.tenant, "acme");
  EXPECT_THAT(row.label, Optional(std::string("nightly")));
  EXPECT_THAT(row.tags, Optional(std::string(R"({"env":"dev","n":1})")));
  EXPECT_EQ(row.kind, 3);
  EXPECT_EQ(row.status_code, 2);
  EXPECT_THAT(row.status_message, Optional(std::string("rate limited")));
  EXPECT_EQ(row.events, R"([{"name":"exception","time_us":1700000000500000,)"
                        R"("attributes":{"exception.message":"boom"}}])");
  EXPECT_EQ(row.resource, R"({"service.name":"agent","vllora.project_id":"from-resource"})");
  EXPECT_THAT(row.scope_name, Optional(std::string("vllora::user_tracing")));
}

TEST(CollectorMapping, MinimalSpanHasNullColumns) {
  ExportRequest request;
  AddSpan(request);
  const MappedRequest mapped = MapExportRequest(request, "");
  ASSERT_EQ(mapped.rows.size(), 1u);
  const SpanRow& row = mapped.rows[0];
  EXPECT_EQ(row.parent_span_id, std::nullopt);
  EXPECT_EQ(row.thread_id, std::nullopt);
  EXPECT_EQ(row.run_id, std::nullopt);
  EXPECT_EQ(row.project_id, std::nullopt);
  EXPECT_EQ(row.label, std::nullopt);
  EXPECT_EQ(row.tags, std::nullopt);
  EXPECT_EQ(row.status_message, std::nullopt);
  EXPECT_EQ(row.scope_name, std::nullopt);
  EXPECT_EQ(row.tenant, "default");
  EXPECT_EQ(row.attribute, "{}");
  EXPECT_EQ(row.events, "[]");
  EXPECT_EQ(row.resource, "{}");
  EXPECT_EQ(row.kind, 0);
  EXPECT_EQ(row.status_code, 0);
}

TEST(CollectorMapping, TenantFallsBackToResourceThenHeaderThenDefault) {
  ExportRequest request;
  AddSpan(request);
  EXPECT_EQ(MapExportRequest(request, "").rows[0].tenant, "default");
  EXPECT_EQ(MapExportRequest(request, "hdr").rows[0].tenant, "hdr");
  Add(request.mutable_resource_spans(0)->mutable_resource()->mutable_attributes(), "vllora.tenant")
      ->mutable_value()
      ->set_string_value("res");
  EXPECT_EQ(MapExportRequest(request, "hdr").rows[0].tenant, "res");
  Add(request.mutable_resource_spans(0)
          ->mutable_scope_spans(0)
          ->mutable_spans(0)
          ->mutable_attributes(),
      "vllora.tenant")
      ->mutable_value()
      ->set_string_value("span");
  EXPECT_EQ(MapExportRequest(request, "hdr").rows[0].tenant, "span");
}

TEST(CollectorMapping, NonStringMappedValuesAndInvalidTags) {
  ExportRequest request;
  Span* span = AddSpan(request);
  Add(span->mutable_attributes(), "vllora.thread_id")->mutable_value()->set_int_value(7);
  Add(span->mutable_attributes(), "tags")->mutable_value()->set_string_value("[1,2]");
  Add(span->mutable_attributes(), "vllora.run_id")->mutable_value()->mutable_array_value();
  const SpanRow row = MapExportRequest(request, "").rows[0];
  EXPECT_THAT(row.thread_id, Optional(std::string("7")));
  EXPECT_EQ(row.tags, std::nullopt);  // not a JSON object
  EXPECT_EQ(row.run_id, std::nullopt);
}

TEST(CollectorMapping, InvalidUtf8IsRepaired) {
  ExportRequest request;
  Span* span = AddSpan(request);
  span->set_name("bad\xff name");
  Add(span->mutable_attributes(), "k\xc3")->mutable_value()->set_string_value("v\xe2\x82");
  const SpanRow row = MapExportRequest(request, "").rows[0];
  EXPECT_EQ(row.operation_name, "bad\xEF\xBF\xBD name");
  EXPECT_EQ(row.attribute, "{\"k\xEF\xBF\xBD\":\"v\xEF\xBF\xBD\xEF\xBF\xBD\"}");
}

TEST(CollectorValidation, RejectsBadSpansAndKeepsTheRest) {
  ExportRequest request;
  AddSpan(request);                                     // 0: ok
  AddSpan(request)->set_trace_id("12345");              // 1
  AddSpan(request)->set_span_id(std::string(8, '\0'));  // 2
  AddSpan(request)->set_parent_span_id("abc");          // 3
  Span* late = AddSpan(request);                        // 4
  late->set_end_time_unix_nano(late->start_time_unix_nano() - 1);
  AddSpan(request)->set_trace_id(std::string(16, '\0'));  // 5
  Span* two = AddSpan(request);                           // 6: two reasons
  two->set_span_id("1234567");
  two->set_parent_span_id(std::string(8, '\0'));
  Span* ok = AddSpan(request);  // 7: ok
  ok->set_span_id("\x01\x02\x03\x04\x05\x06\x07\x08");

  const MappedRequest mapped = MapExportRequest(request, "");
  ASSERT_EQ(mapped.rows.size(), 2u);
  EXPECT_EQ(mapped.rows[0].span_id, "13235353014750950193");
  EXPECT_EQ(mapped.rows[1].span_id, "72623859790382856");
  EXPECT_EQ(mapped.rejected_spans, 6);
  EXPECT_EQ(mapped.error_message,
            "6 spans rejected: span 1: trace_id must be 16 bytes (got 5); "
            "span 2: span_id must not be all zero; "
            "span 3: parent_span_id must be empty or 8 bytes (got 3); "
            "span 4: end_time_unix_nano is before start_time_unix_nano; "
            "span 5: trace_id must not be all zero; "
            "span 6: span_id must be 8 bytes (got 7), parent_span_id must not be all zero (use "
            "empty for a root span)");
}

TEST(CollectorValidation, MessageListsAtMostTenReasons) {
  ExportRequest request;
  for (int i = 0; i < 12; ++i) AddSpan(request)->set_trace_id("");
  const MappedRequest mapped = MapExportRequest(request, "");
  EXPECT_EQ(mapped.rows.size(), 0u);
  EXPECT_EQ(mapped.rejected_spans, 12);
  EXPECT_THAT(mapped.error_message,
              ::testing::StartsWith(
                  "12 spans rejected: span 0: trace_id must be 16 bytes (got 0); span 1:"));
  EXPECT_THAT(mapped.error_message,
              ::testing::EndsWith("span 9: trace_id must be 16 bytes (got 0); ... and 2 more"));
}

TEST(CollectorJsonTextTest, JsonStringFastPathWritesWhatTheSharedWriterWrites) {
  for (const std::string& value :
       {std::string(), std::string("abcdefghijklmnopqrst"), std::string("service.name"),
        std::string("a\"b"), std::string("back\\slash"), std::string("tab\there"),
        std::string("\x01"), std::string("caf\xc3\xa9"), std::string("bad \xff byte"),
        std::string("~ and \x7f"), std::string(1, '\0')}) {
    std::string fast = "x";
    AppendJsonString(fast, value);
    std::string shared = "x";
    text::AppendJsonString(shared, value);
    EXPECT_EQ(fast, shared) << value;
  }
  // Every byte value at every position of strings of 1 to 24 bytes (the bytewise path below 8
  // bytes, the 8-byte blocks and the overlapping last block).
  for (size_t length = 1; length <= 24; ++length) {
    for (int byte = 0; byte < 256; ++byte) {
      for (size_t at = 0; at < length; ++at) {
        std::string value(length, 'a');
        value[at] = static_cast<char>(byte);
        std::string fast = "x";
        AppendJsonString(fast, value);
        std::string shared = "x";
        text::AppendJsonString(shared, value);
        ASSERT_EQ(fast, shared) << "length " << length << " byte " << byte << " at " << at;
      }
    }
  }
  std::string out;
  AppendJsonString(out, "model_name");
  EXPECT_EQ(out, "\"model_name\"");
}

// A resource is written once per request, however many spans share it: a 256 KiB resource with
// 2,000 spans took ~510 MB when every row held its own copy. Its mapped columns (thread, run,
// project, label, tenant) are shared the same way; a span's own value still wins.
TEST(CollectorMapping, RowsShareTheirResourceTextInsteadOfCopyingIt) {
  ExportRequest request;
  auto* rs = request.add_resource_spans();
  const std::string big(256 << 10, 'r');
  Add(rs->mutable_resource()->mutable_attributes(), "big")->mutable_value()->set_string_value(big);
  const std::string thread(64 << 10, 't');
  Add(rs->mutable_resource()->mutable_attributes(), "vllora.thread_id")
      ->mutable_value()
      ->set_string_value(thread);
  Add(rs->mutable_resource()->mutable_attributes(), "vllora.tenant")
      ->mutable_value()
      ->set_string_value("res-tenant");
  auto* scope = rs->add_scope_spans();
  scope->mutable_scope()->set_name("scope.name");
  constexpr int kSpans = 2000;
  for (int i = 0; i < kSpans; ++i) {
    Span* span = scope->add_spans();
    span->set_trace_id(kTraceId);
    std::string id = kSpanId;
    id[7] = static_cast<char>(i);
    id[6] = static_cast<char>(i >> 8);
    span->set_span_id(id);
    span->set_name("s");
    if (i == 7)
      Add(span->mutable_attributes(), "vllora.thread_id")->mutable_value()->set_int_value(7);
  }
  DecodedRequest decoded;
  std::string error;
  const size_t before = vllora::testing::heap::live.load();
  vllora::testing::heap::ResetPeak();
  ASSERT_TRUE(MapExportRequestInto(request, "hdr", &decoded, &error)) << error;
  // One copy of each big text in the batch (its growth by doubling included), not 2,000.
  EXPECT_LT(vllora::testing::heap::peak.load() - before,
            4 * (big.size() + thread.size()) + (4u << 20));
  ASSERT_EQ(decoded.batch.size(), static_cast<size_t>(kSpans));
  EXPECT_LT(decoded.batch.text.size(), big.size() + thread.size() + kSpans * 200u);
  const nlohmann::json resource_json = {
      {"big", big}, {"vllora.thread_id", thread}, {"vllora.tenant", "res-tenant"}};
  const auto& first = decoded.batch.rows[0];
  for (size_t i = 0; i < decoded.batch.size(); ++i) {
    const auto& row = decoded.batch.rows[i];
    ASSERT_EQ(row.offset[SpanBatch::kResource], first.offset[SpanBatch::kResource]) << i;
    ASSERT_EQ(row.offset[SpanBatch::kTenant], first.offset[SpanBatch::kTenant]) << i;
    ASSERT_EQ(row.offset[SpanBatch::kScopeName], first.offset[SpanBatch::kScopeName]) << i;
    EXPECT_EQ(decoded.batch.Text(i, SpanBatch::kTenant), "res-tenant");
    if (i == 7) {
      EXPECT_EQ(decoded.batch.Text(i, SpanBatch::kThreadId), "7");
    } else {
      ASSERT_EQ(row.offset[SpanBatch::kThreadId], first.offset[SpanBatch::kThreadId]) << i;
    }
  }
  EXPECT_EQ(nlohmann::json::parse(*decoded.batch.Text(0, SpanBatch::kResource)), resource_json);
  EXPECT_EQ(decoded.batch.Text(0, SpanBatch::kThreadId), thread);
  EXPECT_EQ(decoded.batch.Text(kSpans - 1, SpanBatch::kScopeName), "scope.name");
  EXPECT_EQ(nlohmann::json::parse(*decoded.batch.Text(kSpans - 1, SpanBatch::kResource)),
            resource_json);
}

// Rows without their own or a resource tenant share one copy of the header's (or the default).
TEST(CollectorMapping, HeaderAndDefaultTenantsAreWrittenOncePerRequest) {
  ExportRequest request;
  AddSpan(request);
  Span* second = AddSpan(request);
  second->set_span_id(kParentId);
  for (const std::string header : {"hdr", ""}) {
    DecodedRequest decoded;
    std::string error;
    ASSERT_TRUE(MapExportRequestInto(request, header, &decoded, &error)) << error;
    ASSERT_EQ(decoded.batch.size(), 2u);
    EXPECT_EQ(decoded.batch.Text(0, SpanBatch::kTenant), header.empty() ? "default" : header);
    EXPECT_EQ(decoded.batch.rows[0].offset[SpanBatch::kTenant],
              decoded.batch.rows[1].offset[SpanBatch::kTenant]);
    EXPECT_EQ(decoded.batch.Text(1, SpanBatch::kResource), "{}");
    EXPECT_EQ(decoded.batch.Text(1, SpanBatch::kScopeName), std::nullopt);
  }
}

}  // namespace
}  // namespace vllora::collector::internal
