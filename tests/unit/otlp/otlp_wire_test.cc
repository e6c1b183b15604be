// The direct wire encoder (src/otlp/otlp_wire.h) against the message-building path
// (AppendToRequest + SerializeToString): for many generated batches both must give the same
// bytes, and the generated parser must read the new bytes back to an equal message.
#include "otlp/otlp_wire.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/otlp_recordable.h"
#include "support/otlp_span_fixtures.h"
#include "vllora/otlp/otlp_encoding.h"

namespace vllora::otlp {
namespace {

namespace pb_collector = ::opentelemetry::proto::collector::trace::v1;
using Batch = std::vector<std::unique_ptr<otel::SpanData>>;

std::string OldPath(const Batch& batch) {
  pb_collector::ExportTraceServiceRequest request;
  internal::AppendToRequest(batch, request);
  std::string out;
  EXPECT_TRUE(request.SerializeToString(&out));
  return out;
}

// Encodes with the new path (into a reused, dirty buffer) and checks it against the old one.
void ExpectSameAsOldPath(const Batch& batch, std::string& buffer) {
  internal::EncodeExportRequest(batch, buffer);
  const std::string expected = OldPath(batch);
  EXPECT_EQ(buffer, expected);
  pb_collector::ExportTraceServiceRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(buffer));
  pb_collector::ExportTraceServiceRequest reference;
  internal::AppendToRequest(batch, reference);
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(reference, parsed)) << diff;
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Coin() { return Below(2) == 0; }

  // Empty, ASCII, multi-byte, long (> 127 and > 16 KiB, to exercise length-varint growth), or
  // invalid UTF-8.
  std::string Text() {
    switch (Below(9)) {
      case 0:
        return "";
      case 1:
        return "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80";
      case 2:
        return std::string(130 + Below(200), 'x');
      case 3:
        return std::string(Below(3) == 0 ? 17000 : 300, '\xFF');  // each byte -> 3 bytes
      case 4:
        return "bad\xC0\xAF overlong \xED\xA0\x80 surrogate \xF4\x90\x80\x80 cut \xE2\x9C";
      default: {
        std::string s(Below(24), 'a');
        for (char& c : s) c = static_cast<char>('a' + Below(26));
        return s;
      }
    }
  }

  otel::AttributeValue Value(std::string& storage) {
    switch (Below(8)) {
      case 0:
        return Coin();
      case 1:
        return static_cast<int64_t>(rng_()) - static_cast<int64_t>(rng_());
      case 2:
        return Coin() ? int64_t{0} : std::numeric_limits<int64_t>::min();
      case 3:
        return Coin() ? std::numeric_limits<uint64_t>::max() : uint64_t{rng_()};
      case 4:
        return Coin() ? 0.0 : -1.5e300;
      default:
        storage = Text();
        return std::string_view(storage);
    }
  }

  void Fill(otel::Attributes& attributes, size_t max) {
    if (Below(5) == 0) attributes.SetLimits(2, 16);
    const size_t n = Below(max + 1);
    for (size_t i = 0; i < n; ++i) {
      std::string storage;
      const std::string key = Below(6) == 0 ? Text() : "key." + std::to_string(i);
      attributes.Set(key, Value(storage));
    }
  }

  template <typename Id>
  Id RandomId(bool allow_zero) {
    Id id;
    if (allow_zero && Below(3) == 0) return id;
    for (uint8_t& b : id.bytes) b = static_cast<uint8_t>(rng_());
    return id;
  }

