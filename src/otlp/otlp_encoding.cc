#include "vllora/otlp/otlp_encoding.h"

#include "otlp/otlp_recordable.h"
#include "otlp/otlp_wire.h"

namespace vllora::otlp {

std::string EncodeOtlpProtobuf(std::span<const std::unique_ptr<otel::SpanData>> batch) {
  std::string out;
  internal::EncodeExportRequest(batch, out);
  return out;
}

void EncodeOtlpProtobuf(std::span<const std::unique_ptr<otel::SpanData>> batch, std::string& out) {
  internal::EncodeExportRequest(batch, out);
}

std::string EncodeOtlpJson(std::span<const std::unique_ptr<otel::SpanData>> batch) {
  internal::otlp_collector::ExportTraceServiceRequest request;
  internal::AppendToRequest(batch, request);
  std::string out;
  out.reserve(static_cast<size_t>(request.ByteSizeLong()) * 2 + 64);
  internal::WriteOtlpJson(request, out);
  return out;
}

}  // namespace vllora::otlp
