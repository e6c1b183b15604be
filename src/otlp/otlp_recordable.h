// Private: conversion of SpanData into the generated OTLP protobuf messages.
//
// Exposes protobuf types, so it lives in src/ and is only included by our own modules
// (otlp, otlp_grpc, otlp_http). The public, std-only entry points are in
// include/vllora/otlp/otlp_encoding.h.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "vllora/otel/span_data.h"

namespace vllora::otlp::internal {

namespace otlp_collector = ::opentelemetry::proto::collector::trace::v1;
namespace otlp_common = ::opentelemetry::proto::common::v1;
namespace otlp_trace = ::opentelemetry::proto::trace::v1;

/// Span.flags bit: the is-remote bit is meaningful.
inline constexpr uint32_t kSpanFlagsHasIsRemote = 0x100;
/// Span.flags bit: the parent (or linked) context is remote.
inline constexpr uint32_t kSpanFlagsIsRemote = 0x200;

/// The OTLP `flags` of a span or link: the W3C trace flags plus the has-is-remote / is-remote
/// bits. One definition for the message encoder and the wire encoder.
inline uint32_t SpanFlags(uint8_t trace_flags, bool is_remote) noexcept {
  return uint32_t{trace_flags} | kSpanFlagsHasIsRemote | (is_remote ? kSpanFlagsIsRemote : 0U);
}

/// The spans of one instrumentation scope within a ResourceSpans, in batch order.
struct ScopeGroup {
  const otel::InstrumentationScope* scope;
  std::vector<const otel::SpanData*> spans;
};
/// The spans of one resource, by scope in first-appearance order.
struct ResourceGroup {
  const otel::Resource* resource;
  std::vector<ScopeGroup> scopes;
};
/// Groups `batch` by resource (same object) then scope (same name, version and schema URL), in
/// first-appearance order, as OTLP needs each ResourceSpans / ScopeSpans contiguous. Null
/// entries are skipped. Linear search: a batch almost always has one resource and a few scopes.
/// Both encoders (messages and wire bytes) use it. Errors: std::bad_alloc propagates.
std::vector<ResourceGroup> GroupByResourceAndScope(
    std::span<const std::unique_ptr<otel::SpanData>> batch);

/// Appends `batch` to `request`, grouping by resource then scope (first-appearance order).
/// Null entries are skipped. Errors: std::bad_alloc propagates.
void AppendToRequest(std::span<const std::unique_ptr<otel::SpanData>> batch,
                     otlp_collector::ExportTraceServiceRequest& request);

/// Fills `out` from one attribute value (see otlp_encoding.h for the uint64 rule).
void SetAnyValue(const otel::AttributeValue& value, otlp_common::AnyValue& out);

/// Copies `attributes` into a repeated KeyValue field.
void AppendAttributes(const otel::Attributes& attributes,
                      google::protobuf::RepeatedPtrField<otlp_common::KeyValue>& out);

/// Assigns `text` to `out`, replacing every byte that is not part of a valid UTF-8 sequence with
/// U+FFFD. Valid input (the usual case) is copied as it is.
void AssignUtf8(std::string_view text, std::string& out);

/// Writes `request` as compact OTLP/JSON to `out` (appending).
void WriteOtlpJson(const otlp_collector::ExportTraceServiceRequest& request, std::string& out);

}  // namespace vllora::otlp::internal