  std::unique_ptr<otel::SpanData> Span(
      const std::vector<std::shared_ptr<const otel::Resource>>& resources,
      const std::vector<std::shared_ptr<const otel::InstrumentationScope>>& scopes) {
    auto span = std::make_unique<otel::SpanData>();
    span->trace_id = RandomId<otel::TraceId>(false);
    span->span_id = RandomId<otel::SpanId>(false);
    span->parent_span_id = RandomId<otel::SpanId>(true);
    if (Below(4) == 0) span->trace_state = Text();
    span->trace_flags = static_cast<uint8_t>(Below(3));
    span->parent_is_remote = Coin();
    span->name = Text();
    span->kind = static_cast<otel::SpanKind>(1 + Below(5));
    span->start_time_unix_nano = Below(5) == 0 ? 0 : rng_() * 1000003ULL;
    span->end_time_unix_nano = Below(5) == 0 ? 0 : rng_() * 1000033ULL;
    Fill(span->attributes, 6);
    const size_t events = Below(4);
    for (size_t i = 0; i < events; ++i) {
      otel::Event event;
      event.name = Text();
      event.time_unix_nano = Below(3) == 0 ? 0 : rng_();
      Fill(event.attributes, 3);
      span->events.push_back(std::move(event));
    }
    const size_t links = Below(3);
    for (size_t i = 0; i < links; ++i) {
      otel::Link link;
      link.context = otel::SpanContext(RandomId<otel::TraceId>(true), RandomId<otel::SpanId>(true),
                                       static_cast<uint8_t>(Below(2)), Coin(),
                                       Below(3) == 0 ? Text() : std::string());
      Fill(link.attributes, 3);
      span->links.push_back(std::move(link));
    }
    span->status_code = static_cast<otel::StatusCode>(Below(3));
    if (Below(3) == 0) span->status_message = Text();
    span->dropped_events_count = Below(3) == 0 ? static_cast<uint32_t>(rng_()) : 0;
    span->dropped_links_count = Below(3) == 0 ? static_cast<uint32_t>(Below(300)) : 0;
    span->resource = resources[Below(resources.size())];
    span->scope = scopes[Below(scopes.size())];
    return span;
  }

 private:
  std::mt19937 rng_;
};

TEST(OtlpWireEncoding, ManyRandomBatchesMatchTheMessagePathByteForByte) {
  Generator gen(12345);
  std::string buffer = "stale contents the encoder must replace";
  std::string into_buffer(100000, '#');  // bigger than most requests: keeps stale bytes
  for (int round = 0; round < 300; ++round) {
    std::vector<std::shared_ptr<const otel::Resource>> resources = {nullptr};
    for (size_t i = 0; i < 1 + gen.Below(3); ++i) {
      otel::Attributes attributes;
      gen.Fill(attributes, 5);
      resources.push_back(std::make_shared<const otel::Resource>(
          otel::Resource::FromAttributes(std::move(attributes), gen.Text())));
    }
    std::vector<std::shared_ptr<const otel::InstrumentationScope>> scopes = {nullptr};
    for (size_t i = 0; i < 1 + gen.Below(3); ++i) {
      scopes.push_back(std::make_shared<const otel::InstrumentationScope>(
          otel::InstrumentationScope{gen.Text(), gen.Text(), gen.Text()}));
    }
    // An equal scope in another object lands in the same ScopeSpans.
    scopes.push_back(std::make_shared<const otel::InstrumentationScope>(*scopes.back()));
    Batch batch;
    const size_t n = gen.Below(40);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(gen.Below(10) == 0 ? nullptr : gen.Span(resources, scopes));
    }
    SCOPED_TRACE("round " + std::to_string(round));
    ExpectSameAsOldPath(batch, buffer);
    const size_t size = internal::EncodeExportRequestInto(batch, into_buffer);
    EXPECT_EQ(std::string_view(into_buffer).substr(0, size), buffer);
    EXPECT_GE(into_buffer.size(), size);
    if (HasFatalFailure()) return;
  }
}

TEST(OtlpWireEncoding, BigBatchNeedsLongerLengthVarints) {
  // 3,000 spans with 1 KiB names: ScopeSpans > 2 MiB, so its 3-byte length guess is too short.
  Batch batch;
  for (int i = 0; i < 3000; ++i) {
    auto span = testing::MakeSimpleSpan(static_cast<uint8_t>(i));
    span->name = std::string(1024, static_cast<char>('a' + i % 26));
    batch.push_back(std::move(span));
  }
  std::string buffer;
  ExpectSameAsOldPath(batch, buffer);
  EXPECT_GT(buffer.size(), size_t{3} << 20);
}

TEST(OtlpWireEncoding, FixturesAndEmptyBatches) {
  std::string buffer;
  Batch batch;
  internal::EncodeExportRequest(batch, buffer);
  EXPECT_EQ(buffer, "");
  batch.push_back(nullptr);
  internal::EncodeExportRequest(batch, buffer);
  EXPECT_EQ(buffer, "");
  batch.push_back(testing::MakeRichSpan());
  batch.push_back(testing::MakeSimpleSpan(7));
  ExpectSameAsOldPath(batch, buffer);
  EXPECT_EQ(EncodeOtlpProtobuf(batch), OldPath(batch));
}

