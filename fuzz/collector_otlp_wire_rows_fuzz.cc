// Fuzz target: bytes as a binary OTLP ExportTraceServiceRequest -> the wire decoder
// (DecodeOtlpWireRows, what the gRPC and HTTP/protobuf receivers run first). Checks that it reads
// only inside the input (ASan), and that whenever it decodes a request, the reference path
// (protobuf parse + MapExportRequest) accepts the same bytes and gives exactly the same rows,
// rejection count and message. When it falls back, it must have left no rows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "collector/otlp_protobuf.h"
#include "collector/otlp_wire_rows.h"
#include "collector_row_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace internal = vllora::collector::internal;
  using vllora::collector::SpanRow;
  using vllora::collector::fuzz::Check;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  internal::DecodedRequest decoded;
  const internal::WireDecode result = internal::DecodeOtlpWireRows(bytes, "fuzz-tenant", &decoded);
  internal::ExportRequest request;
  std::string error;
  const bool reference_ok = internal::ParseOtlpProtobuf(bytes, &request, &error);
  if (result == internal::WireDecode::kFallBack) {
    Check(decoded.batch.empty() && decoded.batch.text.empty() && decoded.rejected_spans == 0);
    return 0;
  }
  Check(reference_ok);
  const internal::MappedRequest mapped = internal::MapExportRequest(request, "fuzz-tenant");
  Check(decoded.rejected_spans == mapped.rejected_spans);
  Check(decoded.error_message == mapped.error_message);
  Check(decoded.batch.size() == mapped.rows.size());
  for (size_t i = 0; i < mapped.rows.size(); ++i) {
    const SpanRow row = decoded.batch.Get(i);
    const SpanRow& want = mapped.rows[i];
    Check(row.trace_id == want.trace_id && row.span_id == want.span_id &&
          row.parent_span_id == want.parent_span_id && row.thread_id == want.thread_id &&
          row.operation_name == want.operation_name && row.start_time_us == want.start_time_us &&
          row.finish_time_us == want.finish_time_us && row.attribute == want.attribute &&
          row.run_id == want.run_id && row.project_id == want.project_id &&
          row.tenant == want.tenant && row.label == want.label && row.tags == want.tags &&
          row.kind == want.kind && row.status_code == want.status_code &&
          row.status_message == want.status_message && row.events == want.events &&
          row.resource == want.resource && row.scope_name == want.scope_name);
  }
  vllora::collector::fuzz::CheckMappedRows(request, "fuzz-tenant");
  return 0;
}
