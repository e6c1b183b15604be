// OTLP/JSON (the "JSON Protobuf Encoding" of the OTLP specification) -> ExportTraceServiceRequest.
//
// Accepted: lowerCamelCase field names (and the original snake_case names), trace/span ids as hex
// (either case; any even length - a wrong length is left to per-span validation), 64-bit integers
// as decimal strings or numbers, enums as numbers (or their names), doubles as numbers or
// "NaN"/"Infinity"/"-Infinity", bytes values as base64, null as absent; unknown fields ignored.
// Bytes that are not UTF-8 are repaired (U+FFFD) before parsing.
// Refused (the whole request; nothing is stored): text that is not JSON, a top level that is not
// an object, a field of the wrong JSON type, ids that are not hex, out-of-range integers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "collector/otlp_mapping.h"

namespace vllora::collector::internal {

enum class JsonDecode {
  kOk,
  kMalformed,  ///< Not an OTLP/JSON ExportTraceServiceRequest (answered 400).
  kTooLarge,   ///< More JSON values than allowed (answered 413); nothing was parsed.
};

/// Decodes `body` into `*request` (cleared first). The values of `body` are counted before it
/// is parsed (objects, arrays and list items: each `{`, `[` and `,` outside strings); with more
/// than `max_values` it returns kTooLarge. Otherwise kMalformed and a one-line reason with the
/// JSON path of the offending field in `*error` (e.g. "resourceSpans[0].scopeSpans[0].spans[2]
/// .traceId: not a hex string"), or kOk.
/// Thread-safety: reentrant. Never throws except std::bad_alloc.
JsonDecode DecodeOtlpJson(std::string_view body, size_t max_values, ExportRequest* request,
                          std::string* error);

}  // namespace vllora::collector::internal
