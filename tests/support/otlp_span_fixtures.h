// Test helper (header-only, needs vllora::otel): hand-built SpanData that exercises every field
// the OTLP encoders write — typed attributes, events, links, status, kind, remote parent,
// resource and scope. Used by the otlp unit tests and the otlp_grpc integration tests.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "vllora/otel/span_data.h"

namespace vllora::testing {

/// Fixed ids so tests can compare hex strings.
inline otel::TraceId FixtureTraceId(uint8_t seed = 1) {
  otel::TraceId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(seed * 16 + i);
  return id;
}

inline otel::SpanId FixtureSpanId(uint8_t seed) {
  otel::SpanId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(0xA0 + seed + i);
  return id;
}

inline std::shared_ptr<const otel::Resource> FixtureResource(std::string_view service = "svc") {
  return std::make_shared<const otel::Resource>(otel::Resource::FromAttributes(
      otel::Attributes{{"service.name", service}, {"host.cores", int64_t{8}}},
      "https://opentelemetry.io/schemas/1.24.0"));
}

inline std::shared_ptr<const otel::InstrumentationScope> FixtureScope(
    std::string name = "my.lib", std::string version = "1.2.3") {
  return std::make_shared<const otel::InstrumentationScope>(otel::InstrumentationScope{
      std::move(name), std::move(version), "https://opentelemetry.io/schemas/1.21.0"});
}

/// uint64 attribute value that does not fit in int64 (exported as its decimal string).
inline constexpr uint64_t kFixtureBigUnsigned = std::numeric_limits<uint64_t>::max();

/// A span with every field set: 9 attributes of all types (including a uint64 above INT64_MAX,
/// a non-ASCII string and one with characters JSON must escape), 2 events, 2 links (one remote),
/// ERROR status, CLIENT kind and a remote parent.
inline std::unique_ptr<otel::SpanData> MakeRichSpan(
    std::shared_ptr<const otel::Resource> resource = FixtureResource(),
    std::shared_ptr<const otel::InstrumentationScope> scope = FixtureScope()) {
  auto span = std::make_unique<otel::SpanData>();
  span->trace_id = FixtureTraceId(1);
  span->span_id = FixtureSpanId(1);
  span->parent_span_id = FixtureSpanId(2);
  span->trace_state = "vendor=abc,other=1";
  span->trace_flags = 1;
  span->parent_is_remote = true;
  span->name = "chat gpt-4o";
  span->kind = otel::SpanKind::kClient;
  span->start_time_unix_nano = 1700000000123456789ULL;
  span->end_time_unix_nano = 1700000001987654321ULL;
  span->attributes.Set("str", std::string_view("hello"));
  span->attributes.Set("str.unicode", std::string_view("h\xC3\xA9llo \xE2\x9C\x93"));
  span->attributes.Set("str.escape", std::string_view("quote\" backslash\\ nl\n tab\t"));
  span->attributes.Set("str.empty", std::string_view(""));
  span->attributes.Set("bool.true", true);
  span->attributes.Set("int.neg", int64_t{-42});
  span->attributes.Set("int.max", std::numeric_limits<int64_t>::max());
  span->attributes.Set("uint.small", uint64_t{7});
  span->attributes.Set("uint.big", kFixtureBigUnsigned);
  span->attributes.Set("double", 0.1);
  otel::Event first;
  first.name = "first";
  first.time_unix_nano = 1700000000500000000ULL;
  first.attributes.Set("event.n", int64_t{1});
  first.attributes.Set("event.flag", false);
  span->events.push_back(std::move(first));
  otel::Event second;
  second.name = "second";
  second.time_unix_nano = 1700000000600000000ULL;
  span->events.push_back(std::move(second));
  otel::Link remote_link;
  remote_link.context =
      otel::SpanContext(FixtureTraceId(2), FixtureSpanId(3), 1, /*is_remote=*/true, "k=v");
  remote_link.attributes.Set("link.kind", std::string_view("follows"));
  span->links.push_back(std::move(remote_link));
  otel::Link local_link;
  local_link.context = otel::SpanContext(FixtureTraceId(1), FixtureSpanId(4), 0, false);
  span->links.push_back(std::move(local_link));
  span->status_code = otel::StatusCode::kError;
  span->status_message = "upstream failed";
  span->dropped_events_count = 3;
  span->dropped_links_count = 4;
  span->resource = std::move(resource);
  span->scope = std::move(scope);
  return span;
}

/// A minimal root span (no parent, unset status, internal kind).
inline std::unique_ptr<otel::SpanData> MakeSimpleSpan(
    uint8_t seed, std::shared_ptr<const otel::Resource> resource = FixtureResource(),
    std::shared_ptr<const otel::InstrumentationScope> scope = FixtureScope()) {
  auto span = std::make_unique<otel::SpanData>();
  span->trace_id = FixtureTraceId(3);
  span->span_id = FixtureSpanId(static_cast<uint8_t>(10 + seed));
  span->trace_flags = 1;
  span->name = "simple-" + std::to_string(seed);
  span->kind = otel::SpanKind::kInternal;
  span->start_time_unix_nano = 1000 + seed;
  span->end_time_unix_nano = 2000 + seed;
  span->resource = std::move(resource);
  span->scope = std::move(scope);
  return span;
}

}  // namespace vllora::testing
