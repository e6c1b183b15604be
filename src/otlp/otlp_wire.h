// Private: SpanData -> OTLP protobuf wire bytes, without building protobuf messages.
//
// The export threads' hot path (OTLP/gRPC and OTLP/HTTP protobuf bodies). The output is the
// canonical serialization of the ExportTraceServiceRequest that AppendToRequest()
// (otlp_recordable.h) builds for the same batch: same grouping, UTF-8 repair, presence rules and
// field order, so it is byte-for-byte what SerializeToString() of that message produces
// (tests/unit/otlp/otlp_wire_test.cc checks this). Field numbers are those of proto/.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "vllora/otel/span_data.h"

namespace vllora::otlp::internal {

/// Replaces the contents of `out` with the serialized ExportTraceServiceRequest for `batch`,
/// grouping by resource then scope (first-appearance order). Null entries are skipped.
/// Allocation: grows `out` only (reuse it across batches); a small grouping index.
/// Errors: std::bad_alloc propagates.
void EncodeExportRequest(std::span<const std::unique_ptr<otel::SpanData>> batch, std::string& out);

/// As EncodeExportRequest(), but the request is the first N bytes of `buffer` (N returned) and
/// `buffer` keeps its size beyond them, so a reused buffer is not zero-filled again when its
/// length changes. For the exporters' per-thread buffers.
size_t EncodeExportRequestInto(std::span<const std::unique_ptr<otel::SpanData>> batch,
                               std::string& buffer);

}  // namespace vllora::otlp::internal
