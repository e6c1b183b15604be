// Binary OTLP ExportTraceServiceRequest -> packed rows (SpanBatch), straight from the wire bytes:
// no protobuf messages, no per-span strings. The result is the same as ParseOtlpProtobuf +
// MapExportRequest (the reference path, kept for what this decoder does not handle itself).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vllora/collector/span_store.h"

namespace vllora::collector::internal {

/// The rows of a request and what was refused.
struct DecodedRequest {
  SpanBatch batch;
  /// Spans refused by validation (partial_success.rejected_spans).
  int64_t rejected_spans = 0;
  /// partial_success.error_message; empty when none.
  std::string error_message;
};

enum class WireDecode {
  kOk,        ///< `out` holds the request's rows.
  kFallBack,  ///< Not decoded, `out->batch` left empty: the bytes are malformed, or use a form
              ///< whose protobuf meaning this decoder does not reproduce (groups, a KeyValue value
              ///< or an array/kvlist value sent twice (merged by protobuf), values nested deeper
              ///< than the JSON columns keep, overlong varints). The reference path decides.
};

/// Decodes `bytes` into `out` (whose batch must be empty; its memory is reused).
/// `header_tenant`: the request's x-project-id ("" when absent).
/// Bounded: no recursion deeper than the 32 value levels the JSON columns keep; reads only
/// inside `bytes`. Thread-safety: reentrant. Errors: std::bad_alloc only.
WireDecode DecodeOtlpWireRows(std::string_view bytes, std::string_view header_tenant,
                              DecodedRequest* out);

/// What the receivers call: DecodeOtlpWireRows, and when it falls back, ParseOtlpProtobuf +
/// MapExportRequestInto. Returns false with a one-line reason in `*error`
/// and no rows when the bytes are not an ExportTraceServiceRequest.
bool DecodeOtlpProtobufRows(std::string_view bytes, std::string_view header_tenant,
                            DecodedRequest* out, std::string* error);

}  // namespace vllora::collector::internal