TEST(OtlpWireEncoding, EmptyFieldsAndDefaultsFollowProto3Presence) {
  // Everything empty or zero: no resource, no scope, empty name, zero times, empty key, oneof
  // members holding their default values (which are still written, being a oneof).
  auto span = std::make_unique<otel::SpanData>();
  span->attributes.Set("", std::string_view(""));
  span->attributes.Set("b", false);
  span->attributes.Set("i", int64_t{0});
  span->attributes.Set("d", 0.0);
  span->status_message = "";
  Batch batch;
  batch.push_back(std::move(span));
  std::string buffer;
  ExpectSameAsOldPath(batch, buffer);
  pb_collector::ExportTraceServiceRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(buffer));
  ASSERT_EQ(parsed.resource_spans_size(), 1);
  EXPECT_FALSE(parsed.resource_spans(0).has_resource());
  ASSERT_EQ(parsed.resource_spans(0).scope_spans_size(), 1);
  EXPECT_FALSE(parsed.resource_spans(0).scope_spans(0).has_scope());
  const auto& out = parsed.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_FALSE(out.has_status());
  ASSERT_EQ(out.attributes_size(), 4);
  EXPECT_EQ(out.attributes(0).key(), "");
  EXPECT_TRUE(out.attributes(0).value().has_string_value());
  EXPECT_TRUE(out.attributes(1).value().has_bool_value());
  EXPECT_TRUE(out.attributes(2).value().has_int_value());
  EXPECT_TRUE(out.attributes(3).value().has_double_value());
  EXPECT_EQ(out.flags(), 0x100u);
}

TEST(OtlpWireEncoding, InvalidUtf8IsRepairedExactly) {
  auto span = testing::MakeSimpleSpan(1);
  span->name =
      "a\xFF"
      "b\xC3";
  span->attributes.Set("k\x80", std::string_view("v\xE2\x82"));
  span->status_code = otel::StatusCode::kError;
  span->status_message = "\xF5";
  Batch batch;
  batch.push_back(std::move(span));
  std::string buffer;
  ExpectSameAsOldPath(batch, buffer);
  pb_collector::ExportTraceServiceRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(buffer));
  const auto& out = parsed.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(out.name(),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(out.status().message(), "\xEF\xBF\xBD");
  const auto& kv = out.attributes(out.attributes_size() - 1);
  EXPECT_EQ(kv.key(), "k\xEF\xBF\xBD");
  EXPECT_EQ(kv.value().string_value(), "v\xEF\xBF\xBD\xEF\xBF\xBD");
}

// The string writer copies ASCII a word at a time (4/8-byte loads, the last one overlapping) and
// checks only non-ASCII text fully: every length around the word sizes, with a valid multi-byte
// character, a lone 0x80..0xFF byte and a cut sequence at each position, as name, key and value,
// must match the message path byte for byte (which checks and repairs byte by byte).
TEST(OtlpWireEncoding, StringFastPathAtEveryLengthAndPosition) {
  const std::vector<std::string> inserts = {"\xC3\xA9", "\xE2\x9C\x93", "\xF0\x9F\x98\x80", "\xFF",
                                            "\x80",     "\xC3",         "\xED\xA0\x80",     "\x7F"};
  std::string buffer(64, '#');
  size_t cases = 0;
  for (size_t length = 0; length <= 40; ++length) {
    std::string ascii(length, ' ');
    for (size_t i = 0; i < length; ++i) ascii[i] = static_cast<char>('!' + (i * 7) % 94);
    std::vector<std::string> texts = {ascii};
    for (const std::string& insert : inserts) {
      for (size_t at = 0; at <= length; ++at) {
        std::string text = ascii;
        text.insert(at, insert);
        texts.push_back(std::move(text));
      }
    }
    Batch batch;
    for (const std::string& text : texts) {
      auto span = testing::MakeSimpleSpan(static_cast<uint8_t>(length));
      span->name = text;
      span->attributes.Set(text.empty() ? std::string("k") : text, std::string_view(text));
      batch.push_back(std::move(span));
      ++cases;
    }
    SCOPED_TRACE("length " + std::to_string(length));
    ExpectSameAsOldPath(batch, buffer);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(cases, size_t{41} + 8 * (41 * 42 / 2));
}

TEST(OtlpWireEncoding, StringFastPathExactBytes) {
  // Hand-checked output for the boundary lengths: tag 0x2A (field 5, length-delimited) + length
  // + the bytes, repaired where ill-formed.
  const std::pair<std::string, std::string> cases[] = {
      {"abcdefg", "abcdefg"},                                    // 7: 4-byte words
      {"abcdefgh", "abcdefgh"},                                  // 8: one word
      {"abcdefghi", "abcdefghi"},                                // 9: two overlapping words
      {"abcdefghijklmnop", "abcdefghijklmnop"},                  // 16
      {"abcdefghijklmnopq", "abcdefghijklmnopq"},                // 17
      {"abcdefghijklmnop\xC3\xA9", "abcdefghijklmnop\xC3\xA9"},  // non-ASCII in the last word
      {"abcdefg\xFF", "abcdefg\xEF\xBF\xBD"},                    // invalid at byte 8
      {"abcdefghijklmnopq\xFF", "abcdefghijklmnopq\xEF\xBF\xBD"},
      {"\xFF", "\xEF\xBF\xBD"},
      {"ab\x80", "ab\xEF\xBF\xBD"},
  };
  for (const auto& [in, want] : cases) {
    SCOPED_TRACE(in);
    auto span = std::make_unique<otel::SpanData>();
    span->name = in;
    Batch batch;
    batch.push_back(std::move(span));
    std::string buffer;
    ExpectSameAsOldPath(batch, buffer);
    pb_collector::ExportTraceServiceRequest parsed;
    ASSERT_TRUE(parsed.ParseFromString(buffer));
    EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).spans(0).name(), want);
    const std::string field = std::string("\x2A") + static_cast<char>(want.size()) + want;
    EXPECT_NE(buffer.find(field), std::string::npos);
  }
}

