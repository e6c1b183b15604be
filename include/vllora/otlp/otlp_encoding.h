// OTLP encodings of finished spans: the binary protobuf ExportTraceServiceRequest and its
// OTLP/JSON form.
//
// Use these to build a transport of your own (the OTLP/HTTP exporter does) or to write spans to a
// file. Spans are grouped into ResourceSpans by resource (the shared Resource object) and then
// into ScopeSpans by instrumentation scope, in the order they first appear in the batch.
// The gRPC transport is in otlp_grpc_exporter.h.
//
// Mapping details shared by both encodings:
//  * uint64 attribute values that fit in int64 become `int_value`; larger ones become the decimal
//    text as `string_value` (OTLP has no unsigned integer).
//  * Span.flags = W3C trace flags | 0x100 (is-remote known) | 0x200 if the parent is remote;
//    Link.flags likewise for the linked context.
//  * Strings that are not valid UTF-8 have each invalid byte replaced by U+FFFD, because proto3
//    string fields must be UTF-8 and receivers reject requests that are not.
//  * A span without a parent has an empty parent_span_id; Status is omitted when it is UNSET with
//    an empty message.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "vllora/otel/span_data.h"

namespace vllora::otlp {

/// Encodes `batch` as a serialized OTLP `ExportTraceServiceRequest` (application/x-protobuf).
/// Null entries are skipped.
/// The bytes are written directly from the SpanData (no intermediate protobuf messages) and are
/// the canonical serialization (fields in field-number order, minimal varints).
/// Thread-safety: reentrant; reads `batch` only. Allocation: the returned string.
/// Errors: std::bad_alloc propagates.
std::string EncodeOtlpProtobuf(std::span<const std::unique_ptr<otel::SpanData>> batch);

/// As above, replacing the contents of `out`: reuse one string across batches to encode
/// without allocating once it has grown to the largest batch.
/// Thread-safety: reentrant; reads `batch` only. Allocation: grows `out` only.
/// Errors: std::bad_alloc propagates.
void EncodeOtlpProtobuf(std::span<const std::unique_ptr<otel::SpanData>> batch, std::string& out);

/// Encodes `batch` as OTLP/JSON (application/json): lowerCamelCase field names, trace and span
/// ids as lower-case hex, enums as integers, 64-bit integers as decimal strings, fields with
/// default values omitted. The output is compact (no whitespace). Null entries are skipped.
/// Thread-safety: reentrant; reads `batch` only. Errors: std::bad_alloc propagates.
std::string EncodeOtlpJson(std::span<const std::unique_ptr<otel::SpanData>> batch);

}  // namespace vllora::otlp
