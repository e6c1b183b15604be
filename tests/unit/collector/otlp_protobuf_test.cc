#include "collector/otlp_protobuf.h"

#include <gtest/gtest.h>

#include "unit/collector/counting_heap.h"

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

// The repair copies nothing per nesting level: a 2 MB invalid string 19 array levels below an
// attribute held ~220 MB when every level copied its payload and its repaired bytes.
TEST(CollectorOtlpProtobuf, ADeepInvalidStringIsRepairedWithoutACopyPerLevel) {
  ExportRequest request = OneSpan("deep");
  auto* value = request.mutable_resource_spans(0)
                    ->mutable_scope_spans(0)
                    ->mutable_spans(0)
                    ->mutable_attributes(0)
                    ->mutable_value();
  constexpr int kLevels = 19;  // the request nests 44 messages deep, within protobuf's 100
  for (int i = 0; i < kLevels; ++i) value = value->mutable_array_value()->add_values();
  const std::string marker = "<<repair me>>";
  value->set_string_value(marker + std::string(2 << 20, 'x'));
  std::string bytes = request.SerializeAsString();
  const size_t at = bytes.find(marker);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 2] = '\xff';

  ExportRequest parsed;
  std::string error;
  const size_t before = vllora::testing::heap::live.load();
  vllora::testing::heap::ResetPeak();
  ASSERT_TRUE(ParseOtlpProtobuf(bytes, &parsed, &error)) << error;
  // The repaired copy as it grows, and the parsed message: a few times 2 MB, not 44 times.
  EXPECT_LT(vllora::testing::heap::peak.load() - before, 16u << 20);
  const auto* got = &parsed.resource_spans(0).scope_spans(0).spans(0).attributes(0).value();
  for (int i = 0; i < kLevels; ++i) {
    ASSERT_EQ(got->array_value().values_size(), 1) << i;
    got = &got->array_value().values(0);
  }
  EXPECT_EQ(got->string_value().substr(0, 16),
            "<<\xEF\xBF\xBD"
            "epair me>>x");
  EXPECT_EQ(got->string_value().size(), marker.size() + 2 + (2u << 20));
  EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).spans(0).name(), "deep");
}

}  // namespace
}  // namespace vllora::collector::internal