// Attributes are written with lengths computed up front: sizes around the 1-byte / 2-byte
// length-varint boundaries (127/128 bytes of value, AnyValue and KeyValue), every value type,
// empty keys and values.
TEST(OtlpWireEncoding, AttributeLengthsAroundVarintBoundaries) {
  Batch batch;
  for (size_t key_length :
       {size_t{0}, size_t{1}, size_t{7}, size_t{120}, size_t{127}, size_t{128}, size_t{200}}) {
    auto span = testing::MakeSimpleSpan(static_cast<uint8_t>(key_length));
    const std::string key(key_length, 'k');
    std::vector<std::string> values;
    for (size_t value_length = 0; value_length <= 140; value_length += 1) {
      values.push_back(std::string(value_length, static_cast<char>('a' + value_length % 26)));
    }
    size_t i = 0;
    for (const std::string& value : values) {
      span->attributes.Set(key + std::to_string(i++), std::string_view(value));
    }
    span->attributes.Set(key + "t", true);
    span->attributes.Set(key + "f", false);
    span->attributes.Set(key + "n", int64_t{-1});
    span->attributes.Set(key + "z", int64_t{0});
    span->attributes.Set(key + "big", int64_t{1} << 62);
    span->attributes.Set(key + "u", uint64_t{18446744073709551615U});
    span->attributes.Set(key + "d", 2.5);
    span->attributes.Set(key + "\xC3\xA9", std::string_view("\xE2\x9C\x93"));
    span->attributes.Set(key + "\xFF", std::string_view("ok"));
    span->attributes.Set(key + "x", std::string_view("bad\xFF"));
    batch.push_back(std::move(span));
  }
  std::string buffer;
  ExpectSameAsOldPath(batch, buffer);
}

