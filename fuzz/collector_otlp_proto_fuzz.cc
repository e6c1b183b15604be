// Fuzz target: bytes as a binary OTLP ExportTraceServiceRequest (what the gRPC and HTTP/protobuf
// receivers get) -> tolerant parse -> per-span validation and row mapping. Checks that every
// produced row is well-formed: ids in their text forms, JSON columns that parse, valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "collector/json_text.h"
#include "collector/otlp_mapping.h"
#include "collector/otlp_protobuf.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckJson(const std::string& text) {
  Check(vllora::collector::internal::IsValidUtf8(text));
  Check(!nlohmann::json::parse(text, nullptr, false).is_discarded());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vllora::collector::internal;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ExportRequest request;
  std::string error;
  if (!ParseOtlpProtobuf(bytes, &request, &error)) {
    Check(!error.empty());
    return 0;
  }
  const MappedRequest mapped = MapExportRequest(request, "fuzz-tenant");
  Check(mapped.rows.size() + static_cast<size_t>(mapped.rejected_spans) == CountSpans(request));
  Check((mapped.rejected_spans == 0) == mapped.error_message.empty());
  for (const auto& row : mapped.rows) {
    Check(row.trace_id.size() == 36);
    Check(!row.span_id.empty() && row.span_id != "0");
    Check(row.finish_time_us >= row.start_time_us);
    Check(IsValidUtf8(row.operation_name) && IsValidUtf8(row.tenant) && !row.tenant.empty());
    CheckJson(row.attribute);
    CheckJson(row.events);
    CheckJson(row.resource);
    if (row.tags) CheckJson(*row.tags);
  }
  return 0;
}
