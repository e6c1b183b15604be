// Binary OTLP (application/x-protobuf, gRPC messages) -> ExportTraceServiceRequest, tolerant of
// invalid UTF-8: protobuf refuses a proto3 `string` field that is not UTF-8, but OTLP senders do
// emit such strings; the collector stores them repaired (U+FFFD) instead of refusing the request.
#pragma once

#include <string>
#include <string_view>

#include "collector/otlp_mapping.h"

namespace vllora::collector::internal {

/// Parses `bytes` into `*request`. When the plain parse fails, every string field (found through
/// the message descriptors) is UTF-8-repaired on the wire and the result is parsed again.
/// Returns false with a one-line reason in `*error` when the bytes are not a valid message
/// (truncated, bad wire type, nesting beyond 100 levels, ...).
/// Thread-safety: reentrant. Never throws except std::bad_alloc.
bool ParseOtlpProtobuf(std::string_view bytes, ExportRequest* request, std::string* error);

}  // namespace vllora::collector::internal