// One resource and scope object for the whole batch (the usual case) is written without
// building the groups; nulls in between, an equal scope in another object, a null resource
// and a null scope must still give the message path's bytes.
TEST(OtlpWireEncoding, OneTracerBatchesMatchTheGroupedPath) {
  auto resource = std::make_shared<const otel::Resource>(otel::Resource::FromAttributes(
      otel::Attributes{{"service.name", std::string_view("svc")}}, "https://schema/1"));
  auto scope = std::make_shared<const otel::InstrumentationScope>(
      otel::InstrumentationScope{"lib", "1.0", "https://schema/scope"});
  auto equal_scope = std::make_shared<const otel::InstrumentationScope>(*scope);
  const auto make = [](uint8_t seed, std::shared_ptr<const otel::Resource> r,
                       std::shared_ptr<const otel::InstrumentationScope> s) {
    auto span = testing::MakeSimpleSpan(seed);
    span->resource = std::move(r);
    span->scope = std::move(s);
    return span;
  };
  std::string buffer;
  {
    Batch batch;
    batch.push_back(nullptr);
    for (uint8_t i = 0; i < 5; ++i) {
      batch.push_back(make(i, resource, scope));
      batch.push_back(nullptr);
    }
    ExpectSameAsOldPath(batch, buffer);
    pb_collector::ExportTraceServiceRequest parsed;
    ASSERT_TRUE(parsed.ParseFromString(buffer));
    ASSERT_EQ(parsed.resource_spans_size(), 1);
    ASSERT_EQ(parsed.resource_spans(0).scope_spans_size(), 1);
    EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).spans_size(), 5);
    EXPECT_EQ(parsed.resource_spans(0).schema_url(), "https://schema/1");
    EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).schema_url(), "https://schema/scope");
  }
  {
    Batch batch;  // an equal scope in another object: the grouped path, one ScopeSpans
    batch.push_back(make(1, resource, scope));
    batch.push_back(make(2, resource, equal_scope));
    batch.push_back(make(3, resource, scope));
    ExpectSameAsOldPath(batch, buffer);
  }
  {
    Batch batch;  // no resource, no scope
    batch.push_back(make(1, nullptr, nullptr));
    batch.push_back(make(2, nullptr, nullptr));
    ExpectSameAsOldPath(batch, buffer);
  }
  {
    Batch batch;  // the resource changes midway
    batch.push_back(make(1, resource, scope));
    batch.push_back(make(2, nullptr, scope));
    batch.push_back(make(3, resource, scope));
    ExpectSameAsOldPath(batch, buffer);
  }
}

// Each value type has its own one-pass path (KeyValue under 128 bytes, non-empty key). Every
// type against the message path: key lengths that put the entry at 126/127/128/129 bytes,
// varints of every length (negative int64s are 10 bytes), uint64 on both sides of INT64_MAX,
// empty keys, valid non-ASCII keys (kept as they are) and invalid ones (repaired), with the
// exact bytes of a few entries checked by hand.
TEST(OtlpWireEncoding, EveryValueTypeOnTheOnePassPath) {
  std::vector<otel::AttributeValue> values = {
      true,
      false,
      int64_t{0},
      int64_t{1},
      int64_t{-1},
      std::numeric_limits<int64_t>::min(),
      std::numeric_limits<int64_t>::max(),
      uint64_t{0},
      uint64_t{127},
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1,
      std::numeric_limits<uint64_t>::max(),
      0.0,
      -0.0,
      2.5,
      -std::numeric_limits<double>::infinity(),
      std::numeric_limits<double>::denorm_min(),
      std::string_view(""),
      std::string_view("v"),
  };
  for (int shift = 0; shift < 64; shift += 7) {
    // In unsigned arithmetic (2^63 - 1 and -2^63 would overflow int64_t), then converted
    // modulo 2^64: 2^shift, 2^shift - 1 and -2^shift.
    const uint64_t bit = uint64_t{1} << shift;
    values.push_back(static_cast<int64_t>(bit));
    values.push_back(static_cast<int64_t>(bit - 1));
    values.push_back(static_cast<int64_t>(uint64_t{0} - bit));
  }
  const std::vector<std::string> key_heads = {"k", "\xC3\xA9", "\xE2\x9C\x93", "\xFF", "k\x80"};
  Batch batch;
  size_t attributes = 0;
  for (const std::string& head : key_heads) {
    for (size_t key_length :
         {size_t{1}, size_t{8}, size_t{17}, size_t{108}, size_t{109}, size_t{110}, size_t{111},
          size_t{112}, size_t{113}, size_t{114}, size_t{115}, size_t{116}, size_t{117}, size_t{118},
          size_t{119}, size_t{120}, size_t{121}, size_t{122}, size_t{130}}) {
      if (key_length < head.size()) continue;
      auto span = testing::MakeSimpleSpan(static_cast<uint8_t>(key_length));
      std::string key = head + std::string(key_length - head.size(), 'x');
      for (size_t i = 0; i < values.size(); ++i) {
        key.back() = static_cast<char>('!' + i % 90);  // distinct keys of the same length
        if (key.size() > 1) key[key.size() - 2] = static_cast<char>('!' + i / 90);
        span->attributes.Set(key, values[i]);
        ++attributes;
      }
      batch.push_back(std::move(span));
    }
  }
  {
    auto span = testing::MakeSimpleSpan(200);  // empty keys, one per type
    span->attributes.Set("", true);
    batch.push_back(std::move(span));
    for (const otel::AttributeValue& value : values) {
      auto one = testing::MakeSimpleSpan(201);
      one->attributes.Set("", value);
      batch.push_back(std::move(one));
    }
  }
  EXPECT_GT(attributes, size_t{3000});
  std::string buffer;
  ExpectSameAsOldPath(batch, buffer);
  // and each span alone from an empty buffer (growth mid-attributes)
  for (auto& span : batch) {
    Batch one;
    one.push_back(std::move(span));
    std::string fresh;
    ExpectSameAsOldPath(one, fresh);
    if (HasFatalFailure()) return;
  }

  // Exact bytes: tag 0x4A (Span.attributes), entry length, key, then the AnyValue.
  const auto entry_bytes = [](std::string_view key, const otel::AttributeValue& value) {
    auto span = std::make_unique<otel::SpanData>();
    span->attributes.Set(key, value);
    Batch one;
    one.push_back(std::move(span));
    std::string out;
    internal::EncodeExportRequest(one, out);
    const size_t at = out.find('\x4A');  // the entry, without the Span's flags after it
    return at + 1 >= out.size() ? std::string()
                                : out.substr(at, 2 + static_cast<uint8_t>(out[at + 1]));
  };
  using namespace std::string_literals;
  EXPECT_EQ(entry_bytes("n", int64_t{-1}),
            "\x4A\x10\x0A\x01n\x12\x0B\x18\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01"s);
  EXPECT_EQ(entry_bytes("t", true), "\x4A\x07\x0A\x01t\x12\x02\x10\x01"s);
  EXPECT_EQ(entry_bytes("f", false), "\x4A\x07\x0A\x01\x66\x12\x02\x10\x00"s);
  EXPECT_EQ(entry_bytes("d", 2.5),
            "\x4A\x0E\x0A\x01\x64\x12\x09\x21\x00\x00\x00\x00\x00\x00\x04\x40"s);
  EXPECT_EQ(entry_bytes("u", uint64_t{300}), "\x4A\x08\x0A\x01u\x12\x03\x18\xAC\x02"s);
  EXPECT_EQ(entry_bytes("\xC3\xA9", int64_t{5}), "\x4A\x08\x0A\x02\xC3\xA9\x12\x02\x18\x05"s);
  EXPECT_EQ(entry_bytes("\xFF", int64_t{5}), "\x4A\x09\x0A\x03\xEF\xBF\xBD\x12\x02\x18\x05"s);
}

