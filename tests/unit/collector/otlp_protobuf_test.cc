#include "collector/otlp_protobuf.h"

#include <gtest/gtest.h>

namespace vllora::collector::internal {
namespace {

ExportRequest OneSpan(const std::string& name) {
  ExportRequest request;
  auto* span = request.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x01'));
  span->set_span_id(std::string(8, '\x02'));
  span->set_name(name);
  auto* kv = span->add_attributes();
  kv->set_key("k");
  kv->mutable_value()->set_string_value("v");
  return request;
}

TEST(CollectorOtlpProtobuf, ParsesAValidRequest) {
  const std::string bytes = OneSpan("ok").SerializeAsString();
  ExportRequest parsed;
  std::string error;
  ASSERT_TRUE(ParseOtlpProtobuf(bytes, &parsed, &error));
  EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).spans(0).name(), "ok");
}

TEST(CollectorOtlpProtobuf, RepairsInvalidUtf8Strings) {
  // Serialize a valid name of the same length, then corrupt its bytes on the wire.
  std::string bytes = OneSpan("abcXdef").SerializeAsString();
  const size_t at = bytes.find("abcXdef");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] = '\xff';
  ExportRequest parsed;
  std::string error;
  ASSERT_TRUE(ParseOtlpProtobuf(bytes, &parsed, &error)) << error;
  EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).spans(0).name(),
            "abc\xEF\xBF\xBD"
            "def");
  EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).spans(0).attributes(0).value().string_value(),
            "v");
}

TEST(CollectorOtlpProtobuf, TruncatedAndGarbageAreRefused) {
  const std::string bytes = OneSpan("name").SerializeAsString();
  ExportRequest parsed;
  std::string error;
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    const std::string truncated = bytes.substr(0, cut);
    ExportRequest r;
    // A prefix may happen to be a valid shorter message; it must never crash, and a refused one
    // says why.
    if (!ParseOtlpProtobuf(truncated, &r, &error)) {
      EXPECT_EQ(error, "malformed protobuf ExportTraceServiceRequest");
    }
  }
  EXPECT_FALSE(ParseOtlpProtobuf(bytes.substr(0, bytes.size() - 1), &parsed, &error));
  EXPECT_FALSE(ParseOtlpProtobuf("\xff\xff\xff\xff", &parsed, &error));
  EXPECT_EQ(CountSpans(parsed), 0u);
}

}  // namespace
}  // namespace vllora::collector::internal