// Enough attributes that the output buffer grows while they are written (the one-pass paths
// refresh their room limit after a write that grew it), from an empty buffer and from a reused
// one, and spans whose length needs 1, 2 and 3 bytes (the Span's 2-byte guess is fixed up).
TEST(OtlpWireEncoding, BufferGrowsWhileAttributesAreWritten) {
  Batch batch;
  for (size_t count : {size_t{0}, size_t{5}, size_t{300}, size_t{2000}}) {
    auto span = testing::MakeSimpleSpan(static_cast<uint8_t>(count % 256));
    for (size_t i = 0; i < count; ++i) {
      const std::string key = "attribute." + std::to_string(i);
      switch (i % 4) {
        case 0:
          span->attributes.Set(key, static_cast<int64_t>(i) * -977);
          break;
        case 1:
          span->attributes.Set(key, std::string_view("a twenty-byte value"));
          break;
        case 2:
          span->attributes.Set(key, i % 3 == 0);
          break;
        default:
          span->attributes.Set(key, static_cast<double>(i) / 3);
          break;
      }
    }
    ASSERT_EQ(span->attributes.size(), count);
    batch.push_back(std::move(span));
  }
  batch.push_back(std::make_unique<otel::SpanData>());  // an empty span: 2 bytes long
  for (size_t i = 0; i < batch.size(); ++i) {
    Batch one;
    one.push_back(std::move(batch[i]));
    std::string fresh;
    ExpectSameAsOldPath(one, fresh);
    batch[i] = std::move(one.front());
  }
  std::string reused;
  ExpectSameAsOldPath(batch, reused);
  EXPECT_GT(reused.size(), size_t{60000});
}

}  // namespace
}  // namespace vllora::otlp
